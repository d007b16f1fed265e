HEADER = """Values that may be undefined where regorus' RVM takes them as defined: an assignment no later
statement reads, an array or object comprehension's element. OPA leaves the element out (or the
body fails); the RVM collects "<undefined>" (or holds), so such rules run on the interpreter
(src/policy/unchecked_values.rs), and the rest keep the RVM."""
I = {"users": [{"name": "ann", "roles": ["admin"]}, {"roles": []}, {"name": False}, {"name": None}],
     "by_id": {"u1": {"name": "ann"}, "u2": {}}}
def c(note, rego, inp=I, rvm=False):
    return {"note": note, "rego": rego, "input": inp, ("want_rvm" if rvm else "want_interpreter"): True}
CASES = [
 c("the names of the users that have one", 'x := [u.name | some u in input.users]'),
 c("a name assigned last in the body", 'x := [y | some u in input.users; y := u.name]'),
 c("a name through a builtin", 'x := [y | some u in input.users; y := upper(u.name)]', {"users": [{"name": "ann"}, {}]}),
 c("count of the defined names: a deny that counts them", 'x := count([y | some u in input.users; y := u.name])'),
 c("deny when some user lacks a name: the count decides", 'default allow := false\nallow if count([n | some u in input.users; n := u.name]) == count(input.users)\nx := allow'),
 c("an object comprehension keyed by id", 'x := {id: n | some id, u in input.by_id; n := u.name}'),
 c("an undefined input in the body", 'x := [y | some u in input.users; y := input.missing]'),
 c("a value through a function that is undefined for some", 'name(u) := u.name\nx := [y | some u in input.users; y := name(u)]'),
 c("an index expression", 'x := [y | some u in input.users; y := u["name"]]'),
 c("a nested reference", 'x := [y | some u in input.users; y := u.name.first]', {"users": [{"name": {"first": "a"}}, {"name": {}}]}),
 c("false and null elements stay", 'x := [u.name | some u in input.users]', {"users": [{"name": False}, {"name": None}]}),
 c("nested comprehensions of bound variables keep the RVM", 'x := [[r | some r in u.roles; r != "x"] | some u in input.users]', rvm=True),
 c("an assignment never read: allow must not hold without the user", 'default allow := false\nallow if { u := input.user; true }\nx := allow', {}),
 c("an assignment read later keeps the RVM", 'default allow := false\nallow if { u := input.user; u != "root" }\nx := allow', {}, rvm=True),
 c("a message the head reads keeps the RVM", 'deny contains msg if { some u in input.users; not u.name; msg := concat(" ", ["a user with", format_int(count(u.roles), 10), "roles has no name"]) }\nx := deny', I, rvm=True),
 c("arithmetic on bound variables keeps the RVM", 'x := [y | some u in input.users; y := count(u.roles) * 2; y >= 0]', I, rvm=True),
 c("a set comprehension keeps the RVM", 'x := {n | some u in input.users; n := u.name}', I, rvm=True),
 c("a lookup as an existence check: an unknown user is not allowed", 'users := {"ann": {}}\ndefault allow := false\nallow if {\n  user := users[input.user]\n  input.method == "GET"\n}\nx := allow', {"user": "mallory", "method": "GET"}),
 c("the same lookup for a known user", 'users := {"ann": {}}\ndefault allow := false\nallow if {\n  user := users[input.user]\n  input.method == "GET"\n}\nx := allow', {"user": "ann", "method": "GET"}),
 c("an assignment inside a function, never read", 'f(u) := 1 if { n := u.name }\nx := [f(u) | some u in input.users]'),
 c("a rule as the element, never read by the body", 'r := input.missing\nx := [r | some u in input.users]'),
 c("a rule as an object comprehension's value, never read by the body", 'r := input.missing\nx := {i: r | some i, u in input.users}'),
 c("a rule as the element, read by the body, keeps the RVM", 'r := count(input.users)\nx := [r | some u in input.users; r > 0]', I, rvm=True),
]
