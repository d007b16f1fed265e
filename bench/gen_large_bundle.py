#!/usr/bin/env python3
"""Writes a large bundle for reload measurements: 1,100 rules in 100 packages and a ~10 MB
data.json (100,000 users with roles and attributes).

    python3 bench/gen_large_bundle.py /tmp/large-bundle
"""
import json
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "large-bundle"
os.makedirs(out, exist_ok=True)
revision = sys.argv[2] if len(sys.argv) > 2 else "large-1"

with open(os.path.join(out, ".manifest"), "w") as f:
    json.dump({"revision": revision, "roots": ["svc", "users"]}, f)

for p in range(100):
    lines = [f"package svc.s{p}", "", "default allow := false", ""]
    for r in range(10):
        lines += [
            f"allow if {{",
            f'\tinput.action == "a{r}"',
            f'\t"role{r}" in data.users[input.subject.id].roles',
            f"}}",
            "",
            f"rule_{r} if {{",
            f'\tinput.resource.kind == "k{p}_{r}"',
            f"\tdata.users[input.subject.id].level >= {r}",
            f"}}",
            "",
        ]
    os.makedirs(os.path.join(out, "svc"), exist_ok=True)
    with open(os.path.join(out, "svc", f"s{p}.rego"), "w") as f:
        f.write("\n".join(lines))

users = {
    f"u{i}": {"roles": [f"role{i % 10}", f"role{(i * 7) % 10}"], "level": i % 10, "team": f"team-{i % 500}", "email": f"user{i}@example.com"}
    for i in range(100_000)
}
os.makedirs(os.path.join(out, "users"), exist_ok=True)
with open(os.path.join(out, "users", "data.json"), "w") as f:
    json.dump(users, f)

size = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(out) for n in ns)
print(f"{out}: 100 packages, {100 * 20} rule definitions ({100 * 11} rules incl. defaults), {size / 1e6:.1f} MB")
