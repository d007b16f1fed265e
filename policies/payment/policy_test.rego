package test.payment

import data.payment

test_order_service_can_initiate if {
	payment.allow with input as {"caller": {"service": "order-service"}, "action": "initiate"}
}

test_other_service_cannot_initiate if {
	not payment.allow with input as {"caller": {"service": "inventory-service"}, "action": "initiate"}
}

test_gateway_cannot_initiate_for_a_user if {
	not payment.allow with input as {
		"caller": {"service": "api-gateway"},
		"subject": {"id": "30001", "roles": ["admin"]},
		"action": "initiate",
	}
}

test_billing_admin_can_refund if {
	payment.allow with input as {"subject": {"id": "40001"}, "action": "refund"}
}

test_customer_cannot_refund if {
	not payment.allow with input as {"subject": {"id": "10001", "roles": ["customer"]}, "action": "refund"}
}

test_denied_initiate_says_why if {
	d := payment.decision with input as {"caller": {"service": "evil"}, "action": "initiate"}
	d.reasons == {"service \"evil\" may not initiate payments"}
}
