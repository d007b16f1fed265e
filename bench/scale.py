#!/usr/bin/env python3
"""Memory and reload cost as the data grows: for bundles of 10k, 100k and 400k users (about 1,
10 and 42 MB of data.json) and a rules-heavy bundle (2,000 rules), start the daemon and print

  - activation time (from its log),
  - RSS serving (after warm-up decisions),
  - peak RSS during a forced reload (SIGHUP), sampled every few milliseconds,
  - RSS after that reload and after 20 reloads,
  - decision p50 (OPA's timer_rego_query_eval_ns over 400 decisions on one connection).

    cargo build --release --bin authzd
    python3 bench/scale.py [--quick] [--binary target/release/authzd] [--json out.json]

--quick runs the 1 MB case only, with 3 reloads: CI runs it as a smoke test (no timing
assertions). The data is each user's {"roles": [...], "tenant": ..., "orders": [...]}, looked
up by one rule.
"""
import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

POLICY = """package authz

default allow := false

allow if {
	u := data.directory.users[input.user]
	u.tenant == input.tenant
	input.action in {"read", "list"}
}

allow if {
	u := data.directory.users[input.user]
	"admin" in u.roles
}
"""


def write_bundle(out, users, rules=0):
    os.makedirs(os.path.join(out, "directory"), exist_ok=True)
    with open(os.path.join(out, "policy.rego"), "w") as f:
        f.write(POLICY)
    for r in range(rules):
        with open(os.path.join(out, f"rule_{r}.rego"), "w") as f:
            f.write(f"package extra.r{r}\n\nallow if input.action == \"a{r}\"\n\n"
                    f"deny contains \"no\" if input.n > {r}\n")
    data = {f"u{i}": {"roles": [f"role{i % 10}", "viewer"] + (["admin"] if i % 1000 == 0 else []),
                      "tenant": f"t{i % 20}",
                      "orders": [f"o{i}-{k}" for k in range(3)]}
            for i in range(users)}
    path = os.path.join(out, "directory", "data.json")
    with open(path, "w") as f:
        json.dump({"users": data}, f)
    return os.path.getsize(path)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Daemon:
    def __init__(self, binary, bundle):
        self.log_path = tempfile.mktemp(prefix="authzd-scale-", suffix=".log")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(
            [binary, "run", "--bundle", f"scale={bundle}", "--addr", "127.0.0.1:0", "--no-grpc",
             "--recheck-interval-seconds", "3600", "--watch-debounce-ms", "60000"],
            cwd=ROOT, stderr=self.log, stdout=subprocess.DEVNULL)
        self.addr = None
        deadline = time.time() + 300
        while self.addr is None:
            m = re.search(r"HTTP listener ready addr=(127\.0\.0\.1:\d+)", self.text())
            if m:
                self.addr = m.group(1)
            if self.proc.poll() is not None:
                sys.exit(f"authzd exited:\n{self.text()}")
            if time.time() > deadline:
                sys.exit("authzd did not start")
            time.sleep(0.02)
        host, port = self.addr.split(":")
        self.conn = http.client.HTTPConnection(host, int(port))

    def text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def activations(self):
        return [int(m) for m in re.findall(r"bundle activated .*duration_ms=(\d+)", self.text())]

    def decide(self, user):
        body = json.dumps({"input": {"user": user, "tenant": "t7", "action": "read"}})
        for attempt in (1, 2):
            try:
                self.conn.request("POST", "/v1/data/authz/allow?metrics", body,
                                  {"Content-Type": "application/json"})
                reply = json.loads(self.conn.getresponse().read())
                return reply["metrics"]["timer_rego_query_eval_ns"]
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # The daemon closes a keep-alive connection left idle (--idle-timeout-ms)
                # while a long series of reloads runs: connect again, once.
                if attempt == 2 or self.proc.poll() is not None:
                    raise
                host, port = self.addr.split(":")
                self.conn = http.client.HTTPConnection(host, int(port))

    def reload(self):
        """SIGHUP; returns the peak RSS (KiB) seen until the reload's activation is logged."""
        before = len(self.activations())
        os.kill(self.proc.pid, signal.SIGHUP)
        peak = 0
        deadline = time.time() + 300
        while len(self.activations()) <= before:
            peak = max(peak, rss_kib(self.proc.pid))
            if time.time() > deadline:
                sys.exit("the reload did not finish")
            time.sleep(0.003)
        return max(peak, rss_kib(self.proc.pid))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def measure(binary, name, users, rules, reloads):
    bundle = tempfile.mkdtemp(prefix=f"authzd-scale-{name}-")
    size = write_bundle(bundle, users, rules)
    d = Daemon(binary, bundle)
    try:
        activation = d.activations()[0]
        for i in range(200):
            d.decide(f"u{i * 37 % max(users, 1)}")
        time.sleep(0.5)
        serving = rss_kib(d.proc.pid)
        peak = d.reload()
        time.sleep(0.5)
        after_one = rss_kib(d.proc.pid)
        for _ in range(reloads - 1):
            d.reload()
        time.sleep(0.5)
        after_all = rss_kib(d.proc.pid)
        evals = sorted(d.decide(f"u{i * 7919 % max(users, 1)}") for i in range(400))
        reload_ms = d.activations()[1:]
    finally:
        d.stop()
    mib = lambda kib: round(kib / 1024, 1)
    return {
        "case": name,
        "data_json_mb": round(size / 1e6, 1),
        "activation_ms_at_start": activation,
        "reload_activation_ms_median": statistics.median(reload_ms) if reload_ms else None,
        "rss_serving_mib": mib(serving),
        "rss_x_json": round(serving * 1024 / size, 1),
        "reload_peak_mib": mib(peak),
        "peak_x_serving": round(peak / serving, 2),
        "rss_after_1_reload_mib": mib(after_one),
        f"rss_after_{reloads}_reloads_mib": mib(after_all),
        f"after_{reloads}_x_after_1": round(after_all / after_one, 2),
        "eval_p50_us": round(statistics.median(evals) / 1000, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "authzd"))
    parser.add_argument("--quick", action="store_true", help="1 MB only, 3 reloads (CI smoke)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--cases", help="only these cases, comma-separated (1MB,10MB,42MB,rules)")
    parser.add_argument("--write-only", nargs=2, metavar=("DIR", "USERS"),
                        help="only write a bundle of USERS users to DIR (for other tools)")
    args = parser.parse_args()
    if args.write_only:
        size = write_bundle(args.write_only[0], int(args.write_only[1]))
        print(f"{args.write_only[0]}: {size / 1e6:.1f} MB of data.json")
        return
    if args.quick:
        cases, reloads = [("1MB", 10_000, 0)], 3
    else:
        cases = [("1MB", 10_000, 0), ("10MB", 100_000, 0), ("42MB", 400_000, 0),
                 ("2000 rules", 1_000, 1_000)]
        reloads = 20
    if args.cases:
        wanted = args.cases.split(",")
        cases = [c for c in cases if c[0] in wanted or (c[2] and "rules" in wanted)]
    results = []
    for name, users, rules in cases:
        result = measure(args.binary, name, users, rules, reloads)
        print(json.dumps(result), flush=True)
        results.append(result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


main()
