package test.orders

import data.orders

# 2026-11-23T10:00:00Z
created := "2026-11-23T10:00:00Z"

ten_minutes_later := time.parse_rfc3339_ns("2026-11-23T10:10:00Z")

an_hour_later := time.parse_rfc3339_ns("2026-11-23T11:00:00Z")

order := {"type": "order", "id": "42", "owner": "10001", "created_at": created}

customer := {"id": "10001", "roles": ["customer"]}

other_customer := {"id": "10002", "roles": ["customer"]}

# What authzd's identity step hands the policy for a verified user.
as_user(user, action) := {"identity": {"user": user}, "action": action, "resource": order}

test_owner_can_view if {
	orders.allow with input as as_user(customer, "view")
}

test_other_user_cannot_view if {
	not orders.allow with input as as_user(other_customer, "view")
}

test_owner_can_cancel_within_window if {
	orders.allow with input as as_user(customer, "cancel")
		with time.now_ns as ten_minutes_later
}

test_owner_cannot_cancel_after_window if {
	not orders.allow with input as as_user(customer, "cancel")
		with time.now_ns as an_hour_later
}

test_late_cancel_says_why if {
	d := orders.decision with input as as_user(customer, "cancel")
		with time.now_ns as an_hour_later
	d.reasons == {"orders can only be cancelled within 30 minutes of creation"}
}

test_warehouse_staff_can_process if {
	orders.allow with input as as_user({"id": "20001", "roles": []}, "process")
}

test_customer_cannot_process if {
	not orders.allow with input as as_user(customer, "process")
}

test_admin_can_do_anything if {
	orders.allow with input as as_user({"id": "30001"}, "delete")
}

test_jwt_claims_identify_the_owner if {
	orders.allow with input as as_user({"sub": "10001", "iss": "https://gateway.example.com"}, "view")
}

# A forged context never becomes input.identity.user: authzd reports it in errors instead, and
# the unverified input.subject next to it does not count.
test_a_refused_credential_is_denied_and_explained if {
	r := {
		"identity": {"errors": [{"source": "user_context", "code": "signature_mismatch"}]},
		"subject": {"id": "10001"},
		"action": "view",
		"resource": order,
	}
	d := orders.decision with input as r
	d.allow == false
	d.reasons == {
		"the request carries no verified user",
		"user_context refused: signature_mismatch",
	}
}

test_demo_mode_trusts_the_subject_only_without_identity if {
	orders.allow with input as {"subject": customer, "action": "view", "resource": order}
	not orders.allow with input as {"subject": customer, "action": "view", "resource": order}
		with data.lib.demo.trust_unverified_input as false
}
