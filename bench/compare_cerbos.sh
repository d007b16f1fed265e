#!/usr/bin/env bash
# Cerbos vs authzd on this machine, in one run: the same order policy, the same decision mix,
# the same load tool (wrk), the same connection counts. Prints the ratios.
#
#   bench/compare_cerbos.sh [seconds per run, default 10]
#
# Installs what it needs: Cerbos from npm (@cerbos/cerbos-linux-x64, into bench/.cache) and wrk
# from Debian's packages (apt-get, needs root), then builds authzd in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
CACHE=bench/.cache
mkdir -p "$CACHE"

if [ ! -x "$CACHE/node_modules/@cerbos/cerbos-linux-x64/cerbos-linux-x64" ]; then
  (cd "$CACHE" && npm install --no-audit --no-fund --loglevel=error @cerbos/cerbos-linux-x64@0.55.0)
fi
CERBOS="$CACHE/node_modules/@cerbos/cerbos-linux-x64/cerbos-linux-x64"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --bin authzd >/dev/null 2>&1

WORK=$(mktemp -d)
cleanup() { kill "${CERBOS_PID:-}" "${AUTHZD_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# Cerbos on its own ports, with the policy and no audit log.
mkdir -p "$WORK/cerbos-policies"
cp bench/cerbos/order.yaml "$WORK/cerbos-policies/"
cat > "$WORK/cerbos.yaml" <<YAML
server:
  httpListenAddr: "127.0.0.1:35920"
  grpcListenAddr: "127.0.0.1:35930"
storage:
  driver: disk
  disk:
    directory: $WORK/cerbos-policies
    watchForChanges: false
audit:
  enabled: false
YAML
"$CERBOS" server --config="$WORK/cerbos.yaml" >"$WORK/cerbos.log" 2>&1 &
CERBOS_PID=$!

# authzd with its defaults (decision logging off, as Cerbos's audit log is).
target/release/authzd run --addr 127.0.0.1:38181 --grpc-addr 127.0.0.1:39191 2>"$WORK/authzd.log" &
AUTHZD_PID=$!

for _ in $(seq 1 200); do
  curl -sf http://127.0.0.1:35920/_cerbos/health >/dev/null 2>&1 && curl -sf http://127.0.0.1:38181/health >/dev/null 2>&1 && break
  sleep 0.05
done

# The decision mix, as wrk Lua scripts and as a parity check.
python3 - "$WORK" <<'PY'
import json, sys, time, urllib.request
work = sys.argv[1]
now = time.time()
fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
fresh, stale = fmt(now - 300), fmt(now - 2700)
mix = [
    ({"id": "10001", "roles": ["customer"]}, "view", "10001", fresh, True),
    ({"id": "10001", "roles": ["customer"]}, "cancel", "10001", fresh, True),
    ({"id": "20001", "roles": ["warehouse_staff"]}, "process", "10001", fresh, True),
    ({"id": "10002", "roles": ["customer"]}, "view", "10001", fresh, False),
    ({"id": "10001", "roles": ["customer"]}, "cancel", "10001", stale, False),
]
authzd, cerbos = [], []
for subject, action, owner, created, want in mix:
    order = {"type": "order", "id": "42", "owner": owner, "created_at": created}
    authzd.append(json.dumps({"input": {"subject": subject, "action": action, "resource": order}}))
    cerbos.append(json.dumps({"requestId": "bench", "principal": subject,
        "resources": [{"actions": [action], "resource": {"kind": "order", "id": "42", "attr": order}}]}))
    # Both must decide the same before speed matters.
    req = urllib.request.Request("http://127.0.0.1:38181/v1/data/orders/allow", authzd[-1].encode(),
                                 {"Content-Type": "application/json"})
    got_a = json.load(urllib.request.urlopen(req))["result"]
    req = urllib.request.Request("http://127.0.0.1:35920/api/check/resources", cerbos[-1].encode(),
                                 {"Content-Type": "application/json"})
    got_c = json.load(urllib.request.urlopen(req))["results"][0]["actions"][action] == "EFFECT_ALLOW"
    assert got_a == want and got_c == want, (action, subject, got_a, got_c, want)

def lua(path, bodies):
    quoted = ",\n".join("  " + json.dumps(b) for b in bodies)
    with open(path, "w") as f:
        f.write(f"""wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {{
{quoted}
}}
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
""")
lua(f"{work}/authzd.lua", authzd)
lua(f"{work}/cerbos.lua", cerbos)
print("parity: both daemons decide the 5 requests of the mix the same way")
PY

rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
echo "idle RSS: authzd $(rss $AUTHZD_PID) MiB, Cerbos $(rss $CERBOS_PID) MiB"

run() { # name url script connections
  wrk -t1 -c"$4" -d"${SECONDS_PER_RUN}s" --latency -s "$3" "$2" 2>&1
}
rate() { awk '/Requests\/sec/ {print $2}'; }
p() { awk -v q="$1" '$1 == q {v=$2; if (v ~ /us$/) {sub(/us/,"",v)} else if (v ~ /ms$/) {sub(/ms/,"",v); v*=1000} else if (v ~ /s$/) {sub(/s/,"",v); v*=1e6}; print v}'; }

printf "\n%-12s %12s %12s %8s %14s %14s\n" connections "authzd req/s" "Cerbos req/s" ratio "p50 authzd/Cerbos" "p99 authzd/Cerbos"
for c in 1 16 128; do
  A=$(run authzd http://127.0.0.1:38181/v1/data/orders/allow "$WORK/authzd.lua" "$c")
  C=$(run cerbos http://127.0.0.1:35920/api/check/resources "$WORK/cerbos.lua" "$c")
  ar=$(rate <<<"$A"); cr=$(rate <<<"$C")
  printf "%-12s %12.0f %12.0f %7.1fx %7sus/%-6s %7sus/%-6s\n" "$c" "$ar" "$cr" "$(awk -v a="$ar" -v b="$cr" 'BEGIN {print a / b}')" \
    "$(p 50% <<<"$A")" "$(p 50% <<<"$C")" "$(p 99% <<<"$A")" "$(p 99% <<<"$C")"
done
echo
echo "authzd under load: $(rss $AUTHZD_PID) MiB RSS; Cerbos: $(rss $CERBOS_PID) MiB"
