HEADER = """A variable that `some` declares with the name of a rule of the package (in any of
its files) is a local of its own, as in OPA: `some r in input.roles` beside a rule `r`. regorus
refused the bundle (`var r used before definition below`) or read the rule (`some r;
input.roles[r]`); at load each such variable is renamed in its scope, on the same lines
(src/policy/comprehension_scopes.rs)."""
IN = {"roles": ["admin", "dev"]}
def c(note, rego, rvm=None, path="t/x", rule="r := 5\n"):
    case = {"note": note, "rego": rule + rego, "input": IN, "path": path}
    if rvm: case["want_rvm"] = True
    return case
CASES = [
 c("some x in, in a rule body", 'default x := false\nx if { some r in input.roles; r == "admin" }', rvm=True),
 c("some x; and a reference, in a rule body", 'default x := false\nx if { some r; input.roles[r] == "admin" }'),
 c("in a partial set's head and body", 'x contains r if some r in input.roles', rvm=True),
 c("in a partial object's key", 'x[r] := true if { some r in input.roles }'),
 c("in an array comprehension", 'x := [r | some r in input.roles]', rvm=True),
 c("in a set comprehension with a key", 'x := {r | some i, r in input.roles; i > 0}'),
 c("the rule itself is still read outside the scope", 'x := [r, [r | some r in input.roles]]', rvm=True),
 dict(c("the rule in another file of the package", 'default x := false\nx if { some r in input.roles; r == "admin" }', rvm=True, rule=""), more=["package t\nr := 5\n"]),
 dict(c("some x; of a rule in another file", 'x contains r if { some r; input.roles[r] }', rule=""), more=["package t\n\ndefault r := 5\n"]),
 dict(c("a rule of another package with the name is no rule here", 'x := [r | some r in input.roles]', rule="", rvm=True), more=["package u\nr := 5\n"]),
]
