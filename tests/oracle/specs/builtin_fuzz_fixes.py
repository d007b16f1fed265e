HEADER = """Builtins a type-aware fuzz against OPA's engine found answering differently, now overridden:
object.subset (regorus panics on an empty array), semver.is_valid / semver.compare (OPA's own
parser; its SemVer 2.0 rules are in semver_strict.yaml), urlquery.* (Go's net/url),
glob.quote_meta (gobwas/glob), json.verify_schema, regex.split (Go's Split) and
regex.template_match (one-byte delimiters); base64.is_valid / net.cidr_is_valid of a
non-string, json.remove of an empty path, bits.lsh / bits.rsh of an integral float count."""
def o(note, rego, inp=None, strict=False):
    c = {"note": note, "rego": rego, "overrides": True, "strict": strict}
    if inp is not None: c["input"] = inp
    return c
SUB = "x := object.subset(input.a, input.b)"
CASES = [
 o("object.subset: an empty array is a subset of any array", SUB, {"a": [["x", 1]], "b": []}),
 o("object.subset: an empty array of an empty array", SUB, {"a": [], "b": []}),
 o("object.subset: arrays are contiguous runs", SUB, {"a": [1, 2, 3], "b": [1, 3]}),
 o("object.subset: a run found after a false start", SUB, {"a": [1, 2, 1, 3], "b": [1, 3]}),
 o("object.subset: nested objects and arrays", SUB, {"a": {"a": {"b": 1, "c": 2}, "l": [1, 2, 3]}, "b": {"a": {"b": 1}, "l": [3]}}),
 o("object.subset: array elements are compared whole", SUB, {"a": [{"a": 1, "b": 2}], "b": [{"a": 1}]}),
 o("object.subset: an object and an array are a type error", SUB, {"a": {"name": 10}, "b": []}, strict=True),
 o("object.subset: a set in an array, and a set in a set", "x := [object.subset([1, 2], {2}), object.subset({1, 2}, {1})]"),
 o("object.subset: a set is no subset of an array inside an object", "x := object.subset({\"a\": [1, 2]}, {\"a\": {1}})"),
 o("semver.is_valid: a leading v, a capital V, too few parts", "x := [semver.is_valid(v) | some v in input.v]", {"v": ["v1.2.3", "V1.2.3", "1.2", "1.2.3-a..b", "99999999999999999999.0.0"]}),
 o("semver.is_valid of a number is false", "x := semver.is_valid(input.v)", {"v": 9007199254740992}),
 o("semver.compare: OPA's precedence", "x := [semver.compare(p[0], p[1]) | some p in input.v]", {"v": [["v1.2.3", "1.2.3"], ["1.0.0-alpha.1", "1.0.0-alpha.beta"], ["1.0.0-x.1", "1.0.0-x.-1"], ["1.0.0-9", "1.0.0-10"], ["1.2.3+a", "1.2.3+b"], ["1.2.3", "1.2.3-alpha"]]}),
 o("semver.compare of an invalid version is an error", "x := semver.compare(input.a, input.b)", {"a": "1.0.0", "b": "x"}, strict=True),
 o("urlquery.encode: only letters, digits and -_.~ stay", "x := urlquery.encode(input.v)", {"v": " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~é"}),
 o("urlquery.encode_object: sorted keys, values in order", "x := urlquery.encode_object(input.v)", {"v": {"a b*": ["x*y", "~"], "f": "g!", "c": []}}),
 o("urlquery.encode_object of a set", "x := urlquery.encode_object({\"c\": {\"e\", \"d\"}})"),
 o("urlquery.decode", "x := urlquery.decode(input.v)", {"v": "a+b%20c%2A~"}),
 o("urlquery.decode: a bad escape is an error", "x := urlquery.decode(input.v)", {"v": "%zz"}, strict=True),
 o("urlquery.decode_object: empty keys and values", "x := urlquery.decode_object(input.v)", {"v": "a&b=&=c&b=2"}),
 o("urlquery.decode_object: a semicolon is an error", "x := urlquery.decode_object(input.v)", {"v": "a=1;b=2"}, strict=True),
 o("urlquery.decode_object: a bad escape is an error", "x := urlquery.decode_object(input.v)", {"v": "a=1&b=%zz"}, strict=True),
 o("glob.quote_meta escapes *?[]{}\\ only", "x := [glob.quote_meta(v) | some v in input.v]", {"v": ["*?[]{}\\!-,^.a/:|+$()", "[a-", "a]b"]}),
 o("json.verify_schema: a string that is no JSON", "x := json.verify_schema(input.v)", {"v": "[a-"}),
 o("json.verify_schema: JSON that is no schema", "x := [json.verify_schema(v) | some v in input.v]", {"v": ["12", "null", "[]", "\"s\""]}),
 o("json.verify_schema: neither string nor object", "x := json.verify_schema(input.v)", {"v": False}),
 o("json.verify_schema: valid schemas", "x := [json.verify_schema(v) | some v in input.v]", {"v": ["true", "{}", {"type": "string"}]}),
 o("regex.split: empty matches as Go's Split makes them", "x := [regex.split(p[0], p[1]) | some p in input.v]", {"v": [["", "aaa"], ["", ""], ["a", ""], [",", "a,b,,c,"], ["x*", "axbxxc"], ["a*", "baaab"], ["", "日本"], ["\\b", "ab cd"]]}),
 o("regex.template_match with one-byte delimiters", "x := regex.template_match(input.t, input.v, \"<\", \">\")", {"t": "urn:foo:<[a-z]+>", "v": "urn:foo:bar"}),
 o("regex.template_match: a longer delimiter is an error", "x := regex.template_match(input.t, input.v, \"<<\", \">\")", {"t": "urn:foo:<[a-z]+>", "v": "urn:foo:bar"}, strict=True),
 o("net.cidr_expand is a set", "x := net.cidr_expand(input.c)", {"c": "10.0.0.8/30"}),
 o("net.cidr_expand compares with a set", "x := net.cidr_expand(input.c) == {\"10.0.0.8\", \"10.0.0.9\", \"10.0.0.10\", \"10.0.0.11\"}", {"c": "10.0.0.8/30"}),
 o("uri.is_valid of a non-string is false", "x := [uri.is_valid(input.n), uri.is_valid(input.o), uri.is_valid(\"https://a.b/c\")]", {"n": False, "o": {"a": 1}}),
 o("base64.is_valid and net.cidr_is_valid of a non-string are false", "x := [base64.is_valid(input.n), net.cidr_is_valid(input.n), base64.is_valid(input.o), net.cidr_is_valid(input.c)]", {"n": 1, "o": {"a": 1}, "c": "10.0.0.0/8"}),
 o("json.remove: an empty path removes nothing", "x := [json.remove(input.o, [[]]), json.remove(input.o, [[], \"a/b\"]), json.remove(input.o, {[]})]", {"o": {"a": {"b": 1}, "c": 2}}),
 o("bits.lsh and bits.rsh: a count written as a float with no fraction", "x := [bits.lsh(100, 3.0), bits.rsh(100, 3.0), bits.lsh(input.n, 2.0)]", {"n": 5}),
 o("bits.lsh: a count with a fraction is an error", "x := bits.lsh(100, input.f)", {"f": 3.5}, strict=True),
 o("format_int and the shifts beyond 64 bits are exact", "x := [format_int(1e20, 2), format_int(100000000000000000000, 16), bits.rsh(bits.lsh(1, 100), 99), bits.lsh(input.n, 70)]", {"n": 1}),
]
