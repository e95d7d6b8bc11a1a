#!/usr/bin/env bash
# Bulk ingest benchmark of the data standard's import (not a test: it prints figures, asserts
# nothing). Generates N contributions as NDJSON, and posts them to a release hub in requests of
# B lines, on SQLite and then on PostgreSQL (127.0.0.1:5432, database test). The hub runs on
# CPU 0, curl on CPU 1. Every record is validated and durable when its request is answered.
# Prints records/s (and as a share of the aim of 100,000/s) and the hub's peak RSS.
#
#   benches/data-ingest.sh [records, default 1000000] [lines per request, default 50000]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
records=${1:-1000000}
per_request=${2:-50000}

cargo build --release --locked --quiet -p mitsprache
work=$(mktemp -d)
pids=()
schema="bench_ingest_$$"
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# One process, one contribution per line, split into files of $per_request lines.
python3 - "$records" "$per_request" "$work" <<'PY'
import json, sys
n, per, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
f = None
for i in range(n):
    if i % per == 0:
        if f: f.close()
        f = open(f"{work}/batch-{i // per:05d}.ndjson", "w")
    f.write(json.dumps({"type": "contribution", "id": f"c{i}", "process": f"p{i % 100}", "kind": "idea",
        "title": {"de": f"Idee {i}"}, "text": {"de": f"Mehr Bänke am Platz {i % 977}, bitte."},
        "location": {"type": "Point", "coordinates": [7.0 + (i % 1000) / 10000, 50.0 + (i % 997) / 10000]},
        "votes": {"up": i % 50, "down": i % 7}, "status": "open",
        "created_at": "2026-05-01T10:00:00Z", "updated_at": "2026-05-02T10:00:00Z"}, ensure_ascii=False) + "\n")
f.close()
PY
bytes=$(cat "$work"/batch-*.ndjson | wc -c)

run() { # run NAME DATABASE-URL
  local name=$1 db=$2
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
  local client id secret token
  client=$(target/release/mitsprache client add --database "$db" --name bench --grant client_credentials --scope data:write 2>/dev/null)
  id=$(sed -n 's/.*"client_id": "\([^"]*\)".*/\1/p' <<<"$client")
  secret=$(sed -n 's/.*"client_secret": "\([^"]*\)".*/\1/p' <<<"$client")
  token=$(curl -fsS -u "$id:$secret" -d grant_type=client_credentials "http://$address/oidc/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  local rss_start
  rss_start=$(awk '$1 == "VmRSS:" { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")
  local start end
  start=$(date +%s.%N)
  for f in "$work"/batch-*.ndjson; do
    # A token lives 15 minutes; a slow run asks for a fresh one now and then.
    if [ $(( $(date +%s) - ${start%.*} )) -gt 600 ] && [ -z "${renewed:-}" ]; then
      token=$(curl -fsS -u "$id:$secret" -d grant_type=client_credentials "http://$address/oidc/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
      renewed=1
    fi
    taskset -c 1 curl -fsS -o "$work/report.json" -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/x-ndjson' --data-binary "@$f" "http://$address/api/v1/data/import"
    grep -q '"rejected":\[\]' "$work/report.json" || { cat "$work/report.json"; exit 1; }
  done
  end=$(date +%s.%N)
  local peak cpu
  peak=$(awk '$1 == "VmHWM:" { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")
  # The hub's CPU time (user + system): near the wall time means it is bound by its one core.
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  awk -v n="$records" -v s="$start" -v e="$end" -v name="$name" -v r0="$rss_start" -v peak="$peak" -v cpu="$cpu" \
    'BEGIN { rate = n / (e - s); printf "%-11s %9d records in %7.1f s: %8.0f records/s (%3.0f %% of 100,000/s)   RSS %s MB at start, peak %s MB   hub CPU %s s\n", name, n, e - s, rate, rate / 1000, r0, peak, cpu }'
}

printf 'mitsprache %s, %s cores, hub on CPU 0, curl on CPU 1, %s records (%s MB NDJSON) in requests of %s lines\n' \
  "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc)" "$records" "$((bytes / 1024 / 1024))" "$per_request"
run SQLite "sqlite://$work/hub.db"
psql -q -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" >/dev/null
run PostgreSQL "postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D$schema"
