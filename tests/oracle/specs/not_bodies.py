HEADER = """OPA's `future.keywords.not`: with it imported, `not { ... }` negates a whole body, and a negated
expression keeps its call arguments inside the `not` (an undefined one makes it true). At load,
each negated body becomes `count({true | ...}) == 0` on the same lines (src/bundle/not_bodies.rs)."""
IMP = "import future.keywords.not\n"
def c(note, rego, inp, rvm=None, path="t/x"):
    case = {"note": note, "rego": IMP + rego, "input": inp, "path": path}
    if rvm is True: case["want_rvm"] = True
    if rvm is False: case["want_interpreter"] = True
    return case
BOTH = 'default x := false\nx if not {\n  input.role == "admin"\n  input.mfa == true\n}'
CASES = [
 c("a body whose statements all hold: the negation fails", BOTH, {"role": "admin", "mfa": True}, True),
 c("a body with one statement that fails: the negation holds", BOTH, {"role": "admin", "mfa": False}, True),
 c("a body over missing input: the negation holds", BOTH, {}, True),
 c("statements separated by semicolons, a local variable inside", 'default x := false\nx if { not { r := input.role; r == "admin"; input.mfa } }', {"role": "admin"}, True),
 c("a variable bound before the body is read inside it", 'default x := false\nx if { limit := 3; not { input.n > limit } }', {"n": 2}, True),
 c("some and every inside the body", 'default x := false\nx if not { some r in input.roles; r == "admin"; every g in input.groups { g != "blocked" } }', {"roles": ["admin"], "groups": ["blocked"]}, True),
 c("with applies to the whole body", 'default x := false\nx if { not { input.role == "admin" } with input.role as "guest" }', {"role": "admin"}),
 c("in a partial set over a loop (runs on the interpreter)", 'x contains u.name if { some u in input.users; not { some r in u.roles; r == "admin" } }', {"users": [{"name": "ann", "roles": ["admin"]}, {"name": "bob", "roles": []}]}),
 c("a loop variable read inside the body (runs on the interpreter)", 'x contains y if { some y in [1, 2, 3]; not { y > 1; y < 3 } }', {}, False),
 c("a negated call over an undefined argument holds with the import", 'default x := false\nx if not input.ip in {"10.0.0.1"}', {}),
 c("a negated call over a defined argument", 'default x := false\nx if not input.ip in {"10.0.0.1"}', {"ip": "10.0.0.1"}),
 c("a negated function call over an undefined argument", 'f(v) if v == 1\ndefault x := false\nx if not f(input.v)', {}),
 c("a single expression in braces is a body, not a set", 'default x := false\nx if not { input.flag }', {"flag": False}),
]
