HEADER = """Literals nested deeper than --max-policy-nesting (16) that are plain JSON load and answer as
OPA does: regorus' parser is exponential in the nesting, so authzd reads them through
json.unmarshal of their own text."""
def deep(n, leaf):
    return '{"properties": ' * n + leaf + '}' * n
SCHEMA = '{"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "object", "properties": {"c": {"type": "object", "properties": {"d": {"type": "object", "properties": {"e": {"type": "object", "properties": {"f": {"type": "object", "properties": {"g": {"type": "object", "properties": {"h": {"type": "string"}}}}}}}}}}}}}}}}}'
DOC = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}
CASES = [
 {"note": "a constant 20 levels deep", "rego": "x := " + deep(20, "1")},
 {"note": "a path into it", "rego": "d := " + deep(20, "1") + "\nx := d.properties.properties.properties", "path": "t/x"},
 {"note": "an inline JSON schema 17 levels deep, and a document it refuses", "rego": "schema := " + SCHEMA + "\nx := json.match_schema(input.doc, schema)[0]", "input": {"doc": DOC}},
 {"note": "a deep literal beside a variable: only the JSON part is read so", "rego": 'x := {"deep": ' + deep(17, "1") + ', "v": input.v}', "input": {"v": 2}},
 {"note": "the lines after a deep literal written over several lines keep their numbers", "rego": "d := " + deep(17, "1").replace(": {", ":\n{") + "\nx := count(d)", "path": "t/x"},
]
