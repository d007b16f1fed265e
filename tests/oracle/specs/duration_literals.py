HEADER = """time.parse_duration_ns as OPA reads a duration: Go's grammar with OPA's units d, w, y (24,
168 and 8,760 hours), which regorus lacked, and no panic on a unit beyond ASCII. A literal is
written at load as the number it denotes (src/policy/duration_literals.rs), so its rule keeps
the RVM; any other duration goes to authzd's override (src/builtins/go_duration.rs)."""
def c(note, rego, rvm=False, inp=None, strict=False, overrides=False):
    d = {"note": note, "rego": rego, "strict": strict}
    if overrides: d["overrides"] = True
    if rvm: d["want_rvm"] = True
    if inp is not None: d["input"] = inp
    return d
CASES = [
 c("days, weeks and years", 'x := [time.parse_duration_ns("1d"), time.parse_duration_ns("2w"), time.parse_duration_ns("1y")]', rvm=True),
 c("with Go's units, fractions and a sign", 'x := [time.parse_duration_ns("2d3h"), time.parse_duration_ns("1.5d"), time.parse_duration_ns("-1d"), time.parse_duration_ns("1d1d"), time.parse_duration_ns("0d")]', rvm=True),
 c("a token younger than a day", 'x if time.parse_rfc3339_ns("2026-01-02T00:00:00Z") - input.iat < time.parse_duration_ns("1d")', rvm=True, inp={"iat": 1767268800000000000}),
 c("Go's own units are written too", 'x := [time.parse_duration_ns("1h30m"), time.parse_duration_ns("1.5s"), time.parse_duration_ns("100ms")]', rvm=True),
 c("a duration from the input, in days", 'x := time.parse_duration_ns(input.d)', inp={"d": "1.5d"}, overrides=True),
 c("a duration from the input, in Go's units", 'x := time.parse_duration_ns(input.d)', inp={"d": "-1h30m0.5s"}, overrides=True),
 c("a unit beyond ASCII is undefined (regorus panicked)", 'x := time.parse_duration_ns(input.d)', inp={"d": "1時間"}, overrides=True),
 c("and an error under strict builtin errors", 'x := time.parse_duration_ns(input.d)', inp={"d": "1時間"}, overrides=True, strict=True),
 c("a number is a type error", 'x := time.parse_duration_ns(input.d)', inp={"d": 5}, overrides=True, strict=True),
]
