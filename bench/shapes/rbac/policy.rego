package rbac

# OPA's canonical RBAC shape: a default and several bodies, policy and data side by side.
default allow := false

allow if {
	u := data.rbac.users[input.user]
	"admin" in u.roles
}

allow if {
	u := data.rbac.users[input.user]
	input.action == "read"
	u.tenant == input.tenant
}

allow if {
	u := data.rbac.users[input.user]
	input.action == "write"
	input.order in u.orders
}
