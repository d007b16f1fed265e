HEADER = """OPA's operators called by their builtin names (`lt(a, b)`, `plus(1, 2, x)`): OPA declares
each infix operator as a builtin and `authzd capabilities` lists them; regorus knows only the
operators, so each call is written at load as the operator in parentheses, a third argument of
a statement as the result (src/policy/operator_calls.rs)."""
def c(note, rego, rvm=True, **kw):
    d = {"note": note, "rego": rego}
    if rvm: d["want_rvm"] = True
    d.update(kw)
    return d
CASES = [
 c("comparisons by name", 'x := [lt(1, 2), lte(2, 2), gt(1, 2), gte(3, 2), equal("a", "a"), neq(1, 1)]'),
 c("arithmetic by name, nested", 'x := [plus(1, 2), minus(5, 7), mul(plus(1, 1), 3), div(9, 2), rem(7, 3)]'),
 c("sets by name", 'x := [and({1, 2}, {2, 3}), or({1}, {2}), minus({1, 2}, {1})]'),
 c("the result as a third argument", 'x := [a, b] if {\n  plus(input.n, 2, a)\n  lt(input.n, 2, b)\n}', input={"n": 5}),
 c("a third argument compared with the result", 'default x := false\nx if gte(input.n,\n  2, true)', input={"n": 5}),
 c("a comparison in a rule body and under not", 'default x := "no"\nx := "yes" if {\n  gt(input.n, 1)\n  not equal(input.n, 3)\n}', input={"n": 2}),
 c("eq and assign by name are statements", 'x := [y, z] if {\n  assign(y, input.n)\n  eq(z, [y])\n  not eq(y, 3)\n}', input={"n": 5}),
 c("a package's own function of the name is called", 'lt(a, b) := a > b\nx := lt(1, 2)', rvm=False),
]
