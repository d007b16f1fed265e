package users

# The same rules in the package whose data is the large base document `data.users`. OPA rejects
# `data.users[input.user]` here as recursion (rego_recursion_error: the ref may name the rule
# itself), so the user record comes from `data.profiles`: what is measured is the cost of a
# rule merged into a 100k-key base document.
default allow := false

allow if {
	u := data.profiles[input.user]
	"admin" in u.roles
}

allow if {
	u := data.profiles[input.user]
	input.action == "read"
	u.tenant == input.tenant
}

allow if {
	u := data.profiles[input.user]
	input.action == "write"
	input.order in u.orders
}
