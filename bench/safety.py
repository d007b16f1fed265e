#!/usr/bin/env python3
"""Measures the policy-change safety tools: `authzd replay` throughput on a large decision log,
and what shadow evaluation costs the decisions it shadows.

    cargo build --release --bin authzd --example loadgen
    python3 bench/safety.py replay [--count 1000000] [--threads 2]
    python3 bench/safety.py shadow [--seconds 10] [--rounds 3]

replay: the release daemon serves the example bundle with its decision-log file sink on, and
answers a seed of varied decisions (orders, payment, inventory; owners, staff, admins, other
users, fresh and stale orders). The seed log is repeated with fresh decision ids up to
--count events, and `authzd replay` replays it against a candidate that denies inventory reads
to subject 10001 (so some decisions do change), timed end to end.

shadow: the load generator against the release daemon without and with `--shadow-bundle` (the
candidate above), alternating, --rounds times each, at one connection (closed loop), at a fixed
5000 decisions/s on 4 connections, and at 16 connections (closed loop, throughput). Besides
throughput, p50 and p99 it reports the CPU the runtime's worker threads (the request path)
spent per decision, and the shadow worker's, from /proc: CPU time travels between loaded and
idle machines better than latency does.
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
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUTHZD = os.path.join(ROOT, "target", "release", "authzd")
LOADGEN = os.path.join(ROOT, "target", "release", "examples", "loadgen")


def start(*args):
    log = tempfile.NamedTemporaryFile("w+", prefix="authzd-safety-", suffix=".log")
    proc = subprocess.Popen(
        [AUTHZD, "run", "--addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", *args],
        cwd=ROOT, stderr=log, stdout=subprocess.DEVNULL)
    deadline = time.time() + 30
    while True:
        log.seek(0)
        text = log.read()
        found = re.search(r"HTTP listener ready addr=(127\.0\.0\.1:\d+)", text)
        if found and "authzd ready" in text:
            return proc, found.group(1), log
        if proc.poll() is not None or time.time() > deadline:
            sys.exit(f"authzd did not start:\n{text}")
        time.sleep(0.01)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def candidate(directory):
    """The example bundle, except that subject 10001 may no longer read stock."""
    root = os.path.join(directory, "candidate")
    shutil.copytree(os.path.join(ROOT, "policies"), root)
    path = os.path.join(root, "inventory", "policy.rego")
    with open(path) as f:
        text = f.read()
    changed = text.replace('\tinput.subject.id != ""\n}',
                           '\tinput.subject.id != ""\n\tinput.subject.id != "10001"\n}', 1)
    assert changed != text, "the inventory policy changed: update bench/safety.py"
    with open(path, "w") as f:
        f.write(changed)
    return root


def seed_requests():
    fresh = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    stale = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
    subjects = [("10001", ["customer"]), ("10002", ["customer"]), ("20001", []),
                ("30001", []), ("40001", []), ("", [])]
    for n in range(100):
        sid, roles = subjects[n % len(subjects)]
        subject = {"id": sid, "roles": roles}
        owner = "10001" if n % 3 else "10002"
        created = fresh if n % 4 else stale
        for action in ["view", "cancel", "process", "delete"]:
            resource = {"type": "order", "id": str(n), "owner": owner, "created_at": created}
            yield "orders/allow", {"subject": subject, "action": action, "resource": resource}
            yield "orders/decision", {"subject": subject, "action": action, "resource": resource}
        for action in ["read", "update"]:
            yield "inventory/allow", {"subject": subject, "action": action}
        for caller in ["order-service", "inventory-service"]:
            yield "payment/allow", {"caller": {"service": caller}, "subject": subject,
                                    "action": "initiate" if n % 2 else "refund"}


def replay(args):
    work = tempfile.mkdtemp(prefix="authzd-replay-")
    seed = os.path.join(work, "seed.jsonl")
    proc, addr, _ = start("--bundle", "policies", "--decision-logs-file", seed)
    conn = http.client.HTTPConnection(addr)
    sent = 0
    for path, input_doc in seed_requests():
        conn.request("POST", f"/v1/data/{path}", json.dumps({"input": input_doc}),
                     {"Content-Type": "application/json"})
        conn.getresponse().read()
        sent += 1
    stop(proc)
    with open(seed) as f:
        lines = [line for line in f if line.strip()]
    assert len(lines) == sent, f"{len(lines)} of {sent} decisions logged"
    log = os.path.join(work, "decisions.jsonl")
    marker = '"decision_id":"'
    with open(log, "w") as out:
        for n in range(args.count):
            line = lines[n % len(lines)]
            at = line.index(marker) + len(marker)
            out.write(line[:at] + str(uuid.uuid4()) + line[at + 36:])
    size = os.path.getsize(log)
    print(f"decision log: {args.count} events from {sent} seed decisions, {size / 1e6:.0f} MB")
    cand = candidate(work)
    cmd = [AUTHZD, "replay", "--bundle", cand, "--decision-logs", log, "--format", "json",
           "--threads", str(args.threads)]
    print("$", " ".join(cmd))
    started = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    report = json.loads(result.stdout)
    print(f"replayed {report['replayed']} decisions in {elapsed:.1f} s wall "
          f"({report['replayed'] / elapsed:,.0f}/s; replay itself {report['elapsed_seconds']:.1f} s), "
          f"{report['threads']} threads: {report['unchanged']} unchanged, {report['changed']} changed")
    for change in report["changes"]:
        print(f"  {change['path']:<18} {change['kind']:<14} {change['count']}")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work)


def loadgen(addr, seconds, connections, rate=None):
    cmd = [LOADGEN, "run", "--protocol", "http", "--target", addr,
           "-c", str(connections), "-d", str(seconds), "--json"]
    if rate:
        cmd += ["--rate", str(rate)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def thread_cpu(pid):
    """CPU seconds (user + system) of each thread of `pid`, by thread name."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[(name, tid)] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def cpu_by_role(before, after):
    """Request-path CPU (the runtime's workers) and shadow-worker CPU between two samples."""
    request = shadow = 0.0
    for key, seconds in after.items():
        delta = seconds - before.get(key, 0.0)
        if key[0].startswith("tokio-rt"):
            request += delta
        elif key[0] == "shadow":
            shadow += delta
    return request, shadow


