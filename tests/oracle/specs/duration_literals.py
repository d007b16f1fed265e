HEADER = """time.parse_duration_ns of a literal with the units OPA adds to Go's (d, w, y: 24, 168 and
8,760 hours), written at load as the number it denotes (src/policy/duration_literals.rs), on
both evaluators; regorus answered undefined."""
def c(note, rego, rvm=False, inp=None):
    d = {"note": note, "rego": rego}
    if rvm: d["want_rvm"] = True
    if inp is not None: d["input"] = inp
    return d
CASES = [
 c("days, weeks and years", 'x := [time.parse_duration_ns("1d"), time.parse_duration_ns("2w"), time.parse_duration_ns("1y")]', rvm=True),
 c("with Go's units, fractions and a sign", 'x := [time.parse_duration_ns("2d3h"), time.parse_duration_ns("1.5d"), time.parse_duration_ns("-1d"), time.parse_duration_ns("1d1d"), time.parse_duration_ns("0d")]', rvm=True),
 c("a token younger than a day", 'x if time.parse_rfc3339_ns("2026-01-02T00:00:00Z") - input.iat < time.parse_duration_ns("1d")', rvm=True, inp={"iat": 1767268800000000000}),
 c("Go's own units are left to regorus", 'x := [time.parse_duration_ns("1h30m"), time.parse_duration_ns("1.5s"), time.parse_duration_ns("100ms")]', rvm=True),
]
