package test.inventory

import data.inventory

as_user(user, action) := {"identity": {"user": user}, "action": action}

test_anyone_authenticated_can_read if {
	inventory.allow with input as as_user({"id": "10001"}, "read")
}

test_anonymous_cannot_read if {
	not inventory.allow with input as as_user({"id": ""}, "read")
	not inventory.allow with input as {"identity": {}, "action": "read"}
}

test_warehouse_staff_can_update if {
	inventory.allow with input as as_user({"id": "20002"}, "update")
}

test_customer_cannot_update if {
	not inventory.allow with input as as_user({"id": "10001", "roles": ["customer"]}, "update")
}
