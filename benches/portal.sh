#!/usr/bin/env bash
# Portal benchmark (not a test: it prints figures, asserts nothing). Generates demo data with
# `mitsprache demo generate`, then measures on SQLite and on PostgreSQL (127.0.0.1:5432,
# database test) with wrk: the filtered list queries of the read API one at a time (latency
# p50/p99 with one connection), and the portal's pages with 32 connections (pages/s). The hub
# (release build) runs on CPU 0, wrk on CPU 1, so the hub has one core.
#
#   benches/portal.sh [processes, default 100000] [contributions, default 1000000] [seconds, default 10]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
processes=${1:-100000}
contributions=${2:-1000000}
duration=${3:-10}

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked --quiet -p mitsprache
work=$(mktemp -d)
pids=()
schema="bench_portal_$$"
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

measure() { # measure CONNECTIONS URL → "requests/s p50 p99"
  taskset -c 1 wrk -t1 -c"$1" -d2s "$2" >/dev/null # warm-up
  local out
  out=$(taskset -c 1 wrk -t1 -c"$1" -d"${duration}s" --latency "$2")
  if echo "$out" | grep -q 'Non-2xx'; then echo "$out" >&2; echo "non-2xx responses for $2" >&2; exit 1; fi
  echo "$(echo "$out" | awk '/Requests\/sec/ { print $2 }') $(echo "$out" | awk '$1 == "50%" { print $2 }') $(echo "$out" | awk '$1 == "99%" { print $2 }')"
}

run() { # run NAME DATABASE-URL
  local name=$1 db=$2
  printf '\n%s\n' "$name"
  target/release/mitsprache demo generate --database "$db" --processes "$processes" --contributions "$contributions" 2>/dev/null
  taskset -c 0 target/release/mitsprache serve --listen 127.0.0.1:0 --database "$db" >"$work/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  local address=""
  for _ in $(seq 1 100); do
    address=$(sed -n 's/.*mitsprache serves address=\([0-9.:]*\).*/\1/p' "$work/$name.log" | head -n 1)
    [ -n "$address" ] && break
    sleep 0.1
  done
  [ -n "$address" ] || { cat "$work/$name.log"; exit 1; }
  local hub="http://$address"
  # A process with contributions, and the municipality of the first generated process.
  local process municipality
  process=$(curl -fsS "$hub/api/v1/processes?source=demo&per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  municipality=$(curl -fsS "$hub/api/v1/processes?source=demo&per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["municipality"])')
  printf '%-62s %12s %9s %9s\n' 'filtered list query (1 connection)' 'requests/s' 'p50' 'p99'
  for path in \
    "/api/v1/processes?status=open,upcoming" \
    "/api/v1/processes?municipality=$municipality&status=open,upcoming" \
    "/api/v1/processes?process_type=budget&status=open" \
    "/api/v1/processes?topic=klima" \
    "/api/v1/processes?near=51.0,10.0&radius=25" \
    "/api/v1/processes?q=hafen&status=open" \
    "/api/v1/contributions?process=$process" \
    "/api/v1/processes?status=open,upcoming&page=200"; do
    read -r rps p50 p99 <<<"$(measure 1 "$hub$path")"
    printf '%-62s %12s %9s %9s\n' "${path:0:62}" "$rps" "$p50" "$p99"
  done
  printf '%-62s %12s %9s %9s\n' 'portal page (32 connections)' 'pages/s' 'p50' 'p99'
  for path in "/beteiligung" "/beteiligung?municipality=$municipality" "/beteiligung/$process" "/kommune/$municipality"; do
    read -r rps p50 p99 <<<"$(measure 32 "$hub$path")"
    printf '%-62s %12s %9s %9s\n' "${path:0:62}" "$rps" "$p50" "$p99"
  done
  # SQLite reads through a mapped file: its pages count in the resident size as file pages,
  # which the kernel drops when memory is short; the hub's own memory is the anonymous part.
  local st="/proc/$pid/status"
  printf 'hub RSS now %s MB (anonymous %s MB, mapped file %s MB), peak %s MB\n' \
    "$(awk '$1 == "VmRSS:" { printf "%.0f", $2 / 1024 }' "$st")" "$(awk '$1 == "RssAnon:" { printf "%.0f", $2 / 1024 }' "$st")" \
    "$(awk '$1 == "RssFile:" { printf "%.0f", $2 / 1024 }' "$st")" "$(awk '$1 == "VmHWM:" { printf "%.0f", $2 / 1024 }' "$st")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

printf 'mitsprache %s, %s cores, hub on CPU 0, wrk on CPU 1, %s processes and %s contributions, %ss per target\n' \
  "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc)" "$processes" "$contributions" "$duration"
run SQLite "sqlite://$work/hub.db"
psql -q -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" >/dev/null
run PostgreSQL "postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D$schema"
