#!/usr/bin/env python3
"""python gen_yaml.py specs/NAME.py ../cases/builtins_NAME.yaml (with the oracle venv's python): evaluate each case of spec.CASES on OPA (the oracle) and write
decision cases with OPA's answers. A case: {note, rego (rules after the package line), input?,
strict?, data?, path? (default t/x), more? (further modules, each a whole file), nonstrict? (the
answer where OPA's strict evaluation fails with a builtin error and a default answers)}."""
import json, sys, runpy
from opa_bindings import OpaEngine, OpaError
spec = runpy.run_path(sys.argv[1])
lines = ["# " + spec["HEADER"].replace("\n", "\n# "), "# Expected values are OPA's (v1.20.2's Go engine, via opa-golib-python-bindings).", "cases:"]
for c in spec["CASES"]:
    module = "package t\n" + c["rego"].strip() + "\n"
    path = c.get("path", "t/x")
    e = OpaEngine()
    e.add_policy("t.rego", module)
    for i, other in enumerate(c.get("more", [])):
        e.add_policy("more%d.rego" % i, other)
    case = {"note": c["note"], "modules": [module] + c.get("more", [])}
    if "data" in c:
        e.add_data(c["data"])
        case["data"] = c["data"]
    if "input" in c: case["input"] = c["input"]
    case["path"] = path
    if c.get("strict"): case["strict"] = True
    if c.get("overrides"): case["overrides"] = True
    if c.get("want_rvm"): case["want_rvm"] = True
    if c.get("want_interpreter"): case["want_interpreter"] = True
    try:
        v = e.eval_document(path.replace("/", "."), c.get("input"))
        case["want_result"] = v
    except OpaError as err:
        if err.code == "undefined":
            case["want_undefined"] = True
        elif "eval_builtin_error" in err.message or "eval_type_error" in err.message:
            # OPA's own code: a wrong operand type is eval_type_error, the rest eval_builtin_error.
            code = "eval_type_error" if "eval_type_error" in err.message else "eval_builtin_error"
            if c.get("strict"): case["want_error"] = code
            # The bindings evaluate strictly: where the error's expression is undefined but the
            # path is not (a default), the spec gives the non-strict answer.
            elif "nonstrict" in c: case["want_result"] = c["nonstrict"]
            else: case["want_undefined"] = True
        elif "eval_conflict_error" in err.message:
            case["want_error"] = "eval_conflict_error"
        else:
            raise Exception(c["note"] + ": " + err.message)
    if "expect" in c:
        got = case.get("want_result", "undefined" if case.get("want_undefined") else case.get("want_error"))
        assert got == c["expect"], (c["note"], got, c["expect"])
    e.close()
    lines.append("")
    first = True
    for k, v in case.items():
        lines.append(("  - " if first else "    ") + k + ": " + json.dumps(v, ensure_ascii=False))
        first = False
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print(len(spec["CASES"]), "cases written to", sys.argv[2])
