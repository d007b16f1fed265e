HEADER = """A lone UTF-16 surrogate escape in a policy string is U+FFFD, as OPA unquotes it (Go's
encoding/json); a pair is its character. regorus' parser refused the module."""
CASES = [
 {"note": "a lone high surrogate", "rego": 'x := "a\\ud83db"'},
 {"note": "a lone low surrogate, then a pair", "rego": 'x := "\\udc00\\ud83d\\ude00"'},
 {"note": "counted as one character", "rego": 'x := count("a\\uD83Db")'},
 {"note": "as an object key, compared with the input's", "rego": 'x if input.k == "\\udc00"\nk := {"\\udc00": 1}[input.k]', "path": "t/k", "input": {"k": "\ufffd"}},
 {"note": "in a module rego.parse_module reads", "rego": 'x := rego.parse_module("a.rego", "package a\\nq := \\"\\\\ud83d\\"").rules[0].head.value'},
 {"note": "inside a template string", "rego": 'x := $"<\\ud800{input.n}>"', "input": {"n": 1}},
]
