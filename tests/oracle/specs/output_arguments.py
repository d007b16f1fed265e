HEADER = """OPA's output argument for authzd's extension builtins: `glob.match(p, [":"], s, x)` is
`x = glob.match(p, [":"], s)` (OPA's conformance cases are written that way); and `walk` as a
relation: `[p, v] := walk(x)` iterates as `walk(x, [p, v])`."""
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"
CASES = [
 {"note": "the result bound to a new variable", "rego": 'x := y if glob.match("*:github:com", [":"], "api:github:com", y)'},
 {"note": "a false result bound", "rego": 'x := y if glob.match("*.github.com", ["."], "api.cdn.github.com", y)'},
 {"note": "a literal output compared with the result: equal", "rego": 'x if glob.match("a.*", ["."], input.s, true)', "input": {"s": "a.b"}},
 {"note": "a literal output compared with the result: different", "rego": 'x if glob.match("a.*", ["."], input.s, true)', "input": {"s": "b.b"}},
 {"note": "a variable bound before, compared", "rego": 'x if { y := ["a", "b"]; strings.split_n("a,b,c", ",", 2, y) }'},
 {"note": "negated, with the output a literal", "rego": 'x if not glob.match("a.*", ["."], input.s, true)', "input": {"s": "b.b"}},
 {"note": "negated, with the argument undefined", "rego": 'x if not glob.match("a.*", ["."], input.s, true)', "input": {}},
 {"note": "inside a comprehension", "rego": 'x := [r | some s in ["a.b", "c"]; glob.match("*.*", ["."], s, r)]'},
 {"note": "inside a function body", "rego": 'f(s) := r if numbers.range(1, s, r)\nx := f(3)'},
 {"note": "sprintf, an override of regorus' own", "rego": 'x := s if sprintf("%d-%s", [1, "a"], s)'},
 {"note": "destructuring a token's parts", "rego": 'x := c if io.jwt.decode(input.t, [_, c, _])', "input": {"t": TOKEN}},
 {"note": "a call written over several lines", "rego": 'x := y if {\n  array.flatten(\n    [[1], [2, [3]]],\n    y\n  )\n}'},
 {"note": "the result used by the statements after it", "rego": 'x := n if { strings.split_n("a/b/c", "/", 2, parts); n := count(parts) }'},
 {"note": "walk as a relation: each path and value", "rego": 'x := [p | [p, v] := walk({"a": [{"aa": "AA"}]})]'},
 {"note": "walk as a relation, filtered (OPA issue 7656)", "rego": 'o := {"a": [{"b": [{"c": [{"aa": "AA"}, {"bb": "BB"}, {"dd": "DDD"}]}]}]}\nx := {p: v | [p, v] := walk(o); count(v) == 2}'},
 {"note": "walk as a relation with the pair compared", "rego": 'x if walk(input) = [["a"], 1]', "input": {"a": 1}},
]
