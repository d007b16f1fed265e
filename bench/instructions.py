#!/usr/bin/env python3
"""CPU per request in instructions, a figure that travels between machines: the server side
(authzd, and `loadgen trivial` for comparison) and the client side (`loadgen run`), each
counted by valgrind's callgrind over a fixed stretch of the load generator's decision mix.

    cargo build --release --bin authzd --example loadgen     # valgrind from Debian: apt install valgrind
    python3 bench/instructions.py [--binary target/release/authzd] [--seconds 20]

For a server: it starts under callgrind (instrumentation off until warmed up), gets a second of
warm-up load, has its counters zeroed, serves `loadgen run -c 16` for --seconds, and the
instructions counted divided by the requests answered is the figure. For the client: the
load generator runs under callgrind against a native server. Under callgrind every thread
runs serialised and about 50x slower, so throughput here means nothing; instructions do.
"""
import argparse
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, limit=120):
    deadline = time.time() + limit
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not listen")


def load(loadgen, port, seconds, connections, prefix=()):
    out = subprocess.run([*prefix, loadgen, "run", "--target", f"127.0.0.1:{port}",
                          "-c", str(connections), "-d", str(seconds), "--warmup", "0", "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def instructions(out_dir):
    total = 0
    for path in glob.glob(os.path.join(out_dir, "callgrind.out*")):
        with open(path) as f:
            for line in f:
                m = re.match(r"(summary|totals): (\d+)", line)
                if m:
                    total += int(m.group(2))
                    break
    return total


def server(command, port, loadgen, seconds, connections):
    """Instructions per request of a server started by `command` (listening on `port`)."""
    out_dir = tempfile.mkdtemp(prefix="authzd-callgrind-")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=no",
         f"--callgrind-out-file={out_dir}/callgrind.out.%p", *command],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        wait_port(port, proc)
        load(loadgen, port, 2, connections)
        subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True,
                       capture_output=True)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        served = load(loadgen, port, seconds, connections)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        time.sleep(1)
        counted = instructions(out_dir)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(out_dir, ignore_errors=True)
    return counted / max(served["requests"], 1), served


def client(loadgen, port, seconds, connections):
    out_dir = tempfile.mkdtemp(prefix="authzd-callgrind-")
    try:
        served = load(loadgen, port, seconds, connections,
                      prefix=["valgrind", "--tool=callgrind",
                              f"--callgrind-out-file={out_dir}/callgrind.out.%p"])
        return instructions(out_dir) / max(served["requests"], 1), served
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(RELEASE, "authzd"))
    parser.add_argument("--loadgen", default=os.path.join(RELEASE, "examples", "loadgen"))
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("-c", "--connections", type=int, default=16)
    parser.add_argument("--arg", action="append", default=[],
                        help="an extra argument for `authzd run` (repeat it)")
    parser.add_argument("--server-only", action="store_true", help="authzd only")
    parser.add_argument("--json")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed: apt install valgrind")
    results = {}

    port = free_port()
    authzd = [args.binary, "run", "--addr", f"127.0.0.1:{port}", "--no-grpc", *args.arg]
    results["authzd"], served = server(authzd, port, args.loadgen, args.seconds, args.connections)
    print(f"authzd, per request:           {results['authzd']:10,.0f} instructions "
          f"({served['requests']} requests, {served['errors']} errors)", flush=True)
    if args.server_only:
        return

    port, grpc = free_port(), free_port()
    trivial = [args.loadgen, "trivial", "--http", f"127.0.0.1:{port}", "--grpc", f"127.0.0.1:{grpc}"]
    results["trivial"], served = server(trivial, port, args.loadgen, args.seconds, args.connections)
    print(f"loadgen trivial, per request:  {results['trivial']:10,.0f} instructions "
          f"({served['requests']} requests)", flush=True)

    port = free_port()
    native = subprocess.Popen([args.binary, "run", "--addr", f"127.0.0.1:{port}", "--no-grpc"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        wait_port(port, native)
        results["loadgen"], served = client(args.loadgen, port, args.seconds, args.connections)
    finally:
        native.terminate()
        native.wait(timeout=60)
    print(f"loadgen run (the client), per request: {results['loadgen']:10,.0f} instructions "
          f"({served['requests']} requests)", flush=True)
    print(f"authzd / trivial server: {results['authzd'] / results['trivial']:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
