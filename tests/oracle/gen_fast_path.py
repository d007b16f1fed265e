#!/usr/bin/env python3
"""Writes tests/cases/fast_path.yaml: the constructs that decide whether a rule may run on the
RVM, each with OPA's answer (from opa-golib-python-bindings, OPA's Go engine) and the evaluator
authzd must pick. Run with the oracle's Python:

    python3 -m venv /tmp/oracle && /tmp/oracle/bin/pip install --ignore-requires-python opa-golib-python-bindings
    /tmp/oracle/bin/python tests/oracle/gen_fast_path.py
"""
import json
import os

from opa_bindings.engine import OpaEngine, OpaError

CASES = [
    # What the RVM gets wrong: routed to the interpreter.
    ("a default function called directly", ["package p\ndefault f(_) := 1\nf(x) := 2 if x > 5\nr := [f(1), f(10)]\n"], "p/r", None, None, "interpreter"),
    ("a default function inside a comprehension", ["package p\ndefault f(_) := 1\nf(x) := 2 if x > 5\nr := [f(x) | some x in [1, 10]]\n"], "p/r", None, None, "interpreter"),
    ("a default function through a ref head", ["package p\ndefault a.f(_) := 1\na.f(x) := 2 if x > 5\nr := [a.f(1), a.f(10)]\n"], "p/r", None, None, "interpreter"),
    ("a default function of another package", ["package lib\ndefault f(_) := 1\nf(x) := 2 if x > 5\n", "package p\nimport data.lib\nr := [lib.f(1), lib.f(10)]\n"], "p/r", None, None, "interpreter"),
    ("a ref head with a variable before its last segment, next to an unrelated rule", ["package p\nsvc[name].allow := true if some name in [\"a\"]\nunrelated := 1\nr := svc[input.s].allow\n"], "p/r", None, {"s": "a"}, "interpreter"),
    ("a whole package read, one of its rules undefined", ["package p\nr := data.a\n", "package a\nx := input.v\n"], "p/r", {"a": {"y": 2}}, {}, "interpreter"),
    ("a package iterated, one of its rules undefined", ["package p\nr := [v | some k; v := data.a[k]]\n", "package a\nx := input.v\nz := 3\n"], "p/r", {"a": {"y": 2}}, {}, "interpreter"),
    ("a number literal into number-like keys of data", ["package p\nr := data.d[1]\n"], "p/r", {"d": {"1": 5}}, None, "interpreter"),
    ("a number from the input into number-like keys of data", ["package p\nr := data.d[input.i]\n"], "p/r", {"d": {"1": 5}}, {"i": 1}, "interpreter"),
    ("a string from the input into number-like keys of data keeps the RVM", ["package p\nr := data.d[input.i]\n"], "p/r", {"d": {"1": 5}}, {"i": "1"}, "rvm"),
    ("a rule whose path is also in the data", ["package p\nr := data.a.b\n", "package a\nb.c := 1\n"], "p/r", {"a": {"b": {"d": 2}}}, None, "interpreter"),
    ("walk", ["package p\nr := [p | walk(input, [p, v]); v == 1]\n"], "p/r", None, {"a": {"b": 1}}, "interpreter"),
    ("with", ["package p\nq := input.x\nr := v if { v := q with input.x as 2 }\n"], "p/r", None, {"x": 1}, "interpreter"),
    # The shapes people write: on the RVM.
    ("default and several bodies", ["package p\ndefault allow := false\nallow if input.a\nallow if input.b\n"], "p/allow", None, {"b": True}, "rvm"),
    ("default and several bodies, none holds", ["package p\ndefault allow := false\nallow if input.a\nallow if input.b\n"], "p/allow", None, {}, "rvm"),
    ("local assignments", ["package p\nallow if { u := input.user; r := u.roles; \"admin\" in r }\n"], "p/allow", None, {"user": {"roles": ["admin"]}}, "rvm"),
    ("some ... in", ["package p\nallow if { some role in input.roles; role == \"admin\" }\n"], "p/allow", None, {"roles": ["viewer", "admin"]}, "rvm"),
    ("some key, value in", ["package p\nr contains k if { some k, v in input.m; v > 1 }\n"], "p/r", None, {"m": {"a": 1, "b": 2}}, "rvm"),
    ("every", ["package p\nallow if { every x in input.xs { x > 0 } }\n"], "p/allow", None, {"xs": [1, 2]}, "rvm"),
    ("every over an empty collection", ["package p\nallow if { every x in input.xs { x > 0 } }\n"], "p/allow", None, {"xs": []}, "rvm"),
    ("every that fails", ["package p\ndefault allow := false\nallow if { every x in input.xs { x > 0 } }\n"], "p/allow", None, {"xs": [1, -1]}, "rvm"),
    ("a partial set (deny contains msg)", ["package p\ndeny contains msg if { input.a; msg := \"a\" }\ndeny contains msg if { input.b; msg := \"b\" }\n"], "p/deny", None, {"a": True, "b": True}, "rvm"),
    ("else", ["package p\nr := 1 if input.a else := 2 if input.b else := 3\n"], "p/r", None, {"b": True}, "rvm"),
    ("else, the last", ["package p\nr := 1 if input.a else := 2 if input.b else := 3\n"], "p/r", None, {}, "rvm"),
    ("ground ref heads selected by a key from the input: a read of the namespace svc", ["package p\nsvc.a.allow := true\nsvc.b.allow := false\nunrelated := 1\nr := svc[input.s].allow\n"], "p/r", None, {"s": "b"}, "interpreter"),
    ("ground ref heads", ["package p\nsvc.a.allow := true\nsvc.b.allow := false\nunrelated := 1\nr := [svc.a.allow, svc.b.allow]\n"], "p/r", None, None, "rvm"),
    ("a function defined by a ref head", ["package p\nfns.double(x) := x * 2\nr := fns.double(input.n)\n"], "p/r", None, {"n": 2}, "rvm"),
    ("OPA's RBAC shape, data beside the policy", ["package rbac\ndefault allow := false\nallow if { some role in data.rbac.bindings[input.user]; some grant in data.rbac.grants[role]; grant.action == input.action; grant.type == input.type }\n"], "rbac/allow", {"rbac": {"bindings": {"alice": ["admin"], "bob": ["viewer"]}, "grants": {"admin": [{"action": "write", "type": "order"}], "viewer": [{"action": "read", "type": "order"}]}}}, {"user": "bob", "action": "read", "type": "order"}, "rvm"),
    ("OPA's RBAC shape, denied", ["package rbac\ndefault allow := false\nallow if { some role in data.rbac.bindings[input.user]; some grant in data.rbac.grants[role]; grant.action == input.action; grant.type == input.type }\n"], "rbac/allow", {"rbac": {"bindings": {"alice": ["admin"], "bob": ["viewer"]}, "grants": {"admin": [{"action": "write", "type": "order"}], "viewer": [{"action": "read", "type": "order"}]}}}, {"user": "bob", "action": "write", "type": "order"}, "rvm"),
    ("an ABAC shape with a helper rule", ["package abac\nimport rego.v1\ndefault allow := false\nuser := data.abac.users[input.user]\nallow if { user.tenant == input.resource.tenant; input.action == \"read\" }\nallow if { user.tier == \"gold\"; input.resource.owner == input.user }\n"], "abac/allow", {"abac": {"users": {"u1": {"tenant": "t1", "tier": "gold"}}}}, {"user": "u1", "action": "write", "resource": {"tenant": "t2", "owner": "u1"}}, "rvm"),
]


