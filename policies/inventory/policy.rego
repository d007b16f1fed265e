# The inventory service: every authenticated user may read stock; only warehouse staff may
# change it. Input: {"identity": {"user": {...}} (verified by authzd, see lib/identity.rego),
# "action": "read" | "update", "resource": {"type": "item", "sku"}}
package inventory

import data.lib.identity

# The verified user's id (the unverified input.subject in demo mode only).
user_id := data.lib.identity.user_id

default allow := false

# Reading needs an authenticated user.
allow if {
	input.action == "read"
	user_id != ""
}

allow if {
	input.action == "update"
	identity.has_role("warehouse_staff")
}

reasons contains "reading stock requires an authenticated subject" if {
	input.action == "read"
	not user_id
}

reasons contains "reading stock requires an authenticated subject" if {
	input.action == "read"
	user_id == ""
}

reasons contains refusal if some refusal in data.lib.identity.refusals

reasons contains "only warehouse staff may update stock" if {
	input.action == "update"
	not identity.has_role("warehouse_staff")
}

decision := {"allow": allow, "reasons": reasons}
