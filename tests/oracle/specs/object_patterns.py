HEADER = """Object patterns match only objects with the same keys, as in OPA: `{"k": v} := input.o` fails
when `input.o` has other keys. regorus matched the keys the pattern names; at load each such
statement is followed by the key count of every object in its pattern, on the same line
(src/policy/object_patterns.rs)."""
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
]
