#!/usr/bin/env python3
"""Compare builtins with OPA's engine (PyPI: opa-golib-python-bindings, OPA v1.20.2).

    python cmp.py cases.jsonl [-v]

Each line of cases.jsonl is {"fn": name, "args": [...], "strict": bool}; every case runs on OPA and
on authzd (the ignored test builtins::compare) and the differences are printed. Errors count as
equal whatever their text; an OPA error is equal to undefined when the case is not strict.
Run it with the venv's python: python3 -m venv V && V/bin/pip install --ignore-requires-python
opa-golib-python-bindings."""
import json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from opa_bindings import OpaEngine, OpaError
def opa(case):
    e = OpaEngine()
    n = len(case["args"])
    mod = "package t\nx := %s(%s)\n" % (case["fn"], ", ".join("input.a%d" % i for i in range(n)))
    try:
        e.add_policy("t.rego", mod)
        v = e.eval_document("t.x", {"a%d" % i: a for i, a in enumerate(case["args"])})
        return {"value": v}
    except OpaError as err:
        if err.code == "undefined":
            return {"undefined": True}
        return {"error": err.message}
    finally:
        e.close()
path = sys.argv[1]
cases = [json.loads(l) for l in open(path) if l.strip()]
out = os.path.join(ROOT, "target", "authzd_compare_out.jsonl")
env = dict(os.environ, BUILTIN_CASES=os.path.abspath(path), BUILTIN_OUT=out)
r = subprocess.run(["nice", "-n", "10", "cargo", "test", "-q", "--lib", "builtins::compare", "--", "--ignored"], cwd=ROOT, env=env, capture_output=True, text=True)
if r.returncode != 0:
    print(r.stdout[-3000:], r.stderr[-3000:]); sys.exit(1)
ours = [json.loads(l) for l in open(out)]
bad = 0
for c, o in zip(cases, ours):
    t = opa(c)
    same = (t == o) or ("error" in t and "error" in o) or ("error" in t and "undefined" in o and not c.get("strict"))
    if "-v" in sys.argv or not same:
        if not same: bad += 1
        print(("OK  " if same else "DIFF"), json.dumps(c)[:300])
        if not same:
            print("   opa:   ", json.dumps(t, sort_keys=True)[:1500])
            print("   authzd:", json.dumps(o, sort_keys=True)[:1500])
print(f"{len(cases)-bad} same, {bad} different")
