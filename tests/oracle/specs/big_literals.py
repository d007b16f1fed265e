HEADER = """Number literals beyond f64's range that denote integers (`1e400`, `15e399`, a 400-digit
integer) are kept exactly, as OPA keeps them. regorus' lexer refused the module; at load each
such literal is written as an exact product of literals it reads, on the same line
(src/bundle/big_numbers.rs)."""
def c(note, rego, rvm=True):
    d = {"note": note, "rego": rego}
    if rvm: d["want_rvm"] = True
    return d
CASES = [
 c("1e400 compares with 1e399 and with itself", 'x := [1e400 > 1e399, 1e400 == 10e399, 15e399 == 1.5e400, 1e400 - 1e400]'),
 c("a negative literal beyond f64", 'x := [-1e400 < 0, -1e400 < -1e399, 2 -1e400 < 0]'),
 c("in a rule body and a comparison with a smaller number", 'default x := false\nx if { n := 1e400; n > 1e308 }'),
 c("a 400-digit integer literal", 'x := ' + '9' * 400 + ' > 1e399'),
]
