HEADER = """time.format as Go formats, where regorus differs: a fraction written with nines (and the
default layout, RFC 3339 with nanoseconds) drops trailing zeros, MST is the zone's abbreviation,
a comma before a fraction stays, and a layout beyond ASCII formats (regorus panicked)
(src/builtins/time_format.rs); time.parse_ns takes such a layout too (src/builtins/parse_ns.rs)."""
def c(note, arg, inp=None, strict=False, rego=None):
    d = {"note": note, "rego": rego or "x := time.format(%s)" % arg, "overrides": True, "strict": strict}
    if inp is not None: d["input"] = inp
    return d
CASES = [
 c("the default layout drops a fraction's trailing zeros", "1500000000"),
 c("and keeps nine digits", "1000000001"),
 c("before the epoch", "-1500000000"),
 c("with a zone and no layout", '[1500000000, "Europe/Paris"]'),
 c("a fraction of nines in a layout", '[1700000000100000000, "UTC", "15:04:05.999"]'),
 c("a fraction of zeros keeps them", '[1700000000100000000, "UTC", "15:04:05.000000"]'),
 c("a comma before a fraction", '[1700000000123456789, "UTC", "15:04:05,000"]'),
 c("MST in a named layout", '[1700000000000000000, "America/New_York", "UnixDate"]'),
 c("MST in UTC", '[1700000000000000000, "UTC", "RFC822"]'),
 c("MST beside numeric offsets", '[1700000000000000000, "Asia/Kolkata", "MST -0700 Z07:00"]'),
 c("MST where the zone has no letters", '[1700000000000000000, "America/Sao_Paulo", "Mon Jan 2 15:04:05 MST 2006"]'),
 c("summer time", '[1690000000000000000, "Europe/Paris", "2006-01-02 15:04 MST"]'),
 c("a layout beyond ASCII", '[0, "UTC", "2006年01月02日"]'),
 c("a layout from the input", '[input.t, "UTC", input.layout]', {"t": 1500000000, "layout": "02/01/2006 15:04:05.999 — MST"}),
 c("time.parse_ns with a layout beyond ASCII", None, rego='x := time.parse_ns("2006年01月02日", "2024年05月06日")'),
 c("time.parse_ns with a dash beyond ASCII, from the input", None, {"v": "06/05/2024 — 07:08"}, rego='x := time.parse_ns("02/01/2006 — 15:04", input.v)'),
 c("time.parse_ns of a value that does not match such a layout", None, rego='x := time.parse_ns("2006年", "2024月")', strict=True),
]
