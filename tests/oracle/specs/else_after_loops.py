HEADER = """An `else` after a body that iterates: where the loop finds nothing, OPA goes on to the `else`;
regorus' RVM answers undefined (or the default), so such rules run on the interpreter
(src/policy/rule_graph.rs, `else_after_loop`); an `else` after bodies without a loop keeps the RVM."""
U = {"users": [{"name": "ann", "age": 30}, {"name": "bob", "age": 17}]}
def c(note, rego, inp=U, rvm=False):
    return {"note": note, "rego": rego, "input": inp, ("want_rvm" if rvm else "want_interpreter"): True}
CASES = [
 c("some ... in finds nothing: the else answers", 'x := "senior" if { some u in input.users; u.age > 65 } else := "none"'),
 c("some ... in finds one: the first value", 'x := "minor" if { some u in input.users; u.age < 18 } else := "none"'),
 c("a wildcard index finds nothing", 'x := 1 if { u := input.users[_]; u.age > 65 } else := 2'),
 c("the loop in the middle of a chain", 'x := 1 if { input.flag } else := 2 if { some u in input.users; u.age > 65 } else := 3'),
 c("with a default: the else, not the default", 'default x := 0\nx := 1 if { some u in input.users; u.age > 65 } else := 2'),
 c("a function whose first body iterates", 'f(us) := "some" if { some u in us; u.age > 65 } else := "none"\nx := f(input.users)'),
 c("an else after bodies without a loop keeps the RVM", 'x := "flag" if { input.flag } else := "none"', U, True),
]
