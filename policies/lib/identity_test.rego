package test.lib.identity

import data.lib.identity

test_roles_from_token if {
	identity.has_role("customer") with input as {"subject": {"id": "10001", "roles": ["customer"]}}
}

test_roles_from_bindings if {
	identity.has_role("admin") with input as {"subject": {"id": "30001", "roles": []}}
}

test_no_roles_for_unknown_subject if {
	not identity.has_role("admin") with input as {"subject": {"id": "99999"}}
}
