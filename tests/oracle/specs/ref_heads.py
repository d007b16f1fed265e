HEADER = """Documents made of ref-head rules: a path above `v.a := 1` and `v.b.c := ...` is the object of
the rules below it (regorus lists the prefix as a rule it then refuses to evaluate)."""
MOD = 'q["a"] := 1\nw.a := 1 if false\nw.b.c := 2 if false\nv.a := 1\nv.b.c := input.x\np[k] := 1 if some k in ["m"]\nresult.allow := true if input.x > 1\nresult.reasons contains "small" if input.x < 10'
def c(note, path, inp={"x": 5}):
    return {"note": note, "rego": MOD, "input": inp, "path": path}
DYN = 'svc[name].allow := true if { some name in ["orders", "payment"]; input.x == 1 }\nsvc[name].deny := true if { some name in ["orders"]; input.x == 2 }'
CASES = [
 c("a constant key in brackets, asked for its object", "t/q"),
 c("a constant key in brackets, asked for another key", "t/q/b"),
 c("rules below a prefix, one of them two levels down", "t/v"),
 c("one level into a ref-head document", "t/v/b"),
 c("undefined rules are left out, the objects on their way kept", "t/w"),
 c("an object on the way to an undefined rule", "t/w/b"),
 c("a key no rule defines", "t/v/zz"),
 c("the decision object of OPA's documentation: allow and reasons", "t/result"),
 c("the decision object with allow undefined", "t/result", {"x": 0}),
 c("the package holds the ref-head documents", "t"),
 {"note": "a package of functions only is an empty object", "rego": "f(x) := 1\ndefault g(_) := 100", "path": "t"},
 {"note": "a package with no rules is an empty object", "rego": "import rego.v1", "path": "t"},
 {"note": "a function below a ref head makes the objects on its way", "rego": "default p.q.r.f(x) := 100", "path": "t"},
 {"note": "a function inside a ref-head document", "rego": "result.a.f(x) := 1\nresult.b := 2", "path": "t/result"},
 {"note": "a multi-value rule with a variable in its path groups the values by key (runs on the interpreter)", "rego": "x[u.t] contains u.name if some u in input.users", "input": {"users": [{"name": "ann", "t": "t1"}, {"name": "bob", "t": "t2"}, {"name": "cy", "t": "t1"}]}, "path": "t/x", "want_interpreter": True},
 {"note": "the same two levels down", "rego": "x.y[t] contains n if { some u in input.users; t := u.t; n := u.name }", "input": {"users": [{"name": "ann", "t": "t1"}, {"name": "bob", "t": "t2"}]}, "path": "t/x/y", "want_interpreter": True},
 {"note": "a multi-value rule with a constant path keeps the RVM", "rego": "x.a contains n if { some u in input.users; n := u.name }", "input": {"users": [{"name": "ann", "t": "t1"}]}, "path": "t/x/a", "want_rvm": True},
 {"note": "a package of only rules with a variable before their last segment loads, and its document is OPA's", "rego": "svc[name].allow := true if some name in [\"orders\", \"payment\"]", "path": "t"},
 {"note": "a package with such rules and another: the variable is no key of its document", "rego": "svc[name].allow := true if some name in [\"orders\"]\ny := 2", "path": "t"},
 {"note": "a Data API path into a rule with a variable before its last segment (a name it defines)", "rego": DYN, "input": {"x": 1}, "path": "t/svc/orders/allow"},
 {"note": "the same path for a name the rule does not define is undefined", "rego": DYN, "input": {"x": 1}, "path": "t/svc/billing/allow"},
 {"note": "the same path when the rule's body fails", "rego": DYN, "input": {"x": 2}, "path": "t/svc/orders/allow"},
 {"note": "a path through the variable's own name is the key \"name\", which the rule does not define", "rego": DYN, "input": {"x": 1}, "path": "t/svc/name/allow"},
 {"note": "one level into such a rule: the object below the variable", "rego": DYN, "input": {"x": 1}, "path": "t/svc/payment"},
 {"note": "the path up to the variable: an object per name", "rego": DYN, "input": {"x": 1}, "path": "t/svc"},
 {"note": "such rules below a ground prefix with another rule beside them", "rego": "a.svc[name].allow := true if some name in [\"orders\"]\na.x := 1", "path": "t/a"},
 {"note": "a path through the ground prefix into such a rule", "rego": "a.svc[name].allow := true if some name in [\"orders\"]\na.x := 1", "path": "t/a/svc/orders/allow"},
 {"note": "two variables in the path", "rego": "b[k].c[j] := j if { some k in [\"k1\"]; some j in [\"j1\", \"j2\"] }", "path": "t/b/k1/c/j2"},
 {"note": "a package of only such rules, with data beside them", "rego": "svc[name].allow := true if some name in data.names", "data": {"names": ["orders"], "t": {"other": 1}}, "path": "t/svc/orders/allow"},
]
