HEADER = """Partial set and object rules whose head is written over several lines, or is an object with
several fields, and can be undefined for some elements: OPA drops those elements. At load the
head moves into the body as one line, its line breaks kept in the head (src/policy/partial_heads.rs);
regorus' own span of such an object starts at its last key."""
USERS = {"users": [{"id": 1, "first": "a", "last": "b", "roles": ["admin"]}, {"name": "x"}, {"id": 3, "first": "c"}]}
def c(note, rego, inp=USERS, path="t/x", rvm=None, strict=False):
    case = {"note": note, "rego": rego, "input": inp, "path": path}
    if strict: case["strict"] = True
    if rvm: case["want_rvm"] = True
    return case
CASES = [
 c("an object head with several fields on one line", 'x contains {"msg": "no", "id": u.id} if some u in input.users', rvm=True),
 c("an object head over several lines, a body in braces", 'x contains {\n\t"msg": "no",\n\t"id": u.id,\n} if {\n\tsome u in input.users\n}', rvm=True),
 c("a head over several lines with a comment and a # in a string", 'x contains {\n\t"msg": "#1", # the message\n\t"id": u.id, # may be missing\n} if {\n\tsome u in input.users\n}'),
 c("a call over several lines in a set's head", 'x contains sprintf("%s-%s", [\n\tu.first,\n\tu.last,\n]) if {\n\tsome u in input.users\n}'),
 c("a partial object whose value is an object over several lines", 'x[u.first] := {\n\t"id": u.id,\n\t"n": count(u.roles),\n} if {\n\tsome u in input.users\n}'),
 c("a braceless body after a head over several lines", 'x contains {\n\t"id": u.id,\n\t"first": u.first,\n} if some u in input.users'),
 c("a nested object over several lines", 'x contains {"user": {\n\t"id": u.id,\n\t"name": u.first,\n}, "kind": "user"} if some u in input.users'),
 c("rules after a head over several lines keep their lines and answers", 'x contains {\n\t"id": u.id,\n\t"k": 1,\n} if some u in input.users\n\ny := 1 if input.users[0].id == 1', path="t"),
 c("an error after a head over several lines is reported on its own line", 'x contains {\n\t"id": u.id,\n\t"k": 1,\n} if some u in input.users\n\ny := 1 / 0 if true', path="t/y", strict=True),
]
