HEADER = """uuid.parse: Go's google/uuid variant names and OPA's fields (src/builtins/uuid.rs overrides
regorus' "NCS" variant and its time for versions 6 and 7)."""
def c(note, u):
    return {"note": note, "rego": 'x := uuid.parse(input.u)', "input": {"u": u}, "overrides": True}
CASES = [
 c("the nil UUID: variant bits 0xx are Reserved", "00000000-0000-0000-0000-000000000000"),
 c("a version 1 UUID with its time, clock sequence and node", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
 c("a version 4 UUID", "550e8400-e29b-41d4-a716-446655440000"),
 c("Microsoft's variant", "550e8400-e29b-41d4-c716-446655440000"),
 c("the future variant", "550e8400-e29b-41d4-e716-446655440000"),
 c("a version 6 UUID carries no time in OPA", "1ec9414c-232a-6b00-b3c8-9e6bdeced846"),
 c("a version 7 UUID carries no time in OPA", "01890a5d-ac96-774b-bcce-b302099a8057"),
 c("braces and the urn prefix", "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
 c("not a UUID", "x"),
]
