HEADER = """time.add_date as Go's AddDate computes it, in UTC: a date past the end of its month rolls
over into the next (January 31 plus one month is March 2 in 2024), where regorus clamped it to
the month's last day or answered undefined (src/builtins/add_date.rs)."""
def c(note, rego, strict=False):
    return {"note": note, "rego": 'p(s) := time.parse_rfc3339_ns(s)\nf(t) := time.format(t)\n' + rego, "overrides": True, "strict": strict}
CASES = [
 c("a month past January 31", 'x := f(time.add_date(p("2024-01-31T00:00:00Z"), 0, 1, 0))'),
 c("a year past February 29", 'x := f(time.add_date(p("2024-02-29T10:00:00Z"), 1, 0, 0))'),
 c("a month back from March 31", 'x := f(time.add_date(p("2024-03-31T00:00:00Z"), 0, -1, 0))'),
 c("thirteen months", 'x := f(time.add_date(p("2024-01-31T00:00:00Z"), 0, 13, 0))'),
 c("a day back over a year's end", 'x := f(time.add_date(p("2024-01-01T00:00:00Z"), 0, 0, -1))'),
 c("months back and days forward", 'x := f(time.add_date(p("2024-01-31T00:00:00Z"), 0, -25, 40))'),
 c("before the epoch, to the nanosecond", 'x := time.add_date(-1, 0, 0, 1)'),
 c("the time of day is kept", 'x := time.add_date(p("2023-05-31T23:59:59.5Z"), 0, 1, 1) - p("2023-07-02T00:00:00Z")'),
 c("a non-integer count is a type error", 'x := time.add_date(0, 1.5, 0, 0)', strict=True),
]
