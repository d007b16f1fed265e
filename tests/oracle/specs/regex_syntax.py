HEADER = """Regular expressions written as literals in a policy are read with Go's syntax (RE2's), as OPA
reads them: at load each such pattern is written in Rust's `regex` syntax with the same meaning
(src/policy/regex_literals.rs, src/builtins/re2_syntax.rs), so the RVM answers them too."""
def c(note, rego, inp=None, rvm=None, overrides=False):
    case = {"note": note, "rego": rego, "path": "t/x"}
    if inp is not None: case["input"] = inp
    if rvm: case["want_rvm"] = True
    if overrides: case["overrides"] = True
    return case
CASES = [
 c("\\d is ASCII digits: Arabic-Indic digits do not match", 'default x := false\nx if regex.match(`^\\d+$`, input.id)', {"id": "\u0661\u0662\u0663"}, rvm=True),
 c("\\d matches ASCII digits", 'default x := false\nx if regex.match(`^\\d+$`, input.id)', {"id": "10001"}, rvm=True),
 c("\\w is ASCII: é is no word character", 'x := regex.find_n(`\\w+`, input.s, -1)', {"s": "caf\u00e9 ol\u00e9_1"}, rvm=True),
 c("\\s is Go's five: no vertical tab, no no-break space", 'x := regex.split(`\\s`, input.s)', {"s": "a\u000bb\u00a0c d\te"}, overrides=True),
 c("\\S and \\D negated, inside a class too", 'x := regex.find_n(`[\\D]+|\\S`, input.s, -1)', {"s": "\u0661 2"}),
 c("\\b is an ASCII word boundary", 'x := regex.replace(input.s, `\\bb`, "B")', {"s": "\u00e9b ab b"}, rvm=True),
 c("a { that opens no repetition is a literal", 'default x := false\nx if regex.match(`^{[a-z]+}$`, input.s)', {"s": "{ab}"}, rvm=True),
 c("x{,3} and x{01} are literals", 'x := [regex.match(`a{,3}`, "a{,3}"), regex.match(`a{01}`, "a{01}"), regex.match(`a{1,2}`, "aa")]'),
 c("[ & and ~ in a class are members", 'x := regex.find_n(`[[&~]`, input.s, -1)', {"s": "a[b&c~d"}),
 c("\\Q...\\E quotes its text", 'x := regex.match(`^\\Qa.b*{\\E$`, input.s)', {"s": "a.b*{"}),
 c("an octal escape", 'x := regex.match(`^a\\012b$`, input.s)', {"s": "a\nb"}),
 c("\\< and \\> are Go's literals", 'x := regex.find_n(`\\<\\w+\\>`, input.s, -1)', {"s": "<b> <i>"}),
 c("a nested repetition is an invalid pattern", 'x := [regex.is_valid(`a**`), regex.is_valid(`a+{2}`), regex.is_valid(`(?i)*`), regex.is_valid(`a{1001}`), regex.is_valid(`a*?`)]'),
 c("regex.split reads Go's syntax", 'x := regex.split(`{,}|\\d`, input.s)', {"s": "a{,}b1c\u0662d"}, overrides=True),
 c("a pattern that reads the same in both is left alone", 'default x := false\nx if regex.match(`^[a-z0-9._-]+@example\\.com$`, input.email)', {"email": "ann.lee@example.com"}, rvm=True),
]
