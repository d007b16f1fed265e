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
