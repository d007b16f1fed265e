HEADER = """A comprehension's own `some` variables shadow the rule's variables of the same name, as in OPA
(regorus refused `some u in` there, and its interpreter read the outer `u` for `some u; xs[u]`)."""
CASES = [
 {"note": "some ... in inside a comprehension, the name bound outside it", "rego": 'x := v if { u := 1; v := [u | some u in [3]] }'},
 {"note": "the common shape: a user, and every admin user", "rego": 'x := [user, admins] if { user := input.user; admins := [user.name | some user in data.users; user.admin] }', "input": {"user": "ann"}, "data": {"users": [{"name": "bob", "admin": True}, {"name": "cy", "admin": False}]}},
 {"note": "a key and value of some ... in in an object comprehension", "rego": 'x := [v, u] if { u := 1; v := {k: u | some k, u in {"a": 5}} }'},
 {"note": "the outer name bound by a loop of its own", "rego": 'x := v if { some u in [1]; v := [u | some u in [3]] }'},
 {"note": "a function argument of the same name", "rego": 'f(u) := [u | some u in [3]]\nx := f(1)'},
 {"note": "some u, then an index, after an outer u (the interpreter read the outer one)", "rego": 'x := v if { u := 1; v := [u | some u; [3][u]] }'},
 {"note": "the shadowed name used in a statement after the some", "rego": 'x := v if { u := 1; v := [w | some u in [3]; w := u * 2] }'},
 {"note": "the outer name is still read outside the comprehension", "rego": 'x := [u, v] if { u := 1; v := count([u | some u in [3, 4]]) }'},
]
