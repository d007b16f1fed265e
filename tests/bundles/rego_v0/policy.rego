package legacy

# Rego v0 syntax: no `if`, partial sets with brackets.
default allow = false

allow {
	input.user == "alice"
}

admins[name] {
	some name
	data.legacy.users[name].admin
}

# Heads that can be undefined: an element without an id or a name is left out, as in OPA.
ids[u.id] {
	u := input.users[_]
}

names[u.id] = u.name {
	u := input.users[_]
}
