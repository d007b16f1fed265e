# Who is asking, as far as the policies may trust it.
#
# authzd's identity step verifies the request's credentials before every decision and puts
# what it verified into input.identity (README, "Zero trust: verified identity"):
#   input.identity.user    the end user: a gateway-signed user context, or a JWT's claims
#   input.identity.caller  the calling service: {"service", "instance"} of a service token
#   input.identity.peer    the mTLS peer (Envoy's source principal, a SPIFFE ID)
#   input.identity.errors  [{"source", "code"}] for each credential that was present but refused
# Whatever the client put in input.identity itself is removed first.
#
# Demo mode (lib/data.yaml): when authzd verifies nothing, input.identity is absent and these
# rules fall back to the client's unverified input.subject and input.caller.
#
# Other packages call the rules here by their full path (data.lib.identity.user_id) and
# has_role(...) as a function: both are direct calls on authzd's fast path, while a rule reached
# through an import alias is looked up as part of the whole lib.identity document (README,
# "Writing fast policies").
package lib.identity

# The end user. (Each `else` is guarded by a condition rather than by an assignment in the body:
# regorus' RVM does not fall through to `else` when an assignment `x := <undefined>` fails.)
user := input.identity.user if input.identity.user
else := input.subject if demo_mode

# The user's id: `id` in a gateway's user context, `sub` in a JWT's claims.
user_id := user.id if user.id
else := user.sub

# The calling service.
caller := input.identity.caller if input.identity.caller
else := input.caller if demo_mode

# The unverified fields count only in demo mode, and only while authzd verifies nothing.
demo_mode if {
	not input.identity
	data.lib.demo.trust_unverified_input == true
}

# Why a credential was refused, for the reasons a decision gives.
refusals contains sprintf("%s refused: %s", [e.source, e.code]) if {
	some e in input.identity.errors
}

# The user holds `role`, from their verified context or token...
has_role(role) if role in user.roles

# ...or from the bindings in data, by the user's id. Each index is a path into the input, not
# user_id: data.rbac.bindings has number-like keys ("30001"), which only the interpreter matches
# with a number, and authzd keeps such a rule on its fast path only while it can check, per
# request, that the index holds no number (README, "How a decision is evaluated").
has_role(role) if role in data.rbac.bindings[input.identity.user.id]

has_role(role) if {
	not input.identity.user.id
	role in data.rbac.bindings[input.identity.user.sub]
}

has_role(role) if {
	demo_mode
	role in data.rbac.bindings[input.subject.id]
}
