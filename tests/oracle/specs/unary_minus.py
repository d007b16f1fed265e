HEADER = """Unary minus over a reference, a variable or a call, as OPA reads it: `-` negates the term after
it (`-input.n + 1` is `(-input.n) + 1`). regorus took the rest of the expression as its operand
and refused any that is not a number literal; at load each unary minus becomes `(0 - term)`, on
the same line (src/policy/unary_minus.rs)."""
IN = {"n": 5, "f": 1.5}
def c(note, rego, rvm=None):
    case = {"note": note, "rego": rego, "input": IN, "path": "t/x"}
    if rvm: case["want_rvm"] = True
    return case
CASES = [
 c("the negation of an input number", 'x := -input.n', rvm=True),
 c("only the term is negated", 'x := -input.n + 1', rvm=True),
 c("a float, and a space after the minus", 'x := [-input.f, - input.n]', rvm=True),
 c("inside arithmetic and a call", 'x := [2 * -input.n, abs(-input.n)]', rvm=True),
 c("in a comparison in a body", 'default x := false\nx if -input.n < 0', rvm=True),
 c("a local variable in a comprehension", 'x := [y | some v in [1, 2]; y := -v]', rvm=True),
 c("a spaced number literal is negated before the addition", 'x := [- 2 + 3, -2 + 3, [-1, - 2]]', rvm=True),
]
