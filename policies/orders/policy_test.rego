package test.orders

import data.orders

# 2026-11-23T10:00:00Z
created := "2026-11-23T10:00:00Z"

ten_minutes_later := time.parse_rfc3339_ns("2026-11-23T10:10:00Z")

an_hour_later := time.parse_rfc3339_ns("2026-11-23T11:00:00Z")

order := {"type": "order", "id": "42", "owner": "10001", "created_at": created}

customer := {"id": "10001", "roles": ["customer"]}

other_customer := {"id": "10002", "roles": ["customer"]}

test_owner_can_view if {
	orders.allow with input as {"subject": customer, "action": "view", "resource": order}
}

test_other_user_cannot_view if {
	not orders.allow with input as {"subject": other_customer, "action": "view", "resource": order}
}

test_owner_can_cancel_within_window if {
	orders.allow with input as {"subject": customer, "action": "cancel", "resource": order}
		with time.now_ns as ten_minutes_later
}

test_owner_cannot_cancel_after_window if {
	not orders.allow with input as {"subject": customer, "action": "cancel", "resource": order}
		with time.now_ns as an_hour_later
}

test_late_cancel_says_why if {
	d := orders.decision with input as {"subject": customer, "action": "cancel", "resource": order}
		with time.now_ns as an_hour_later
	d.reasons == {"orders can only be cancelled within 30 minutes of creation"}
}

test_warehouse_staff_can_process if {
	orders.allow with input as {"subject": {"id": "20001", "roles": []}, "action": "process", "resource": order}
}

test_customer_cannot_process if {
	not orders.allow with input as {"subject": customer, "action": "process", "resource": order}
}

test_admin_can_do_anything if {
	orders.allow with input as {"subject": {"id": "30001"}, "action": "delete", "resource": order}
}
