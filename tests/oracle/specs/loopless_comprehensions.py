HEADER = """A comprehension with no loop of its own inside a rule that iterates: where the comprehension's
body fails, regorus' RVM drops that iteration of the enclosing loop (`{}` for the first case, `{1}`
in OPA), so such rules run on the interpreter (src/policy/loopless_comprehensions.rs); a
comprehension that iterates itself keeps the RVM."""
U = {"users": [{"name": "ann", "roles": ["admin"]}, {"name": "bob", "roles": ["viewer"]}, {"name": "cy", "roles": []}]}
def c(note, rego, inp=U, rvm=False):
    return {"note": note, "rego": rego, "input": inp, ("want_rvm" if rvm else "want_interpreter"): True}
CASES = [
 c("a partial set over a loop, counting an empty set comprehension", 'x contains y if { some y in [1, 2, 3]; count({true | y > 1}) == 0 }'),
 c("the users without the admin role: a deny that counts a loopless comprehension", 'x contains u.name if { some u in input.users; count([1 | u.roles[0] == "admin"]) == 0 }'),
 c("a boolean rule over a loop", 'default x := false\nx if { some u in input.users; count([1 | u.name == "zed"]) == 0 }'),
 c("an iteration by a wildcard index", 'x contains y if { y := [1, 2, 3][_]; count([true | y > 1]) == 0 }'),
 c("an iteration by a variable index", 'x contains i if { some i; input.users[i]; count({"k": 1 | i > 0}) == 0 }'),
 c("inside an array comprehension", 'x := [y | some y in [1, 2, 3]; s := {true | y > 1}; count(s) == 0]'),
 c("a comprehension without a condition that can fail", 'x contains y if { some y in [1, 2, 3]; count([true | false]) == 0 }'),
 c("a comprehension that iterates keeps the RVM", 'x contains u.name if { some u in input.users; count([r | some r in u.roles; r == "admin"]) == 0 }', rvm=True),
 c("a loopless comprehension in a rule that does not iterate keeps the RVM", 'default x := false\nx if { count({true | input.users[0].name == "zed"}) == 0 }', rvm=True),
]
