#!/usr/bin/env python3
"""Differential test against OPA's real engine (PyPI: opa-golib-python-bindings, OPA's Go engine).

    python differential.py AUTHZD_BINARY [--requests N]

1. Every case under tests/cases/*.yaml is evaluated by OPA and must give the case's expected
   answer. `cargo test` (tests/decision_cases.rs) holds authzd, on the RVM and on the interpreter,
   to the same expected answers, so the two checks together say: authzd answers as OPA does.
2. The example bundle (policies/) is served by the real authzd binary and loaded into OPA; N
   seeded random inputs per rule are sent to both over their own interfaces (HTTP for authzd),
   and every answer must be equal.

A difference is accepted only when ACCEPTED names it, with its reason. Exit 1 on any other.
Run it with the oracle venv's python: python3 -m venv V && V/bin/pip install
--ignore-requires-python opa-golib-python-bindings pyyaml."""
import glob, json, os, random, socket, subprocess, sys, tempfile, time, urllib.request

import yaml
from opa_bindings import OpaEngine, OpaError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Case notes (or "file: note") whose expected answer is not OPA's, and why.
ACCEPTED_CASES = {
    # authzd's own evaluation limits: OPA has no instruction limit or per-decision timer.
    "a policy that iterates too long is stopped (RVM instruction limit, interpreter timer)":
        "authzd limit (--max-instructions, --eval-timeout-ms); OPA has none",
    # The Data API's answer (OPA's server: a function is not a document, so it is undefined);
    # the oracle is OPA's engine, whose query compiler refuses the reference instead.
    "a path naming a function is undefined": "OPA's HTTP server semantics, not its engine's",
    # OPA v1.20.2 refuses `import rego.v2`, which later OPA added (issue 9224: the future
    # keywords and/or/not); the expected values are OPA's own conformance cases'.
    "rego_v2.yaml: rego.v2: a negated body with one statement false": "newer than the oracle",
    "rego_v2.yaml: rego.v2: a negated body with every statement true": "newer than the oracle",
    "rego_v2.yaml: rego.v2: a negated call keeps an undefined argument inside the not":
        "newer than the oracle",
    # OPA's conformance cases after v1.20.2 pin SemVer 2.0's rules (no leading zeros, no empty
    # pre-release or build part); the oracle still reads those versions as valid.
    "semver_strict.yaml: semver strict: is_valid rejects leading zeros and empty parts":
        "newer than the oracle",
    "semver_strict.yaml: semver strict: compare of a leading zero is an error":
        "newer than the oracle",
    "semver_strict.yaml: semver strict: compare of a numeric pre-release identifier with a "
    "leading zero is an error": "newer than the oracle",
    "semver_strict.yaml: semver strict: compare of an empty pre-release is an error":
        "newer than the oracle",
}
# Files about authzd's own behaviour rather than Rego's, checked by cargo test only:
# paths.yaml is how the Data API turns a URL path into a reference (OPA's server, which the
# oracle does not include: it evaluates references, not URL paths).
AUTHZD_ONLY_FILES = {"paths.yaml"}


class NotComparable(Exception):
    """OPA's engine as the bindings run it always has strict builtin errors: where a builtin
    fails and the case is not strict, OPA's non-strict answer cannot be had from it."""

# Rule paths of the example bundle compared on random inputs, and accepted differences there:
# (path, reason) for answers that differ by design. Empty: every answer must match.
ACCEPTED_EXAMPLE = {}


def opa_answer(modules, data, input, path, strict):
    """OPA's answer as the cases write it: ("result", v), ("undefined",), ("error", code)."""
    e = OpaEngine()
    try:
        for i, m in enumerate(modules):
            e.add_policy("m%d.rego" % i, m)
        if data is not None:
            e.add_data(data)
        try:
            return ("result", e.eval_document(path.replace("/", "."), input))
        except OpaError as err:
            if err.code == "undefined":
                return ("undefined",)
            for code in ("eval_type_error", "eval_builtin_error", "eval_conflict_error"):
                if code in err.message or err.code == code:
                    # The bindings evaluate with strict builtin errors; without it OPA's answer
                    # to a builtin error is undefined.
                    if code != "eval_conflict_error" and not strict:
                        raise NotComparable(err.message)
                    return ("error", code)
            return ("error", err.code + ": " + err.message)
    finally:
        e.close()


def bundle_modules(directory):
    modules, data = [], {}
    for path in sorted(glob.glob(os.path.join(ROOT, directory, "**", "*.rego"), recursive=True)):
        if not path.endswith("_test.rego"):
            modules.append(open(path).read())
    found = []
    for name in ("data.json", "data.yaml", "data.yml"):
        found += glob.glob(os.path.join(ROOT, directory, "**", name), recursive=True)
    for path in sorted(found):
        rel = os.path.relpath(os.path.dirname(path), os.path.join(ROOT, directory))
        node = data
        if rel != ".":
            for part in rel.split(os.sep):
                node = node.setdefault(part, {})
        with open(path) as f:
            node.update(json.load(f) if path.endswith(".json") else yaml.safe_load(f))
    return modules, data


def expected(case):
    if "want_result" in case:
        return ("result", case["want_result"])
    if case.get("want_undefined"):
        return ("undefined",)
    return ("error", case.get("want_error"))


