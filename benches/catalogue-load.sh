#!/usr/bin/env bash
# Load benchmark of the marketplace on loopback (not a test: it prints figures, asserts nothing).
# The hub (release build, embedded SQLite, bundled catalogue) runs pinned to CPU 0, the load
# generator wrk to CPU 1, so the hub has exactly one core. Prints requests/s, latency p50/p99
# and the hub's resident memory (now and peak) for the API search and the HTML pages.
#
#   benches/catalogue-load.sh [seconds per target, default 10] [connections, default 32]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
duration=${1:-10}
connections=${2:-32}

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked --quiet -p mitsprache

work=$(mktemp -d)
taskset -c 0 target/release/mitsprache serve --listen 127.0.0.1:0 --database "sqlite://$work/hub.db" >"$work/hub.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
address=""
for _ in $(seq 1 100); do
  address=$(sed -n 's/.*mitsprache serves address=\([0-9.:]*\).*/\1/p' "$work/hub.log" | head -n 1)
  [ -n "$address" ] && break
  sleep 0.1
done
[ -n "$address" ] || { cat "$work/hub.log"; exit 1; }
hub="http://$address"

rss() { awk -v k="$1:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }

printf 'mitsprache %s, %s, hub on CPU 0, wrk on CPU 1, %s connections, %ss per target\n' \
  "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc) cores" "$connections" "$duration"
printf 'RSS after start: %s MB\n\n' "$(rss VmRSS)"
printf '%-44s %12s %10s %10s\n' target 'requests/s' 'p50' 'p99'
for path in \
  '/api/v1/tools?q=B%C3%BCrgerhaushalte' \
  '/api/v1/tools?q=Beteiligung&functions=map-contributions&licence=open-source' \
  '/api/v1/tools' \
  '/api/v1/tools/decidim' \
  '/marktplatz' \
  '/marktplatz?q=B%C3%BCrgerhaushalte' \
  '/marktplatz/werkzeuge/decidim'; do
  taskset -c 1 wrk -t1 -c"$connections" -d2s "$hub$path" >/dev/null # warm-up
  out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" --latency "$hub$path")
  if echo "$out" | grep -q 'Non-2xx'; then echo "$out"; echo "non-2xx responses for $path" >&2; exit 1; fi
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
  printf '%-44s %12s %10s %10s\n' "${path:0:44}" "$rps" "$p50" "$p99"
done
printf '\nRSS after load: %s MB (peak %s MB)\n' "$(rss VmRSS)" "$(rss VmHWM)"
