HEADER = """rego.parse_module: a module as OPA's AST JSON (src/builtins/parse_module.rs), for meta-policies
and linters written in Rego. Modules are passed as input."""
import os
here = os.path.dirname(os.path.abspath(__file__))
def mod(name): return open(os.path.join(here, "..", "modules", name)).read()
def c(note, src, strict=False, rego='x := rego.parse_module("m.rego", input.src)'):
    return {"note": note, "rego": rego, "input": {"src": src}, "strict": strict}
CASES = [
 c("a policy with imports, comments, every, some, comprehensions, functions, else and with", mod("parse_module_a.rego")),
 c("ref heads, else chains, negation, unary minus, membership", mod("parse_module_b.rego")),
 c("the smallest module", "package a\n"),
 c("OPA's documented RBAC example", mod("parse_module_rbac.rego")),
 c("legacy partial objects and ref heads name their rules as OPA's parser does",
   "package a\nb.c := 1\nm[1] := 2\ne.x := 1 if true\nf.x if true\ng[x] := 1 if { x := 1 }\nh[x] if { x := 1 }\na.f(x) := 2 if true\nb.f(x) := 2\nc.f(x) if true\nd.e.f(x) := 2 if true\nn.o.p contains 1\ndeny contains 1\n"),
 c("wildcards are numbered in source order", "package a\ng(_) := 1\nq := [x | x := input.a[_]]\nr := {x: 1 | x := input.b[_][_]}\n"),
 c("a rule over the parsed module: the names of the rules",
   mod("parse_module_rbac.rego"), rego='x := [r.head.name | some r in rego.parse_module("m.rego", input.src).rules]'),
 c("a syntax error is an error", "package\n", strict=True),
]