def shadow(args):
    work = tempfile.mkdtemp(prefix="authzd-shadow-")
    cand = candidate(work)
    configs = {"without": [], "with": ["--shadow-bundle", f"next={cand}"]}
    loads = [("c=1 closed loop", 1, None), ("c=4 at 5000/s", 4, 5000), ("c=16 closed loop", 16, None)]
    for label, connections, rate in loads:
        runs = {name: [] for name in configs}
        for _ in range(args.rounds):
            for name, extra in configs.items():
                proc, addr, _ = start("--bundle", "policies", *extra)
                before = thread_cpu(proc.pid)
                result = loadgen(addr, args.seconds, connections, rate)
                request_cpu, shadow_cpu = cpu_by_role(before, thread_cpu(proc.pid))
                stop(proc)
                # The load generator's warm-up second is in the CPU samples too.
                decisions = result["requests"] * (args.seconds + 1) / args.seconds
                result["request_cpu_us"] = request_cpu / decisions * 1e6
                result["shadow_cpu_us"] = shadow_cpu / decisions * 1e6
                runs[name].append(result)
                print(f"{label:<17} {name:<7} shadow: {result['throughput_per_s']:>8,.0f}/s  "
                      f"p50 {result['p50_us']:>5.0f} µs  p99 {result['p99_us']:>6.0f} µs  "
                      f"request-path CPU {result['request_cpu_us']:.1f} µs/decision  "
                      f"shadow worker {result['shadow_cpu_us']:.1f} µs/decision")
        for name, results in runs.items():
            med = lambda key: statistics.median(r[key] for r in results)
            print(f"{label:<17} {name:<7} shadow, median of {args.rounds}: "
                  f"{med('throughput_per_s'):,.0f}/s  p50 {med('p50_us'):.0f} µs  "
                  f"p99 {med('p99_us'):.0f} µs  request-path CPU {med('request_cpu_us'):.1f} µs  "
                  f"shadow worker {med('shadow_cpu_us'):.1f} µs")
    shutil.rmtree(work)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("replay")
    r.add_argument("--count", type=int, default=1_000_000)
    r.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    r.add_argument("--keep", action="store_true", help="keep the generated log and candidate")
    s = sub.add_parser("shadow")
    s.add_argument("--seconds", type=float, default=10)
    s.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for binary in (AUTHZD, LOADGEN):
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: cargo build --release --bin authzd --example loadgen")
    {"replay": replay, "shadow": shadow}[args.what](args)


if __name__ == "__main__":
    main()
