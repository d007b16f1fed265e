#!/usr/bin/env python3
"""Measures authzd on this machine: latency and throughput (with the load generator), its
ceiling against a do-nothing server, memory, start-up time, binary size, and reload cost.

    cargo build --release --bin authzd --example loadgen
    python3 bench/measure.py [--quick] [--json results.json]

Every figure is printed with the command that produced it. Nothing here runs in CI (too slow
and too noisy); CI only smoke-tests the load generator.
"""
import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUTHZD = os.path.join(ROOT, "target", "release", "authzd")
LOADGEN = os.path.join(ROOT, "target", "release", "examples", "loadgen")


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Daemon:
    """authzd on ephemeral ports (and Unix sockets), addresses read from its log."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="authzd-bench-")
        self.http_sock = os.path.join(self.dir, "http.sock")
        self.grpc_sock = os.path.join(self.dir, "grpc.sock")
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [AUTHZD, "run", "--addr", "127.0.0.1:0", "--addr", f"unix://{self.http_sock}",
             "--grpc-addr", "127.0.0.1:0", "--grpc-addr", f"unix://{self.grpc_sock}",
             "--envoy-path", "envoy/authz/allow", *args],
            cwd=ROOT, stderr=self.log, stdout=subprocess.DEVNULL)
        self.http = self.grpc = None
        while self.http is None or self.grpc is None:
            text = self.text()
            self.http = self.http or find(text, r"HTTP listener ready addr=(127\.0\.0\.1:\d+)")
            self.grpc = self.grpc or find(text, r"gRPC listener ready addr=(127\.0\.0\.1:\d+)")
            if self.proc.poll() is not None:
                sys.exit(f"authzd exited:\n{text}")
        # Ready: the first /health that answers 200.
        while True:
            try:
                with urllib.request.urlopen(f"http://{self.http}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
        self.ready_ms = (time.perf_counter() - self.started) * 1000

    def text(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def find(text, pattern):
    m = re.search(pattern, text)
    return m.group(1) if m else None


def loadgen(*args):
    cmd = [LOADGEN, "run", "--json", *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["command"] = "cargo run --release --example loadgen -- run " + " ".join(args)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s per run instead of 10")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    seconds = "2" if args.quick else "10"
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d")}

    # Start-up: exec to the first /health 200, and idle memory.
    ready = []
    for _ in range(5 if args.quick else 10):
        d = Daemon()
        ready.append(d.ready_ms)
        d.stop()
    results["ready_ms_median"] = round(statistics.median(ready), 1)
    d = Daemon()
    time.sleep(1)
    results["idle_rss_mib"] = round(rss_kib(d.proc.pid) / 1024, 1)
    results["binary_mib"] = round(os.path.getsize(AUTHZD) / 2**20, 1)
    results["example_bundle_activation_ms"] = int(find(d.text(), r"bundle activated.*duration_ms=(\d+)"))

    # Latency, one connection (closed loop), and throughput.
    runs = []
    for proto, target in [("http", d.http), ("http", "unix://" + d.http_sock),
                          ("grpc", d.grpc), ("grpc", "unix://" + d.grpc_sock),
                          ("envoy", d.grpc)]:
        runs.append(loadgen("--protocol", proto, "--target", target, "-c", "1", "-d", seconds))
    for conns in (16, 64):
        runs.append(loadgen("--protocol", "http", "--target", d.http, "-c", str(conns), "-d", seconds))
    runs.append(loadgen("--protocol", "grpc", "--target", d.grpc, "-c", "16", "-d", seconds))
    results["rss_under_load_mib"] = round(rss_kib(d.proc.pid, "VmHWM") / 1024, 1)
    # A fixed rate well below saturation, for latency without queueing.
    runs.append(loadgen("--protocol", "http", "--target", d.http, "-c", "4", "--rate", "5000", "-d", seconds))
    results["runs"] = runs
    d.stop()

    # The load generator's own ceiling: the same runs against a do-nothing server.
    trivial = subprocess.Popen([LOADGEN, "trivial", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"],
                               stdout=subprocess.PIPE, text=True)
    line = trivial.stdout.readline()
    http, grpc = find(line, r"http=(\S+)"), find(line, r"grpc=(\S+)")
    results["ceiling"] = [
        loadgen("--protocol", "http", "--target", http, "-c", "1", "-d", seconds),
        loadgen("--protocol", "grpc", "--target", grpc, "-c", "1", "-d", seconds),
        loadgen("--protocol", "http", "--target", http, "-c", "16", "-d", seconds),
    ]
    trivial.terminate()
    results["loopback_floor_us"] = loopback_floor()

    # Reload cost of a large bundle (1,100 rules, ~10 MB of data).
    bundle = os.path.join(tempfile.mkdtemp(prefix="authzd-large-"), "bundle")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_large_bundle.py"), bundle],
                   check=True, capture_output=True)
    d = Daemon("--bundle", f"large={bundle}")
    results["large_bundle_start_activation_ms"] = int(find(d.text(), r"bundle activated.*duration_ms=(\d+)"))
    results["large_bundle_rss_mib"] = round(rss_kib(d.proc.pid) / 1024, 1)
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_large_bundle.py"), bundle, "large-2"],
                   check=True, capture_output=True)
    d.proc.send_signal(signal.SIGHUP)
    while len(re.findall(r"bundle activated", d.text())) < 2:
        time.sleep(0.05)
    results["large_bundle_reload_ms"] = int(re.findall(r"bundle activated.*duration_ms=(\d+)", d.text())[-1])
    results["large_bundle_peak_rss_mib"] = round(rss_kib(d.proc.pid, "VmHWM") / 1024, 1)
    d.stop()

    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


def loopback_floor():
    """p50 round trip of 300 bytes between two plain blocking processes over loopback TCP."""
    server = subprocess.Popen([sys.executable, "-c", ECHO], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg, lat = b"x" * 300, []
    for _ in range(20000):
        t = time.perf_counter_ns()
        c.sendall(msg)
        n = 0
        while n < len(msg):
            n += len(c.recv(4096))
        lat.append(time.perf_counter_ns() - t)
    server.kill()
    lat.sort()
    return round(lat[len(lat) // 2] / 1000, 1)


ECHO = """
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while True:
    d = c.recv(4096)
    if not d: break
    c.sendall(d)
"""


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Linux {os.uname().release}"


if __name__ == "__main__":
    main()
