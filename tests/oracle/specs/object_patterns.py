HEADER = """Object patterns match only objects with the same keys, as in OPA: `{"k": v} := input.o` fails
when `input.o` has other keys. regorus matched the keys the pattern names; at load each such
statement is followed by the key count of every object in its pattern, on the same line
(src/policy/object_patterns.rs). A pattern after `some ... in` is matched against each element
the same way, and so is a function's argument (`f({"k": v}) := v`)."""
L = {"l": [{"k": 1}, {"k": 2, "j": 3}, {"j": 4}, [1], {"k": {"n": 5}}, {"k": {"n": 6, "x": 0}}]}
O = {"o": {"k": 1, "j": 2}, "p": {"k": 1}, "l": [{"k": {"n": 1}}], "m": [{"k": {"n": 1, "x": 0}}]}
def c(note, rego, inp=O, rvm=None, path="t/x"):
    case = {"note": note, "rego": rego, "input": inp, "path": path}
    if rvm: case["want_rvm"] = True
    return case
CASES = [
 c(":= with an object that has another key fails", 'default x := false\nx if { {"k": v} := input.o; v == 1 }', rvm=True),
 c(":= with an object of the same keys binds", 'default x := false\nx if { {"k": v} := input.p; v == 1 }', rvm=True),
 c("= with the pattern on the right, a braceless body", 'default x := false\nx if input.o = {"k": _}'),
 c("= with the pattern on the left, all keys named", 'x := v if {"k": 1, "j": v} = input.o', rvm=True),
 c("a nested object pattern in an array", 'x := [v | [{"k": {"n": v}}] := input[name]]'),
 c("in a comprehension over a loop", 'x := [k | some k, o in input; is_object(o); {"k": _} = o]'),
 c("an object value on the right is not a pattern", 'x := o if { o := {"k": input.p.k}; o.k == 1 }', rvm=True),
 c("some pattern in: only elements with the same keys", 'x contains v if some {"k": v} in input.l', inp=L, rvm=True),
 c("some key, pattern in", 'x contains [i, v] if { some i, {"k": v} in input.l }', inp=L),
 c("some pattern in: nested objects", 'x := [v | some {"k": {"n": v}} in input.l]', inp=L, rvm=True),
 c("some pattern in: all keys named", 'x := {v | some {"k": v, "j": 3} in input.l}', inp=L),
 c("some pattern in, over an object's values", 'x contains k if { some k, {"n": _} in {"a": {"n": 1}, "b": {"n": 2, "m": 3}} }'),
 c("some array pattern in: arrays have their length", 'x contains v if some [v] in input.l', inp=L, rvm=True),
 c("a function's object argument: only objects with the same keys", 'f({"k": v}) := v\nx contains v if { some o in input.l; v := f(o) }', inp=L, rvm=True),
 c("a function's array-of-object argument, with a body", 'g(n, [{"k": v}]) := v if {\n  v > n\n}\nx := [g(0, [o]) | some o in input.l]', inp=L),
 c("a function's boolean body over a pattern argument", 'h({"k": v}) if v > 1\nx := [o | some o in input.l; h(o)]', inp=L, rvm=True),
 c("several patterns, one with a constant value", 'f({"k": v}, {"j": 3}) := v\nx := [f(o, p) | some o in input.l; some p in input.l]', inp=L),
 c("a function with else: every branch needs the keys", 'f({"k": v}) := 1 if v == 1\nelse := 2 if v == 2\nelse := 3\nx := [y | some o in input.l; y := f(o)]', inp=L),
 c("a statement with with: the replaced value must have the same keys", 'default x := "no"\nx := v if {\n  {"k": v} := input.o with input.o as {"k": 1, "j": 2}\n}', inp={"o": {"k": 5}}),
 c("a statement with with: the replaced value with the same keys matches", 'default x := "no"\nx := v if {\n  {"k": v} := input.o with input.o as {"k": 1}\n}', inp={"o": {"k": 5, "j": 2}}),
]
