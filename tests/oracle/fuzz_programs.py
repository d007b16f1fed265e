#!/usr/bin/env python3
"""Random small Rego programs over fixed inputs, evaluated by OPA's engine (the oracle) and by
`authzd eval` on both evaluators; the programs whose answers differ are written to a file.

    python fuzz_programs.py SEED COUNT [AUTHZD] > summary   (with the oracle venv's python)

Differences go to fuzz_programs_SEED.txt in the current directory. OPA's bindings evaluate
strictly, so a program where OPA fails with a builtin error is skipped (not comparable), as is
one OPA refuses at compile time (the reasons are counted). This found that arithmetic on a
string failed the decision (src/policy/arithmetic_operands.rs)."""
import json, os, random, shutil, subprocess, sys, tempfile
from opa_bindings import OpaEngine, OpaError
B = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "..", "target", "debug", "authzd")
INPUTS = [
 {"a": 3, "f": 2.5, "s": "abc", "l": [1, 2, 3], "ss": ["x", "y"], "o": {"k": 1, "j": 2}, "n": None, "b": True, "e": [], "oo": {"p": {"q": [1, {"r": "z"}]}}},
 {"a": -1, "f": 0, "s": "", "l": "notalist", "ss": [], "o": [], "n": 0, "b": False, "e": {}, "oo": "x"},
 {"a": "3", "s": ["abc"], "l": [[1], [2, 3]], "ss": ["a", 1, None], "o": {"k": {"k": 1}}},
]
NUMS = ["input.a", "input.f", "1", "0", "-2", "2.5", "count(input.l)", "count(input.ss)", "sum(input.l)", "max(input.l)"]
STRS = ["input.s", '"abc"', '""', 'concat(",", input.ss)', 'upper(input.s)', 'sprintf("%v", [input.a])', 'input.ss[0]', 'object.get(input.o, "k", "d")']
COLLS = ["input.l[_]", "[a | a := input.l[_]; a > 1]", "input.l", "input.ss", "input.o", "input.e", "input.oo.p.q", "input.s", "input.n", "input.m", "[1, 2]", '{"a", "b"}', '{"x": 1}', "q", "p"]
ARITH = ["%s %s %s" % (a, op, b) for a in ["input.a", "input.f", "count(input.l)", "3", "0.1", "-7"] for op in ["+", "-", "*", "/", "%"] for b in ["input.a", "2", "0", "0.2", "input.f", "1e3"]]
SETS = ["{1, 2} | {2, 3}", "{1, 2} & {2, 3}", "{1, 2} - {2}", "{x | x := input.l[_]} | {9}", "{k | input.o[k]} - {\"k\"}"]
VALS = NUMS + STRS + ARITH[::7] + SETS + ["input.b", "null", "true", "input.o", "input.l", "[input.a, input.s]", '{"k": input.a}', "input.oo.p", "input.m", "input.n"]
def pick(xs): return random.choice(xs)
def cmp():
    return "%s %s %s" % (pick(VALS), pick(["==", "!=", "<", ">", ">=", "<="]), pick(VALS))
def stmt(bound, depth):
    r = random.random()
    v = "v%d" % len(bound)
    if r < 0.18: return cmp(), []
    if r < 0.30:
        bound.append(v); return "%s := %s" % (v, pick(VALS + bound[:-1] or VALS)), [v]
    if r < 0.42:
        bound.append(v); return "some %s in %s" % (v, pick(COLLS)), [v]
    if r < 0.50:
        k = "k%d" % len(bound); bound.extend([k, v]); return "some %s, %s in %s" % (k, v, pick(COLLS)), [k, v]
    if r < 0.56:
        bound.append(v); return "%s := %s[_]" % (v, pick(COLLS)), [v]
    if r < 0.64: return "not %s" % pick([cmp(), pick(VALS), "%s in %s" % (pick(VALS), pick(COLLS))]), []
    if r < 0.70: return "%s in %s" % (pick(VALS + bound), pick(COLLS)), []
    if r < 0.76 and bound: return "%s %s %s" % (pick(bound), pick(["==", "!=", ">"]), pick(VALS)), []
    if r < 0.82 and depth < 2:
        w = "w%d" % len(bound)
        inner = pick(["%s %s %s" % (w, pick(["==", "!=", ">", "<="]), pick(VALS)), "%s in %s" % (w, pick(COLLS)), "startswith(%s, %s)" % (w, pick(STRS)), "is_number(%s)" % w])
        return "every %s in %s { %s }" % (w, pick(COLLS), inner), []
    if r < 0.88: return pick(["startswith(%s, %s)" % (pick(STRS), pick(STRS)), "contains(%s, %s)" % (pick(STRS), pick(STRS)), "is_number(%s)" % pick(VALS), "object.get(input.o, %s, false)" % pick(STRS)]), []
    if r < 0.94 and depth < 2:
        bound.append(v)
        inner = []; b2 = list(bound)
        body = "; ".join(stmt(b2, depth + 1)[0] for _ in range(random.randint(1, 2)))
        term = pick(b2[len(bound):] or VALS)
        if random.random() < 0.4: term = "(%s %s %s)" % (term, pick(["*", "+", "%", "-", "/"]), pick(["2", "input.a", "0.5"]))
        return "%s := %s" % (v, pick(["[%s | %s]", "{%s | %s}"]) % (term, body)), [v]
    return pick(VALS), []
