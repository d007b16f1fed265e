HEADER = """Template strings (OPA v1.12+): $"...{expr}..." and $`...`, rewritten at load into OPA's
internal.template_string call (src/bundle/template_strings.rs, src/builtins/template_string.rs)."""
def c(note, rego, inp=None, strict=False, path=None):
    d = {"note": note, "rego": rego, "strict": strict}
    if inp is not None: d["input"] = inp
    if path is not None: d["path"] = path
    return d
REQ = {"user": "10001", "action": "cancel", "order": {"id": 42, "owner": "10002"}, "roles": ["customer"]}
CASES = [
 c("strings from the input, as written", 'x := $"user {input.user} may not {input.action} order {input.order.id}"', REQ),
 c("an undefined expression is written <undefined>", 'x := $"tenant: {input.tenant}, owner: {input.order.owner}"', REQ),
 c("a deny message in a partial set, OPA's documented use", 'deny contains $"user {input.user} is not the owner of order {input.order.id}" if input.user != input.order.owner\nx := deny', REQ),
 c("a rule body binds the variables", 'x := $"{u} has roles {roles}" if {\n  u := input.user\n  roles := input.roles\n}', REQ),
 c("one message per element of a partial set", 'x contains $"role {r}" if { some r in ["a", "b"] }'),
 c("a function returns a template", 'greet(name) := $"hello, {name}!"\nx := [greet("ann"), greet(7)]'),
 c("scalars: numbers, booleans and null", 'x := $"{1} {-2} {1.5} {true} {false} {null} {12345678901234567890123}"'),
 c("collections are written as OPA prints terms", 'x := $"{[1, "a"]} {{"k": "v", "a": [1]}} {{1, 2}} {set()} {[]} {{}}"'),
 c("strings inside collections are quoted as Go quotes them", 'x := $"{["q\\"uote", "tab\\there", "line\\nbreak", "é", "\\u0001"]}"'),
 c("object keys and set members in OPA's order", 'x := $"{ {"b": 1, "a": 2, 1: 3, null: 4, [1]: 5} } { {null, true, 1, "a", [1], {"a": 1}, {1}} }"'),
 c("a whole object from the input", 'x := $"{input.order}"', REQ),
 c("expressions: calls, comparisons, arithmetic, comprehensions", 'x := $"{count(input.roles)} {upper(input.user)} {input.order.id > 40} {input.order.id * 2} {[r | some r in input.roles]}"', REQ),
 c("a string expression with braces and quotes", 'x := $"{"}"} {"{"} {"a\\"b"}"'),
 c("a template inside an expression", 'x := $"outer {$"inner {1 + 1}"} done"'),
 c("an expression over several lines", 'x := $"sum: {1 +\n  2}"'),
 c("a raw template keeps backslashes and newlines, and \\{ is a brace", 'x := $`path C:\\dir\n{1} \\{literal}`'),
 c("percent signs are text", 'x := $"100% of {input.user} %d %v"', REQ),
 c("the empty template and one without expressions", 'x := [$"", $"plain"]'),
 c("a template compares and counts as a string", 'x := [$"a{1}" == "a1", count($"abc{12}")]'),
 c("a reference to a partial set rule", 'q contains 1\nq contains "a"\nx := $"{q}"'),
 c("an undefined rule", 'q := 1 if false\nx := $"{q}"'),
 c("a conflict between rule values is an error, not a value", 'x := $"{y}" if { some y in [5, 6] }', strict=False),
 c("a value from data", 'x := $"{data.t.limits.max}"\nlimits := {"max": 10}'),
 c("\\{ in a template is a brace", 'x := [$"\\{42}", $"foo \\{42} bar \\{43} baz", $"\\{{42}"]'),
 c("with inside a template expression", 'a := input.a\nx := y if {\n  y := $"foo {a with input as {"a": 42}}"\n}'),
 c("with inside an expression over a collection", 'x := $"{[input.a] with input as {"a": 1}} {input.with}"', {"with": "w"}),
 c("a template string as a function's argument matches by its value", 'x := [f("foo bar"), other]\nother := true if not f("foo baz")\nf($"{z} {input.y}") := 42 if {\n  z = "foo"\n}', {"y": "bar"}),
 c("template arguments beside a plain argument, over bodies with and without braces", 'x := [g("a1"), g("b2"), h("c", "3")]\ng($"a{n}") := n if n := 1\ng($"b{n}") := n if { n := 2 }\nh(c, $"{n}") := n if { n := 3; c == "c" }'),
]
