HEADER = """yaml.unmarshal reads YAML as OPA reads it (Go's sigs.k8s.io/yaml over yaml.v2: YAML 1.1's
plain scalars, Go's spelling of keys, merge keys, the first document of a stream), where
regorus reads YAML 1.2 (src/value_yaml.rs; a bundle's data.yaml and a YAML request body are
read the same way, tests/http_api.rs)."""
def c(note, text, strict=False, rego="x := yaml.unmarshal(input.t)"):
    return {"note": note, "rego": rego, "input": {"t": text}, "overrides": True, "strict": strict}
CASES = [
 c("yes, on and y are true, no, off and n false; quoted they are strings", "a: yes\nb: On\nc: Y\nd: no\ne: OFF\nf: n\ng: 'yes'\nh: \"on\"\ni: yEs\nj: true\n"),
 c("a tag keeps its reading", "a: !!str yes\n"),
 c("octal, hexadecimal, binary and underscores", "[010, -010, 08, 0x1F, 0o17, 0b11, -0b11, 1_000, 1_0.5, 007.5, 00, +1, 0x, 1e3, .5]"),
 c("integers beyond 64 bits are floats, timestamps strings", "[9223372036854775808, 18446744073709551616, 2001-12-14, 2001-12-14T21:59:43.10-05:00, 1:20]"),
 c("literal and folded blocks are strings", "- |\n  yes\n- >\n  on\n- plain\n  on two lines\n"),
 c("keys that are numbers or booleans are spelled as Go spells them", "{y: 1, 010: 2, 1.5: 3, 123456789.123: 4, 1e20: 5, 0.00001: 6, -2: 7, 0x10: 8}"),
 c("a null key is an error", "{~: 1}", strict=True),
 c("a merge key merges a mapping, and later keys win", "base: &b {a: 1, b: 1}\nx:\n  <<: *b\n  b: 2\n"),
 c("a merge key takes a list of mappings, the first winning", "a: &a {k: 1}\nb: &b {k: 2, j: 2}\nx:\n  <<: [*a, *b]\n"),
 c("only the first document of a stream counts", "a: 1\n---\nb: 2\n"),
 c("an empty document is null", "# nothing here\n", rego="x := [yaml.unmarshal(input.t)]"),
 c("an infinity is an error", "a: .inf\n", strict=True),
 c("nested values", "users:\n  - name: alice\n    admin: yes\n    id: 0x2A\n  - name: bob\n    admin: no\n"),
]