def body(depth=0):
    bound = []
    stmts = [stmt(bound, depth)[0] for _ in range(random.randint(1, 4))]
    if stmts[0].startswith("{"): stmts.insert(0, "true")  # OPA reads `if { {..} | ..` as a set comprehension
    if bound and random.random() < 0.8: stmts.append("is_array([%s])" % ", ".join(bound))
    return "; ".join(stmts), bound
def rule(name):
    r = random.random()
    b, bound = body()
    out = pick(bound) if bound and random.random() < 0.6 else pick(VALS)
    if r < 0.25: return "%s := %s if { %s }" % (name, out, b)
    if r < 0.40: return "default %s := false\n%s if { %s }" % (name, name, b)
    if r < 0.60: return "%s contains %s if { %s }" % (name, out, b)
    if r < 0.70: return "%s[%s] := %s if { %s }" % (name, pick(bound) if bound else '"k"', pick(VALS), b)
    if r < 0.80:
        b2, _ = body()
        return "%s := %s if { %s } else := %s if { %s } else := \"none\"" % (name, out, b, pick(VALS), b2)
    if r < 0.84: return "%s.a[%s] := %s if { %s }" % (name, pick(bound) if bound else '"k"', out, b)
    if r < 0.87:
        b2, _ = body()
        return "g%s(x) := 1 if { x > 0; %s }\ng%s(x) := 2 if { x < 0; %s }\n%s := [g%s(1), g%s(-1), g%s(0)]" % (name, b, name, b2, name, name, name, name)
    if r < 0.90: return "f%s(x) := y if { %s; y := [x, %s] }\n%s := [f%s(1), f%s(input.s)]" % (name, b, out, name, name, name)
    return "%s if { %s }" % (name, b)
def program():
    return "\n".join(rule(n) for n in ["p", "q", "r", "x"][: random.randint(2, 4)])
def opa(rules, inp):
    e = OpaEngine()
    try:
        e.add_policy("t.rego", "package t\n" + rules + "\n")
        return e.eval_document("t", inp)
    except OpaError as err:
        return "ERR " + err.code + " " + err.message[:200]
    finally:
        e.close()
def az(d, inp_path, rvm):
    args = [B, "eval", "--bundle", d, "--input", inp_path, "data.t"]
    if not rvm: args.insert(2, "--no-rvm")
    p = subprocess.run(args, capture_output=True, text=True)
    try:
        return json.loads(p.stdout).get("result", {})
    except Exception:
        return "ERR " + (p.stdout + p.stderr).strip()[:300]
def norm(v):
    return json.loads(json.dumps(v, sort_keys=True))
seed = int(sys.argv[1]); n = int(sys.argv[2]); random.seed(seed)
out = open("fuzz_programs_%d.txt" % seed, "w"); nd = 0; nerr = 0; nbi = 0; reasons = {}
for i in range(n):
    prog = program(); inp = pick(INPUTS)
    o = opa(prog, inp)
    if isinstance(o, str) and "rego_" in o:  # OPA refuses at compile time: skip
        nerr += 1; reasons[o.split("rego_")[1][:60]] = reasons.get(o.split("rego_")[1][:60], 0) + 1; continue
    if isinstance(o, str) and ("eval_type_error" in o or "eval_builtin_error" in o): nbi += 1; continue  # strict only
    d = tempfile.mkdtemp(); open(d + "/t.rego", "w").write("package t\n" + prog + "\n")
    ip = d + ".json"; open(ip, "w").write(json.dumps(inp))
    r = az(d, ip, True); t = az(d, ip, False)
    shutil.rmtree(d); os.remove(ip)
    def same(a):
        if isinstance(a, str) or isinstance(o, str): return isinstance(a, str) and isinstance(o, str)
        return norm(a) == norm(o)
    if not (same(r) and same(t)):
        nd += 1
        out.write("=== #%d\n%s\ninput: %s\nopa:    %s\nrvm:    %s\ninterp: %s\n" % (i, prog, json.dumps(inp), json.dumps(o), json.dumps(r), json.dumps(t)))
print("seed", seed, ":", nd, "differ of", n - nerr - nbi, "compared;", nerr, "refused by OPA;", nbi, "builtin errors")
for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:8]: print("  ", v, k)
