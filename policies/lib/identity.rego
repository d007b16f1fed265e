# Who the caller is: the verified subject forwarded by the gateway, plus the role bindings
# shipped with the bundle (data.rbac.bindings) for subjects whose token carries no roles.
package lib.identity

# Every role of the subject: from its token and from the bindings in data.
roles contains role if some role in input.subject.roles

roles contains role if some role in data.rbac.bindings[input.subject.id]

is_admin if "admin" in roles

has_role(role) if role in roles

# The subject is known: the gateway authenticated someone.
authenticated if input.subject.id != ""