def opa_answer(modules, path, data, inp):
    engine = OpaEngine()
    for i, module in enumerate(modules):
        engine.add_policy(f"case_{i}.rego", module)
    if data is not None:
        engine.add_data(data)
    try:
        return {"want_result": engine.eval_document(path.replace("/", "."), inp)}
    except OpaError as e:
        if e.code == "undefined":
            return {"want_undefined": True}
        raise


def main():
    out = ["# Where each construct runs, and the answer either way: OPA's (from its own engine, written",
           "# by tests/oracle/gen_fast_path.py). `want_interpreter` cases are the RVM's known wrong",
           "# answers, which the routing keeps on the interpreter; `want_rvm` cases show the RVM right.",
           "cases:"]
    for note, modules, path, data, inp, evaluator in CASES:
        case = {"note": note, "modules": modules, "path": path}
        if data is not None:
            case["data"] = data
        if inp is not None:
            case["input"] = inp
        case.update(opa_answer(modules, path, data, inp))
        case["want_rvm" if evaluator == "rvm" else "want_interpreter"] = True
        out.append("  - " + json.dumps(case))
    target = os.path.join(os.path.dirname(__file__), "..", "cases", "fast_path.yaml")
    with open(target, "w") as f:
        f.write("\n".join(out) + "\n")


main()