def check_cases():
    failures, checked, accepted, not_comparable = [], 0, 0, []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "cases", "*.yaml"))):
        name = os.path.basename(path)
        if name in AUTHZD_ONLY_FILES:
            continue
        for case in yaml.safe_load(open(path))["cases"]:
            note = case["note"]
            if note in ACCEPTED_CASES or ("%s: %s" % (name, note)) in ACCEPTED_CASES:
                accepted += 1
                continue
            if case.get("bundle"):
                modules, data = bundle_modules(case["bundle"])
            else:
                modules, data = case["modules"], None
            if case.get("data") is not None:
                data = {**(data or {}), **case["data"]}
            try:
                got = opa_answer(modules, data, case.get("input"), case["path"],
                                 case.get("strict"))
            except NotComparable:
                not_comparable.append("%s: %s" % (name, note))
                continue
            want = expected(case)
            checked += 1
            if got != want:
                failures.append("%s: %s\n    OPA:  %s\n    want: %s" % (name, note, got, want))
    return failures, checked, accepted, not_comparable


# --- the example bundle on random inputs -----------------------------------------------------

USERS = ["10001", "10002", "20001", "30001", 30001, "", None]
ROLES = [["customer"], ["warehouse"], ["admin"], ["support"], [], None]
ACTIONS = ["view", "cancel", "process", "refund", "initiate", "delete", "", None]
SERVICES = ["orders", "payment", "inventory", "gateway", "", None]


def maybe(rng, value, p=0.8):
    return value if rng.random() < p else None


def random_input(rng):
    def pick(xs):
        return rng.choice(xs)
    doc = {
        "subject": {"id": pick(USERS), "roles": pick(ROLES)},
        "action": pick(ACTIONS),
        "resource": {
            "type": pick(["order", "payment", "item", None]),
            "id": pick(["42", "43", 42, None]),
            "owner": pick(USERS),
            "created_at": pick(["2026-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "bad", None]),
            "amount": pick([1, 100, 100000, -5, "10", None]),
            "currency": pick(["EUR", "USD", "XXX", None]),
            "quantity": pick([1, 5, 1000, 0, None]),
        },
        "caller": {"service": pick(SERVICES)},
        # No "identity": authzd removes a client-sent one before evaluating (only its own
        # verified identity step writes it), so OPA would be asked a different question.
        "now": pick(["2026-01-01T00:10:00Z", "2026-01-01T02:00:00Z", None]),
    }

    def prune(v):
        if isinstance(v, dict):
            return {k: prune(x) for k, x in v.items() if x is not None and rng.random() < 0.9}
        return v
    return prune(doc)


def rule_paths(modules):
    """Every complete or partial rule name of every package (package/rule), from the text."""
    paths = set()
    for m in modules:
        package = None
        for line in m.splitlines():
            s = line.strip()
            if s.startswith("package "):
                package = s.split()[1].replace(".", "/")
            elif package and line[:1].isalpha() and not s.startswith(("import", "default ")):
                name = s.split()[0].split("(")[0].split("[")[0].split(".")[0]
                if name.isidentifier() and "(" not in s.split()[0] and not name.startswith("test_"):
                    paths.add(package + "/" + name)
    return sorted(paths)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_example(binary, n):
    modules, data = bundle_modules("policies")
    port = free_port()
    log = tempfile.TemporaryFile()
    daemon = subprocess.Popen(
        [binary, "run", "--bundle", os.path.join(ROOT, "policies"), "--addr", "127.0.0.1:%d" % port,
         "--grpc-addr", "127.0.0.1:0", "--diagnostic-addr", "127.0.0.1:0"],
        stdout=log, stderr=log)
    failures, checked, not_comparable = [], 0, 0
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/health?bundles" % port, timeout=1)
                break
            except Exception:
                if daemon.poll() is not None:
                    log.seek(0)
                    raise SystemExit("authzd exited: " + log.read().decode())
                time.sleep(0.1)
        engine = OpaEngine()
        for i, m in enumerate(modules):
            engine.add_policy("m%d.rego" % i, m)
        engine.add_data(data)
        rng = random.Random(20261201)
        for path in rule_paths(modules):
            for _ in range(n):
                input = random_input(rng)
                try:
                    want = ("result", engine.eval_document(path.replace("/", "."), input))
                except OpaError as err:
                    if err.code != "undefined":
                        # A builtin failed: OPA's non-strict answer cannot be had (NotComparable).
                        not_comparable += 1
                        continue
                    want = ("undefined",)
                body = json.dumps({"input": input}).encode()
                url = "http://127.0.0.1:%d/v1/data/%s" % (port, path)
                req = urllib.request.Request(url, body,
                                             {"Content-Type": "application/json"})
                try:
                    answer = json.load(urllib.request.urlopen(req, timeout=10))
                    got = ("result", answer["result"]) if "result" in answer else ("undefined",)
                except urllib.error.HTTPError as err:
                    got = ("error", json.load(err))
                checked += 1
                if got != want and path not in ACCEPTED_EXAMPLE:
                    failures.append("policies %s\n    input: %s\n    OPA:    %s\n    authzd: %s"
                                    % (path, json.dumps(input), want, got))
        engine.close()
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    return failures, checked, not_comparable


def main():
    binary = sys.argv[1]
    n = int(sys.argv[sys.argv.index("--requests") + 1]) if "--requests" in sys.argv else 200
    failures, checked, accepted, not_comparable = check_cases()
    print("tests/cases: %d cases answered as OPA answers, %d accepted differences, %d not"
          % (checked - len(failures), accepted, len(failures)))
    print("tests/cases: %d not comparable (a builtin error without strict mode; the oracle is"
          " always strict): %s" % (len(not_comparable), "; ".join(not_comparable)))
    example_failures, example_checked, example_nc = check_example(binary, n)
    print("policies/: %d of %d random decisions equal to OPA's; %d not comparable (a builtin"
          " error)" % (example_checked - len(example_failures), example_checked, example_nc))
    for f in failures + example_failures[:20]:
        print("DIFFERENT:", f)
    if len(example_failures) > 20:
        print("... and %d more" % (len(example_failures) - 20))
    sys.exit(1 if failures or example_failures else 0)


if __name__ == "__main__":
    main()
