HEADER = """`some x in v` where `v` is not a collection iterates nothing, as in OPA. regorus' interpreter
failed the decision (a whole package's document runs there, and so does `--no-rvm`). At load,
on the same line (src/policy/some_in_loops.rs), `some x in v` is written `x := v[_]`,
`some k, x in v` is written `x = v[k]`, and a pattern `some [a, _] in v` is written
`[a, _] = v[_]`; a call's value is indexed as a reference is, `f(x)[_]`. The RVM answered
these already."""
I = {"s": "abc", "n": 3, "z": None, "l": ["a", "b"], "o": {"k": "v"}, "t": True}
P = {"s": "abc", "n": 3, "l": [["a", 1], ["b", 2], ["c"]], "o": {"p": {"name": "x", "tags": [1, 2]}, "q": {"name": "y"}}}
def c(note, rego, inp=I, rvm=False, strict=False, path=None):
    d = {"note": note, "rego": rego, "input": inp, "strict": strict}
    if path: d["path"] = path
    if rvm: d["want_rvm"] = True
    return d
CASES = [
 c("a string, a number, null and a boolean iterate nothing", 'x := [[sprintf("%v", [e]) | some e in input.s], [sprintf("%v", [e]) | some e in input.n], [sprintf("%v", [e]) | some e in input.z], [sprintf("%v", [e]) | some e in input.t]]'),
 c("an array, an object and a set iterate their values", 'x := [[sprintf("%v", [e]) | some e in input.l], [sprintf("%v", [e]) | some e in input.o], [sprintf("%v", [e]) | some e in {"p", "q"}]]'),
 c("a partial set rule's body over a string", 'x contains sprintf("refused: %v", [e]) if {\n  some e in input.s\n}'),
 c("a rule's body over an array, beside a default", 'default x := "none"\nx := sprintf("%v", [e]) if {\n  some e in input.l\n  e == "b"\n}'),
 c("an undefined collection", 'x := [sprintf("%v", [e]) | some e in input.missing]'),
 c("a loop variable that shadows an outer one", 'x := y if {\n  e := 1\n  y := [sprintf("%v", [e]) | some e in input.l]\n}'),
 c("a key and a value over a string, a number and null", 'x := [[[k, v] | some k, v in input.s], [k | some k, _ in input.n], [v | some _, v in input.z]]'),
 c("a key and a value over an array, an object and a set", 'x := [[[k, v] | some k, v in input.l], [k | some k, _ in input.o], [[k, v] | some k, v in {"p", "q"}]]'),
 c("a key bound before the loop is left to regorus and filters as OPA reads it", 'x := [v | some k in ["a", "b"]; w := [u | some j, u in input.l; j == 1]; v := [k, w]]'),
 c("a whole package's document, which runs on the interpreter", 'r contains e if { some e in input.s }\nq contains k if { some k, _ in input.s }\nw := count(r) + count(q)', path="t"),
 c("a key named like a rule is left alone", 'k := 1\nx := [v | some k, v in input.l]', path="t/x"),
 c("a loop in a function over its argument", 'f(xs) := [x | some x in xs]\nx := [f(input.s), f(input.l)]', rvm=True),
 c("an array pattern over a string, a number and an array of pairs", 'x := [[a | some [a, _] in input.s], [a | some [a, _] in input.n], [[a, b] | some [a, b] in input.l]]', inp=P),
 c("an object pattern, with a key, over an object and a string", 'x := [[[k, n] | some k, {"name": n} in input.o], [n | some _, {"name": n} in input.s]]', inp=P),
 c("a pattern with a scalar and a nested pattern filters", 'x := [[t | some {"name": "x", "tags": [t, _]} in input.o], [b | some ["b", b] in input.l]]', inp=P),
 c("a rule's body over a string with a pattern, beside a default", 'default x := false\nx if {\n  some [role, "admin"] in input.s\n  role != ""\n}', inp=P),
 c("a whole package's document with pattern loops", 'r contains a if { some [a, _] in input.s }\nq contains n if { some k, {"name": n} in input.o; k != "q" }', inp=P, path="t"),
 c("a pattern variable that shadows an outer one is left to regorus", 'x := y if {\n  b := 2\n  y := [a | some [a, b] in input.l]\n}', inp=P),
 c("a loop over a call's value, which may not be a collection", 'x := [[e | some e in object.get(input, "s", [])], [e | some e in split(input.s, "")], [[k, e] | some k, e in object.get(input, "n", {})]]', inp=P),
 c("a rule over a call's value keeps the RVM", 'default x := false\nx if {\n  some e in object.get(input, "s", [])\n  e == "abc"\n}', inp=P, rvm=True),
 c("a name an earlier comprehension used is free for the loop", 'x := [[k | y := [v | v := input.l[_]]; some k, v in input.s; v != y[0]], [k | y := [v | some v in input.l]; some k, v in input.o; v != y]]', inp=P),
]
