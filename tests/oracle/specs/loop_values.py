HEADER = """Complete rules whose value a loop of the body binds: OPA answers eval_conflict_error where two
iterations give different values, regorus' RVM one of them, so they run on the interpreter; a
value no loop changes keeps the RVM."""
CASES = [
 {"note": "a value taken from an iteration, two different values: a conflict", "rego": 'x := y if { y := input.roles[_] }', "input": {"roles": ["admin", "viewer"]}, "want_interpreter": True},
 {"note": "the same with one value", "rego": 'x := y if { y := input.roles[_] }', "input": {"roles": ["admin"]}, "want_interpreter": True},
 {"note": "some ... in, the value bound after the loop", "rego": 'x := n if { some r in input.roles; n := upper(r) }', "input": {"roles": ["a", "b"]}, "want_interpreter": True},
 {"note": "the lookup idiom finding one match", "rego": 'x := u.name if { some u in input.users; u.id == input.id }', "input": {"id": 2, "users": [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}]}, "want_interpreter": True},
 {"note": "the lookup idiom finding two different matches", "rego": 'x := u.name if { some u in input.users; u.id == input.id }', "input": {"id": 2, "users": [{"id": 2, "name": "ann"}, {"id": 2, "name": "bob"}]}, "want_interpreter": True},
 {"note": "OPA's conformance shape: an object of two loop variables", "rego": 'x := {"a": [a, b]} if { xs = [1, 2]; a = xs[_]; b = xs[_] }', "want_interpreter": True},
 {"note": "a function whose value a loop binds", "rego": 'f(a) := y if { y = a[_] }\nx := f([1, 2, 3])', "want_interpreter": True},
 {"note": "a value with its own loop and no body", "rego": 'x := input.roles[_]', "input": {"roles": ["a", "b"]}, "want_interpreter": True},
 {"note": "a constant value after a loop keeps the RVM", "rego": 'x := true if { some r in input.roles; r == "admin" }', "input": {"roles": ["viewer", "admin"]}, "want_rvm": True},
 {"note": "a value bound before the loop keeps the RVM", "rego": 'x := n if { n := input.name; some r in input.roles; r == n }', "input": {"name": "a", "roles": ["a", "b"]}, "want_rvm": True},
 {"note": "a lookup by an assigned key is no loop and keeps the RVM", "rego": 'x := data.flags[k] if k := input.k', "input": {"k": "beta"}, "data": {"flags": {"beta": True}}, "want_rvm": True},
 {"note": "an else value bound by a loop of its own body", "rego": 'x := 1 if input.x else := v if { some v in input.roles }', "input": {"x": False, "roles": ["a", "b"]}, "want_interpreter": True},
]
