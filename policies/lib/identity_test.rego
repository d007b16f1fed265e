package test.lib.identity

import data.lib.identity

verified(user) := {"identity": {"user": user}}

test_roles_from_token if {
	identity.has_role("customer") with input as verified({"id": "10001", "roles": ["customer"]})
}

test_roles_from_bindings if {
	identity.has_role("admin") with input as verified({"id": "30001", "roles": []})
}

test_roles_from_bindings_by_jwt_subject if {
	identity.has_role("admin") with input as verified({"sub": "30001"})
}

test_no_roles_for_unknown_subject if {
	not identity.has_role("admin") with input as verified({"id": "99999"})
}

test_a_verified_identity_ignores_the_unverified_fields if {
	not identity.user_id with input as {"identity": {}, "subject": {"id": "30001"}}
	not identity.caller with input as {"identity": {}, "caller": {"service": "order-service"}}
	not identity.has_role("admin") with input as {"identity": {"errors": [{"source": "user_context", "code": "signature_mismatch"}]}, "subject": {"id": "30001"}}
}

test_demo_mode_reads_the_unverified_fields_while_nothing_is_verified if {
	identity.user_id == "30001" with input as {"subject": {"id": "30001"}}
	identity.caller.service == "order-service" with input as {"caller": {"service": "order-service"}}
}

test_demo_mode_off if {
	not identity.user_id with input as {"subject": {"id": "30001"}}
		with data.lib.demo.trust_unverified_input as false
}

test_refusals_say_which_and_why if {
	identity.refusals == {"user_context refused: expired"} with input as {"identity": {"errors": [{"source": "user_context", "code": "expired"}]}}
}
