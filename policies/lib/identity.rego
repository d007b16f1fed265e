# Who the caller is: the verified subject forwarded by the gateway, plus the role bindings
# shipped with the bundle (data.rbac.bindings) for subjects whose token carries no roles.
#
# Other packages call has_role(...) rather than referring to rules here: a function call is a
# direct call on authzd's fast path, while a rule reached through an import is looked up as
# part of the whole lib.identity document (see README, "Writing fast policies").
package lib.identity

# The subject holds `role`, from its token...
has_role(role) if role in input.subject.roles

# ...or from the bindings in data.
has_role(role) if role in data.rbac.bindings[input.subject.id]
