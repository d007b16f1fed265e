HEADER = """`some x in v` where `v` is not a collection iterates nothing, as in OPA. regorus' interpreter
failed the decision; in a rule that calls an authzd extension (which runs on the interpreter)
each plain `some x in v` is written at load as `x := v[_]`, on the same line
(src/policy/some_in_loops.rs). The RVM answered these already."""
I = {"s": "abc", "n": 3, "z": None, "l": ["a", "b"], "o": {"k": "v"}, "t": True}
def c(note, rego, inp=I, rvm=False, strict=False):
    d = {"note": note, "rego": rego, "input": inp, "strict": strict}
    if rvm: d["want_rvm"] = True
    return d
CASES = [
 c("a string, a number, null and a boolean iterate nothing", 'x := [[sprintf("%v", [e]) | some e in input.s], [sprintf("%v", [e]) | some e in input.n], [sprintf("%v", [e]) | some e in input.z], [sprintf("%v", [e]) | some e in input.t]]'),
 c("an array, an object and a set iterate their values", 'x := [[sprintf("%v", [e]) | some e in input.l], [sprintf("%v", [e]) | some e in input.o], [sprintf("%v", [e]) | some e in {"p", "q"}]]'),
 c("a partial set rule's body over a string", 'x contains sprintf("refused: %v", [e]) if {\n  some e in input.s\n}'),
 c("a rule's body over an array, beside a default", 'default x := "none"\nx := sprintf("%v", [e]) if {\n  some e in input.l\n  e == "b"\n}'),
 c("an undefined collection", 'x := [sprintf("%v", [e]) | some e in input.missing]'),
 c("a loop variable that shadows an outer one", 'x := y if {\n  e := 1\n  y := [sprintf("%v", [e]) | some e in input.l]\n}'),
]
