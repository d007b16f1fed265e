#!/usr/bin/env python3
"""Random regular expressions, written as literals in a policy, on OPA's engine and on authzd.

    python regex_fuzz.py AUTHZD_BINARY SEED N [-v]

Draws N patterns from pieces where Go's syntax (RE2's, OPA's) and Rust's `regex` (regorus')
differ or meet: Perl classes, word boundaries, braces, classes with `[`, `&` or `~`, `\\Q...\\E`,
octal escapes, plus ordinary pieces. Each pattern becomes rules that call `regex.match`,
`regex.find_n`, `regex.replace` and `regex.split` on a set of texts (ASCII and not); the
module is evaluated by OPA (PyPI: opa-golib-python-bindings) rule by rule and by `authzd eval`
on both evaluators, and every rule whose answer differs is printed. The oracle evaluates with
strict builtin errors: where OPA fails a rule over a pattern it refuses, authzd must have
refused the pattern too (`regex.is_valid` false). Run it with the oracle venv's python."""
import json, os, random, subprocess, sys, tempfile
from opa_bindings import OpaEngine, OpaError

binary, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
R = random.Random(seed)
PIECES = ["\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\b", "\\B", "{", "}", "{2}", "{1,}", "{,2}",
          "{01}", "{1,2}", "[", "]", "[a-z]", "[\\d]", "[^\\w]", "[[:alpha:]]", "[[]", "[a&&b]",
          "[~]", "[]a]", "\\Qa.{\\E", "\\Q*", "\\012", "\\0", "\\x41", "\\x{e9}", "\\<", "\\>",
          "\\pL", "\\p{Greek}", "a", "b", "é", "١", "x", " ", ".", "*", "+", "?", "^", "$", "(",
          ")", "|", "(?i)", "(?:", "(?P<n>", "*?", "??", "{1001}", "-", ",", "0", "9", "_", "\\.",
          "\\{", "&", "~", ":"]
TEXTS = ["", "a", "ab12", "١٢٣", "é b", "aé_", "x{2}", "{a,b}", "a\u000bb", "a\u00a0b", "[&~]",
         "Ab C", "AAA", "a.{", "\u0391\u03b2", "12 34", "\n", "x--y"]

def rules(patterns):
    lines = ["package t", ""]
    for i, p in enumerate(patterns):
        lit = json.dumps(p)
        lines.append("v%d := regex.is_valid(%s)" % (i, lit))
        lines.append("m%d := [t | some t in input.texts; regex.match(%s, t)]" % (i, lit))
        lines.append("f%d := [regex.find_n(%s, t, -1) | some t in input.texts]" % (i, lit))
        lines.append("r%d := [regex.replace(t, %s, \"<>\") | some t in input.texts]" % (i, lit))
        lines.append("s%d := [regex.split(%s, t) | some t in input.texts]" % (i, lit))
    return "\n".join(lines) + "\n"

def opa(module, inp, keys):
    e = OpaEngine()
    try:
        e.add_policy("t.rego", module)
        answers = {}
        for key in keys:
            try:
                answers[key] = e.eval_document("t." + key, inp)
            except OpaError as err:
                answers[key] = {"error": err.message}
        return answers
    except OpaError as err:
        return {"error": err.message}
    finally:
        e.close()

def authzd(module, inp, *flags):
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "t.rego"), "w").write(module)
        open(os.path.join(d, "in.json"), "w").write(json.dumps(inp))
        r = subprocess.run([binary, "eval", "-b", d, "t", "-i", os.path.join(d, "in.json"),
                            "--log-level", "error", "--eval-timeout-ms", "600000",
                            "--max-instructions", "100000000", *flags], capture_output=True, text=True)
        if r.returncode != 0:
            return {"error": r.stderr.strip()}
        return json.loads(r.stdout).get("result")

patterns = ["".join(R.choice(PIECES) for _ in range(R.randint(1, 5))) for _ in range(n)]
inp = {"texts": TEXTS}
bad = same = 0
for start in range(0, n, 25):
    chunk = patterns[start:start + 25]
    module = rules(chunk)
    want = opa(module, inp, ["%s%d" % (k, i) for i in range(len(chunk)) for k in "vmfrs"])
    for flags in ([], ["--no-rvm"]):
        got = authzd(module, inp, *flags)
        if "error" in (want or {}) or "error" in (got or {}):
            print("ERROR", flags, want if "error" in (want or {}) else got)
            bad += 1
            continue
        for i, p in enumerate(chunk):
            for kind in "vmfrs":
                key = "%s%d" % (kind, i)
                refused = isinstance(want.get(key), dict) and "error" in want[key]
                if want.get(key) == got.get(key) or (refused and got.get("v%d" % i) is False):
                    same += 1
                    continue
                bad += 1
                print("DIFF %s %-8s %s" % (" ".join(flags) or "rvm", key, json.dumps(p)))
                if "-v" in sys.argv:
                    print("   opa:   ", json.dumps(want.get(key))[:600])
                    print("   authzd:", json.dumps(got.get(key))[:600])
print("%d answers equal, %d differ" % (same, bad))
