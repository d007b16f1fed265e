#!/usr/bin/env python3
"""Run OPA's own conformance cases through `authzd eval`, on both evaluators.

    python conformance.py AUTHZD CASES_DIR [--errors] [--oracle] [-v] [FOLDER...]

CASES_DIR is a copy of `v1/test/cases/testdata/v1` from OPA's repository (not kept here: the
cases are OPA's). Counted: every case whose query is a plain `data.a.b = x` and that expects a
result (`want_result`); with `--errors`, instead the cases that expect an error code
(`want_error_code`), which pass when both evaluators fail with that code. A case whose input is
a Rego term (`input_term`) is given its JSON value. `--oracle` also prints OPA's own answer to
each failure (the venv of `differential.py`, OPA v1.20.2), since the cases may be newer than
that engine. Prints the failures by folder, then `N/M pass`."""
import concurrent.futures as cf
import glob, json, os, re, subprocess, sys, tempfile

import yaml

QUERY = re.compile(r"^\s*data((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*=\s*x\s*$")


def canon(v):
    return json.dumps(v, sort_keys=True)


def deep_sort(v):
    if isinstance(v, list):
        return sorted((deep_sort(x) for x in v), key=canon)
    if isinstance(v, dict):
        return {k: deep_sort(x) for k, x in v.items()}
    return v


def run(binary, case, rvm):
    """("result", v), ("undefined",) or ("error", message) from `authzd eval`."""
    with tempfile.TemporaryDirectory() as d:
        for i, module in enumerate(case.get("modules") or []):
            with open(os.path.join(d, "m%d.rego" % i), "w") as f:
                f.write(module)
        if case.get("data") is not None:
            with open(os.path.join(d, "data.json"), "w") as f:
                json.dump(case["data"], f)
        args = [binary, "eval", "-b", d]
        if not rvm:
            args.append("--no-rvm")
        # A case may hold both: the result without strict errors, the error with them.
        if case.get("strict_error") and case["_want"][0] == "error":
            args.append("--strict-builtin-errors")
        if "input" in case:
            path = os.path.join(d, "input.json")
            with open(path, "w") as f:
                json.dump(case["input"], f)
            args += ["-i", path]
        args.append(case["_path"])
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            return ("error", (r.stderr or r.stdout).strip().replace(d, "BUNDLE"))
        out = json.loads(r.stdout)
        return ("result", out["result"]) if "result" in out else ("undefined",)


def term_value(binary, term):
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "t.rego"), "w") as f:
            f.write("package __term\nx := " + term + "\n")
        r = subprocess.run([binary, "eval", "-b", d, "__term/x"], capture_output=True, text=True)
        return json.loads(r.stdout)["result"]


def oracle(case):
    from opa_bindings import OpaEngine, OpaError
    engine = OpaEngine()
    try:
        for i, module in enumerate(case.get("modules") or []):
            engine.add_policy("m%d.rego" % i, module)
        if case.get("data") is not None:
            engine.add_data(case["data"])
        return ("result", engine.eval_document(case["_path"].replace("/", "."), case.get("input")))
    except OpaError as err:
        return ("undefined",) if err.code == "undefined" else ("error", err.code + ": " + err.message)
    finally:
        engine.close()


def load(binary, root, folders, errors):
    cases = []
    for path in sorted(glob.glob(os.path.join(root, "**", "*.y*ml"), recursive=True)):
        name = os.path.relpath(path, root)
        if folders and name.split(os.sep)[0] not in folders:
            continue
        with open(path) as f:
            doc = yaml.safe_load(f) or {}
        for case in doc.get("cases") or []:
            m = QUERY.match(case.get("query") or "")
            if not m or ("want_result" in case) == errors:
                continue
            if errors and "want_error_code" not in case:
                continue
            if "input_term" in case:
                try:
                    case["input"] = term_value(binary, case["input_term"])
                except (ValueError, KeyError):
                    continue  # a set or another term JSON cannot hold
            case["_path"] = m.group(1)[1:].replace(".", "/")
            case["_file"] = name
            if errors:
                case["_want"] = ("error", case["want_error_code"])
            else:
                rows = case["want_result"]
                case["_want"] = ("result", rows[0]["x"]) if rows else ("undefined",)
            cases.append(case)
    return cases


def passes(case, got):
    want = case["_want"]
    if want[0] == "error":
        return got[0] == "error" and want[1] in got[1]
    if got[0] != want[0]:
        return False
    if want[0] == "undefined" or canon(got[1]) == canon(want[1]):
        return True
    return bool(case.get("sort_bindings")) and canon(deep_sort(got[1])) == canon(deep_sort(want[1]))


def main():
    flags = {a for a in sys.argv[1:] if a.startswith("-")}
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    binary, root, folders = args[0], args[1], set(args[2:])
    cases = load(binary, root, folders, "--errors" in flags)
    failures = {}
    passed = 0
    with cf.ThreadPoolExecutor(4) as pool:
        answers = pool.map(lambda c: (c, run(binary, c, True), run(binary, c, False)), cases)
        for case, rvm, interpreter in answers:
            if passes(case, rvm) and passes(case, interpreter):
                passed += 1
            else:
                failures.setdefault(case["_file"].split(os.sep)[0], []).append((case, rvm, interpreter))
    for folder in sorted(failures):
        print("==", folder, len(failures[folder]))
        for case, rvm, interpreter in failures[folder]:
            print("  FAIL", case["_file"], "|", case["note"])
            if "-v" in flags or "--oracle" in flags:
                print("     want:", canon(case["_want"])[:300])
                print("     rvm: ", canon(rvm)[:300])
                if interpreter != rvm:
                    print("     int: ", canon(interpreter)[:300])
                if "--oracle" in flags:
                    print("     opa: ", canon(oracle(case))[:300])
    print(f"{passed}/{len(cases)} pass ({100.0 * passed / max(1, len(cases)):.1f}%)")


if __name__ == "__main__":
    main()
