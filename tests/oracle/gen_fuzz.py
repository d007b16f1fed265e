#!/usr/bin/env python3
"""Random builtin calls for cmp.py, with arguments drawn from each builtin's declared types.

    python gen_fuzz.py SEED N [prefix,prefix...] > cases.jsonl

Reads OPA's declarations (src/builtins/opa_declarations.json), skips infix, deprecated,
internal and nondeterministic builtins (time.now_ns, rand.*, uuid.*, http.send, net.lookup_*,
...), and writes N lines {"fn", "args", "strict": false}. One argument in sixteen is of any
type, so type errors are drawn too. The same seed gives the same cases."""
import json, os, random, sys
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
seed = int(sys.argv[1]); n = int(sys.argv[2])
prefixes = sys.argv[3].split(",") if len(sys.argv) > 3 else None
R = random.Random(seed)
decls = json.load(open(os.path.join(ROOT, "src", "builtins", "opa_declarations.json")))
SKIP_PREFIX = ("internal.", "http.send", "net.lookup", "opa.runtime", "rand.", "time.now", "uuid.", "trace", "print",
               "numbers.range", "io.jwt.encode_sign", "crypto.x509.parse_and_verify", "rego.", "providers.", "walk",
               "crypto.hmac.equal", "io.jwt.decode_verify")
fns = [d for d in decls if not d.get("infix") and not d.get("deprecated") and not d["name"].startswith(SKIP_PREFIX)]
if prefixes:
    fns = [d for d in fns if d["name"].startswith(tuple(prefixes))]
STR = ["", "a", "abc", "AbC", "hello world", "a,b,c", "  x  ", "foo.bar", "x/y/z", "ä", "日本", "😀", "a😀b",
       "2006-01-02", "2006-01-02T15:04:05Z", "2020-02-29T12:00:00+01:00", "1970-01-01T00:00:00.123456789Z",
       "10.0.0.0/8", "192.168.1.1", "::1", "2001:db8::/32", "fe80::1%eth0", "1.2.3", "1.2.3-alpha+b",
       "v1.0.0", "10Ki", "1.5G", "100m", "1e3", "-5", "0x1F", "12", "3.25", "aGVsbG8=", "aGVsbG8", "YQ",
       "%41%zz", "a%20b", "a+b", "{a,b}*", "a.*b", "^a", "(a|b)+", "[a-", "\\d+", "*.com", "**", "?",
       "{\"a\":1}", "[1,2", "a: 1\nb: [2]", "null", "true", "<b>&", "a\tb\nc", "AAAA", "x=1&y=2&x=3",
       "https://u:p@host:8080/p?q=1#f", "Hello, {{.name}}!", "1h30m", "-1.5h", "P1D", "abcabcabc", "aaa",
       "\u00e9", "e\u0301", "ß", "İ", "Σ"]
NUM = [0, 1, -1, 2, 3, 10, 100, 0.5, -2.5, 1e3, 1e20, 2**53, 2**63, -(2**31), 3.0, 1.5e-7, 255, 7]
def val(t, depth=0):
    if R.random() < 0.06 and depth == 0:
        t = {"type": "any"}
    ty = t.get("type", "any")
    if ty == "any" and "of" in t and isinstance(t["of"], list):
        return val(R.choice(t["of"]), depth)
    if ty == "any":
        ty = R.choice(["string", "number", "boolean", "null", "array", "object", "string", "number"])
        t = {"type": ty}
    if ty == "string": return R.choice(STR)
    if ty == "number": return R.choice(NUM)
    if ty == "boolean": return R.choice([True, False])
    if ty == "null": return None
    if depth > 2: return R.choice(STR)
    if ty in ("array", "set"):
        if "static" in t:
            return [val(x, depth + 1) for x in t["static"]]
        el = t.get("dynamic") or t.get("of") or {"type": "any"}
        if isinstance(el, list): el = {"type": "any", "of": el}
        k = R.choice([0, 1, 2, 3])
        out = [val(el, depth + 1) for _ in range(k)]
        return out
    if ty == "object":
        dyn = t.get("dynamic")
        out = {}
        for st in t.get("static", []) or []:
            if R.random() < 0.8: out[st["key"]] = val(st["value"], depth + 1)
        if dyn or not t.get("static"):
            vt = (dyn or {}).get("value", {"type": "any"})
            for _ in range(R.choice([0, 1, 2])):
                out[R.choice(["a", "b", "name", "x", "", "k1"])] = val(vt, depth + 1)
        return out
    return R.choice(STR)
for i in range(n):
    d = R.choice(fns)
    args = [val(a) for a in d["decl"].get("args", [])]
    print(json.dumps({"fn": d["name"], "args": args, "strict": False}))
