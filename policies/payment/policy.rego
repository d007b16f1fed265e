# The payment service: only the order service may initiate payments, and only billing admins
# may refund. Input: {"identity": {"caller": {"service", "instance"}, "user": {...}} (verified by
# authzd, see lib/identity.rego), "action": "initiate" | "refund", "resource": {"type": "payment", ...}}
package payment

import data.lib.identity

# The verified calling service, from its service token (input.identity.caller; the unverified
# input.caller in demo mode only), or "" when there is none.
caller_service := data.lib.identity.caller.service if data.lib.identity.caller.service
else := ""

default allow := false

# Service-to-service: only the services listed in data.payment.initiators may initiate.
allow if {
	input.action == "initiate"
	caller_service in data.payment.initiators
}

# Refunds need a billing admin.
allow if {
	input.action == "refund"
	identity.has_role("billing_admin")
}

reasons contains sprintf("service %q may not initiate payments", [caller_service]) if {
	input.action == "initiate"
	not caller_service in data.payment.initiators
}

reasons contains refusal if some refusal in data.lib.identity.refusals

reasons contains "refunds require the billing_admin role" if {
	input.action == "refund"
	not identity.has_role("billing_admin")
}

decision := {"allow": allow, "reasons": reasons}
