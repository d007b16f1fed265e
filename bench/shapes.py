#!/usr/bin/env python3
"""The policy shapes of bench/shapes/ over the wire, as issue #16 measured them: for 1k and 100k
users, on the default configuration and on --no-rvm, the p50 of OPA's timer_rego_query_eval_ns
(`?metrics`) over 400 decisions on one connection, per shape; then the CPU an idle daemon
spends per minute on a 12 MB data.json at the bundle root with the default re-check.

    cargo build --release --bin authzd
    python3 bench/shapes.py [--binary target/release/authzd] [--idle-seconds 60] [--json out.json]

All three shapes sit in one bundle (as they would in one service's bundle), with the data of
benches/shapes.rs: each user's {"roles": [...], "tenant": ..., "orders": [...]}.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES = ["lookup", "rbac", "users"]


def users(n):
    return {f"u{i}": {"roles": [f"role{i % 10}", "viewer"] + (["admin"] if i % 100 == 0 else []),
                      "tenant": f"t{i % 20}",
                      "orders": [f"o{i}-{k}" for k in range(3)]}
            for i in range(n)}


def write_bundle(out, n):
    for shape in SHAPES:
        os.makedirs(os.path.join(out, shape), exist_ok=True)
        shutil.copy(os.path.join(ROOT, "bench", "shapes", shape, "policy.rego"),
                    os.path.join(out, shape, "policy.rego"))
    u = users(n)
    with open(os.path.join(out, "data.json"), "w") as f:
        json.dump({"lookup": {"users": u}, "rbac": {"users": u}, "users": u, "profiles": u}, f)


class Daemon:
    def __init__(self, binary, bundle, extra):
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [binary, "run", "--bundle", f"shapes={bundle}", "--addr", "127.0.0.1:0", "--no-grpc",
             *extra], cwd=ROOT, stderr=self.log, stdout=subprocess.DEVNULL)
        addr, deadline = None, time.time() + 300
        while addr is None:
            self.log.seek(0)
            m = re.search(r"HTTP listener ready addr=(127\.0\.0\.1:\d+)", self.log.read())
            if m:
                addr = m.group(1)
            elif self.proc.poll() is not None:
                self.log.seek(0)
                sys.exit(f"authzd exited:\n{self.log.read()}")
            elif time.time() > deadline:
                sys.exit("authzd did not start")
            time.sleep(0.02)
        host, port = addr.split(":")
        self.conn = http.client.HTTPConnection(host, int(port))

    def eval_ns(self, path, inp):
        self.conn.request("POST", f"/v1/data/{path}?metrics", json.dumps({"input": inp}),
                          {"Content-Type": "application/json"})
        reply = json.loads(self.conn.getresponse().read())
        if "code" in reply:
            sys.exit(f"{path}: {reply}")
        return reply["metrics"]["timer_rego_query_eval_ns"]

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def decisions(binary, n, no_rvm, count):
    bundle = tempfile.mkdtemp(prefix="authzd-shapes-")
    try:
        write_bundle(bundle, n)
        daemon = Daemon(binary, bundle, ["--no-rvm"] if no_rvm else [])
        out = {}
        try:
            for shape in SHAPES:
                samples = []
                for i in range(count):
                    k = (i * 7919) % n
                    inp = {"user": f"u{k}", "action": "read", "tenant": f"t{k % 20}", "order": "o1-0"}
                    samples.append(daemon.eval_ns(f"{shape}/allow", inp))
                out[shape] = statistics.median(samples) / 1000
        finally:
            daemon.stop()
        return out
    finally:
        shutil.rmtree(bundle, ignore_errors=True)


def idle_cpu(binary, seconds):
    """CPU seconds per minute of a daemon serving nothing, 100k users at the bundle root."""
    bundle = tempfile.mkdtemp(prefix="authzd-shapes-idle-")
    try:
        write_bundle(bundle, 100_000)
        daemon = Daemon(binary, bundle, [])
        try:
            time.sleep(2)
            start, t0 = daemon.cpu_seconds(), time.time()
            time.sleep(seconds)
            used, wall = daemon.cpu_seconds() - start, time.time() - t0
        finally:
            daemon.stop()
        return used * 60 / wall
    finally:
        shutil.rmtree(bundle, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "authzd"))
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--json")
    args = parser.parse_args()
    results = {}
    for n in (1_000, 100_000):
        for no_rvm in (False, True):
            label = f"{n // 1000}k users, {'--no-rvm' if no_rvm else 'default'}"
            results[label] = decisions(args.binary, n, no_rvm, args.count)
            cells = "  ".join(f"{s} {v:8.1f} µs" for s, v in results[label].items())
            print(f"{label:24} {cells}", flush=True)
    if args.idle_seconds > 0:
        results["idle_cpu_seconds_per_minute"] = idle_cpu(args.binary, args.idle_seconds)
        print(f"idle, 12 MB data, default re-check: "
              f"{results['idle_cpu_seconds_per_minute']:.3f} s of CPU per minute")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
