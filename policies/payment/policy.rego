# The payment service: only the order service may initiate payments, and only billing admins
# may refund. Input: {"subject": {...}, "caller": {"service"}, "action": "initiate" | "refund",
# "resource": {"type": "payment", ...}}
package payment

import data.lib.identity

default allow := false

# Service-to-service: only the services listed in data.payment.initiators may initiate.
allow if {
	input.action == "initiate"
	input.caller.service in data.payment.initiators
}

# Refunds need a billing admin.
allow if {
	input.action == "refund"
	identity.has_role("billing_admin")
}

reasons contains sprintf("service %q may not initiate payments", [object.get(input, ["caller", "service"], "")]) if {
	input.action == "initiate"
	not input.caller.service in data.payment.initiators
}

reasons contains "refunds require the billing_admin role" if {
	input.action == "refund"
	not identity.has_role("billing_admin")
}

decision := {"allow": allow, "reasons": reasons}
