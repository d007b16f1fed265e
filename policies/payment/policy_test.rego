package test.payment

import data.payment

# What authzd's identity step hands the policy for a verified service token.
from_service(service, action) := {"identity": {"caller": {"service": service, "instance": "i-1"}}, "action": action}

test_order_service_can_initiate if {
	payment.allow with input as from_service("order-service", "initiate")
}

test_other_service_cannot_initiate if {
	not payment.allow with input as from_service("inventory-service", "initiate")
}

test_gateway_cannot_initiate_for_a_user if {
	not payment.allow with input as {
		"identity": {
			"caller": {"service": "api-gateway"},
			"user": {"id": "30001", "roles": ["admin"]},
		},
		"action": "initiate",
	}
}

test_billing_admin_can_refund if {
	payment.allow with input as {"identity": {"user": {"id": "40001"}}, "action": "refund"}
}

test_customer_cannot_refund if {
	not payment.allow with input as {"identity": {"user": {"id": "10001", "roles": ["customer"]}}, "action": "refund"}
}

test_denied_initiate_says_why if {
	d := payment.decision with input as from_service("evil", "initiate")
	d.reasons == {"service \"evil\" may not initiate payments"}
}

# A forged service token is reported in errors and never becomes the caller, whatever
# input.caller says next to it.
test_a_forged_token_does_not_initiate if {
	r := {
		"identity": {"errors": [{"source": "service_token", "code": "signature_mismatch"}]},
		"caller": {"service": "order-service"},
		"action": "initiate",
	}
	d := payment.decision with input as r
	d == {"allow": false, "reasons": {"service \"\" may not initiate payments", "service_token refused: signature_mismatch"}}
}

test_demo_mode_trusts_the_caller_only_without_identity if {
	payment.allow with input as {"caller": {"service": "order-service"}, "action": "initiate"}
	not payment.allow with input as {"identity": {}, "caller": {"service": "order-service"}, "action": "initiate"}
}
