HEADER = """Overrides of regorus builtins that answer differently from OPA: json.is_valid, yaml.is_valid,
json.match_schema, glob.match, numbers.range_step (units.parse's exponent limit: see builtins_units.yaml)."""
def o(note, rego, inp=None, strict=False):
    c = {"note": note, "rego": rego, "overrides": True, "strict": strict}
    if inp is not None: c["input"] = inp
    return c
S = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}, "required": ["id"]}
CASES = [
 o("json.is_valid of a number is false", "x := json.is_valid(input.v)", {"v": 1}),
 o("json.is_valid of an object is false", "x := json.is_valid(input.v)", {"v": {"a": 1}}),
 o("json.is_valid of a string", "x := json.is_valid(input.v)", {"v": "{\"a\": [1, 2]}"}),
 o("yaml.is_valid of null is false", "x := yaml.is_valid(input.v)", {"v": None}),
 o("yaml.is_valid: a stream is judged by its first document", "x := yaml.is_valid(input.v)", {"v": "---\na: 1\n---\nb: 2"}),
 o("yaml.is_valid: invalid", "x := yaml.is_valid(input.v)", {"v": "a: ["}),
 o("json.match_schema: a match is [true, []]", "x := json.match_schema(input.d, input.s)", {"d": {"id": 1}, "s": S}),
 o("json.match_schema: a document given as JSON text", "x := json.match_schema(input.d, input.s)", {"d": "{\"id\": 1}", "s": S}),
 o("json.match_schema: a schema given as JSON text", "x := json.match_schema(input.d, input.s)", {"d": {"a": 1}, "s": "{\"type\": \"object\"}"}),
 o("json.match_schema: wrong type", "x := json.match_schema(input.d, input.s)", {"d": {"id": "x"}, "s": S}),
 o("json.match_schema: required property", "x := json.match_schema(input.d, input.s)", {"d": {}, "s": S}),
 o("json.match_schema: additional property", "x := json.match_schema(input.d, input.s)", {"d": {"b": 1}, "s": {"type": "object", "additionalProperties": False, "properties": {"a": {}}}}),
 o("json.match_schema: an array at the root", "x := json.match_schema(input.d, input.s)", {"d": [1], "s": S}),
 o("json.match_schema: item errors, then the array's own", "x := json.match_schema(input.d, input.s)", {"d": {"a": [1, 2, 2]}, "s": {"type": "object", "properties": {"a": {"type": "array", "uniqueItems": True, "items": {"type": "integer", "maximum": 1}}}}}),
 o("json.match_schema: a number document is an error", "x := json.match_schema(input.d, input.s)", {"d": 5, "s": S}, strict=True),
 o("json.match_schema: an invalid schema is an error", "x := json.match_schema(input.d, input.s)", {"d": {"a": 1}, "s": {"type": "nonsense"}}, strict=True),
 o("json.match_schema: an invalid schema is undefined without strict errors", "x := json.match_schema(input.d, input.s)", {"d": {"a": 1}, "s": {"type": "nonsense"}}),
 o("glob.match: an empty alternative matches the empty string", "x := glob.match(\"{,a}\", null, \"\")"),
 o("glob.match: an empty alternative before a suffix", "x := glob.match(\"{,a}b\", null, \"b\")"),
 o("glob.match: empty alternatives among others", "x := [glob.match(\"a{,b,}c\", null, \"ac\"), glob.match(\"a{,b,}c\", null, \"abc\"), glob.match(\"a{,b,}c\", null, \"axc\")]"),
 o("glob.match: other patterns as before", "x := glob.match(\"*.github.com\", [\".\"], \"api.github.com\")"),
 o("numbers.range_step: a step beyond the range", "x := numbers.range_step(input.a, input.b, input.s)", {"a": 1, "b": 10, "s": 1e300}),
 o("numbers.range_step: a descending range with a big step", "x := numbers.range_step(10, 1, 20)"),
 o("numbers.range_step: a step beyond 2^53 (a big integer literal)", "x := numbers.range_step(10, 1, 100000000000000000000)"),
 o("numbers.range_step: an ordinary range", "x := numbers.range_step(1, 10, 3)"),
 o("numbers.range_step: a zero step is an error", "x := numbers.range_step(input.a, input.b, input.s)", {"a": 1, "b": 3, "s": 0}, strict=True),
]
