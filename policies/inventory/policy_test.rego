package test.inventory

import data.inventory

test_anyone_authenticated_can_read if {
	inventory.allow with input as {"subject": {"id": "10001"}, "action": "read"}
}

test_anonymous_cannot_read if {
	not inventory.allow with input as {"subject": {"id": ""}, "action": "read"}
}

test_warehouse_staff_can_update if {
	inventory.allow with input as {"subject": {"id": "20002"}, "action": "update"}
}

test_customer_cannot_update if {
	not inventory.allow with input as {"subject": {"id": "10001", "roles": ["customer"]}, "action": "update"}
}
