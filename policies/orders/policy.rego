# The order service: who may view, cancel and process orders.
#
# Input: {"identity": {"user": {"id", "roles"}, ...} (verified by authzd, see lib/identity.rego),
#         "action": "view" | "cancel" | "process" | ...,
#         "resource": {"type": "order", "id", "owner", "created_at" (RFC 3339)}}
#
# The cheap ownership checks come first: most requests are customers acting on their own
# orders, and a complete rule stops at the first body that holds.
package orders

import data.lib.identity

# Customers may cancel their own order for this long after creating it.
cancel_window_ns := (30 * 60) * 1000000000

# The verified user's id (input.identity.user; the unverified input.subject in demo mode only).
user_id := data.lib.identity.user_id

default allow := false

# A user may view their own orders.
allow if {
	input.action == "view"
	input.resource.owner == user_id
}

# A user may cancel their own order within 30 minutes of its creation.
allow if {
	input.action == "cancel"
	input.resource.owner == user_id
	within_cancel_window
}

# Warehouse staff may process orders.
allow if {
	input.action == "process"
	identity.has_role("warehouse_staff")
}

# Admins may do anything with orders.
allow if identity.has_role("admin")

within_cancel_window if {
	age := time.now_ns() - time.parse_rfc3339_ns(input.resource.created_at)
	age >= 0
	age <= cancel_window_ns
}

# Why a request is denied, for the caller and the audit trail.
reasons contains "the request carries no verified user" if not user_id

reasons contains refusal if some refusal in data.lib.identity.refusals

reasons contains "only the owner may view or cancel this order" if {
	input.action in {"view", "cancel"}
	input.resource.owner != user_id
	not identity.has_role("admin")
}

reasons contains "orders can only be cancelled within 30 minutes of creation" if {
	input.action == "cancel"
	input.resource.owner == user_id
	not within_cancel_window
	not identity.has_role("admin")
}

reasons contains "only warehouse staff may process orders" if {
	input.action == "process"
	not identity.has_role("warehouse_staff")
	not identity.has_role("admin")
}

reasons contains sprintf("unknown action %q", [input.action]) if {
	not input.action in {"view", "cancel", "process"}
	not identity.has_role("admin")
}

# The full answer: allow or deny, and why.
decision := {"allow": allow, "reasons": reasons}
