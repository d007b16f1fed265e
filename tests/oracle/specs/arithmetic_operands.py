HEADER = """Arithmetic on what is not a number is undefined, as OPA answers it without strict-builtin-errors
(`+`, `-`, `*`, `/` and `%` are builtins in OPA; their errors are a builtin's). regorus failed the
whole decision on both evaluators; each operand that may not be a number is wrapped at load in
`sum([x])` (`bits.and(x, -1)` under `%`), which both evaluators answer as OPA does
(src/policy/arithmetic_operands.rs). Cases whose answer is a default are not comparable in the
differential (the oracle evaluates strictly); their values follow OPA's documented rule."""
I = {"amount": "100", "n": 7, "f": 2.5, "exp": 1700000900, "iat": "1700000000", "l": [1, "2", 3], "o": {"price": "9.99", "qty": 3}}
def c(note, rego, inp=I, path=None, strict=False, rvm=False, nonstrict=None):
    d = {"note": note, "rego": rego, "input": inp}
    if path: d["path"] = path
    if strict: d["strict"] = True
    if rvm: d["want_rvm"] = True
    if nonstrict is not None: d["nonstrict"] = nonstrict
    return d
CASES = [
 c("a string operand makes a sum undefined", 'x := input.amount + 1'),
 c("a product of a string", 'x := [input.amount * 2]'),
 c("a quotient of a string", 'x := [input.amount / 2]'),
 c("a difference of a string claim", 'x := input.exp - input.iat'),
 c("numbers still compute, on the RVM", 'x := [input.n + 1, input.n * 2, input.n / 2, input.n - 1, input.n % 4, -input.n, input.exp - 900]', rvm=True),
 c("a default answers when the arithmetic is undefined", 'default allow := false\nallow if {\n  input.amount * 2 <= 500\n}', path="t/allow", nonstrict=False),
 c("a rule body over a string input ends there; other rules still answer", 'total := input.o.price * input.o.qty\nitems := input.o.qty * 2\nr := {"items": items, "totals": count([1 | total])}', path="t/r", nonstrict={"items": 6, "totals": 0}),
 c("a fraction under % is undefined", 'x := input.f % 2'),
 c("a string under % is undefined", 'x := input.amount % 2'),
 c("a token age from a string claim", 'default fresh := false\nfresh if {\n  time.now_ns() / 1000000000 - input.iat < 3600\n}', path="t/fresh", nonstrict=False),
 c("with strict-builtin-errors, the decision fails with a type error", 'x := input.amount + 1', strict=True),
 c("a set difference is left alone", 'p contains 1\np contains 2\nq contains 2\nx := p - q', rvm=True),
 c("a loop skips the elements that are not numbers", 'x := {v | some e in input.l; v := e * 10; v > 0}', nonstrict=[10, 30]),
 c("an operator called by name", 'x := [minus(input.amount, 1)]'),
 c("an operator called by name, on numbers", 'x := [minus(input.n, 1), mul(input.n, 2), rem(input.n, 4)]'),
 c("a computed element over a string is left out", 'x := sum([(i.price * i.qty) | some i in input.items])', inp={"items": [{"price": 2, "qty": 3}, {"price": "9.99", "qty": 1}, {"price": 1.5, "qty": 2}]}, nonstrict=9),
 c("a computed element of loop variables over a string is left out, on the RVM", 'x := sum([(p * 2) | some p in input.prices])', inp={"prices": [2, "9.99", 1.5]}, rvm=True, nonstrict=7),
 c("a computed element of loop variables, on the RVM", 'x := sum([(p * 2) | some p in input.prices])', inp={"prices": [2, 1.5]}, rvm=True),
 c("an object comprehension's computed value", 'x := {k: (v % 2) | some k, v in input.o}', inp={"o": {"a": 3, "b": "4", "c": 2.5, "d": 8}}, nonstrict={"a": 1, "d": 0}),
 c("a fraction written under % in a computed element: no element", 'x := [(p % 0.5) | some p in input.prices]', inp={"prices": [2, 3]}, nonstrict=[]),
 c("an assignment in a comprehension over a string is left out, on the RVM", 'x := [t | some p in input.prices; t := p * 2]', inp={"prices": [2, "9.99", 1.5]}, rvm=True, nonstrict=[4, 3]),
 c("an assignment in a set comprehension, on numbers", 'x := {t | some p in input.prices; t := p * 2}', inp={"prices": [2, 1.5]}, rvm=True),
]
