# The inventory service: every authenticated subject may read stock; only warehouse staff may
# change it. Input: {"subject": {...}, "action": "read" | "update", "resource": {"type": "item", "sku"}}
package inventory

import data.lib.identity

default allow := false

# Reading needs an authenticated subject (the gateway forwards its id).
allow if {
	input.action == "read"
	input.subject.id != ""
}

allow if {
	input.action == "update"
	identity.has_role("warehouse_staff")
}

reasons contains "reading stock requires an authenticated subject" if {
	input.action == "read"
	not input.subject.id
}

reasons contains "reading stock requires an authenticated subject" if {
	input.action == "read"
	input.subject.id == ""
}

reasons contains "only warehouse staff may update stock" if {
	input.action == "update"
	not identity.has_role("warehouse_staff")
}

decision := {"allow": allow, "reasons": reasons}
