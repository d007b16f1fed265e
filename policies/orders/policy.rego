# The order service: who may view, cancel and process orders.
#
# Input: {"subject": {"id", "roles"}, "action": "view" | "cancel" | "process" | ...,
#         "resource": {"type": "order", "id", "owner", "created_at" (RFC 3339)}}
package orders

import data.lib.identity

# Customers may cancel their own order for this long after creating it.
cancel_window_ns := (30 * 60) * 1000000000

default allow := false

# Admins may do anything with orders.
allow if identity.is_admin

# A user may view their own orders.
allow if {
	input.action == "view"
	is_owner
}

# A user may cancel their own order within 30 minutes of its creation.
allow if {
	input.action == "cancel"
	is_owner
	within_cancel_window
}

# Warehouse staff may process orders.
allow if {
	input.action == "process"
	identity.has_role("warehouse_staff")
}

is_owner if input.resource.owner == input.subject.id

within_cancel_window if {
	created := time.parse_rfc3339_ns(input.resource.created_at)
	age := time.now_ns() - created
	age >= 0
	age <= cancel_window_ns
}

# Why a request is denied, for the caller and the audit trail.
reasons contains "only the owner may view or cancel this order" if {
	input.action in {"view", "cancel"}
	not is_owner
	not identity.is_admin
}

reasons contains "orders can only be cancelled within 30 minutes of creation" if {
	input.action == "cancel"
	is_owner
	not within_cancel_window
	not identity.is_admin
}

reasons contains "only warehouse staff may process orders" if {
	input.action == "process"
	not identity.has_role("warehouse_staff")
	not identity.is_admin
}

reasons contains sprintf("unknown action %q", [input.action]) if {
	not input.action in {"view", "cancel", "process"}
	not identity.is_admin
}

# The full answer: allow or deny, and why.
decision := {"allow": allow, "reasons": reasons}
