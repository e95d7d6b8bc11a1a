#!/usr/bin/env bash
# Single sign-on interop: real relying parties (openid-client from npm, Authlib from PyPI), a
# real upstream provider (oidc-provider from npm) and a real SMTP server (aiosmtpd) against a
# hub built from this tree. Called by scripts/test after
# the tools are installed; usable alone: tests/oidc/run.sh [path/to/mitsprache].
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
hub_bin=${1:-$root/target/debug/mitsprache}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

smtp_port=$(free_port)
mkdir -p "$work/maildir/cur" "$work/maildir/new" "$work/maildir/tmp"
"$root/.venv/bin/python" -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$work/maildir" \
  >"$work/smtp.log" 2>&1 &
pids+=($!)

port=$(free_port)
export HUB_URL="http://127.0.0.1:$port"
db="sqlite://$work/hub.db"
export MITSPRACHE_PUBLIC_URL="$HUB_URL" MITSPRACHE_MAIL__SMTP_HOST=127.0.0.1 MITSPRACHE_MAIL__SMTP_PORT="$smtp_port" \
  MITSPRACHE_MAIL__SMTP_SECURITY=none
"$hub_bin" migrate --database "$db" >/dev/null
export RP_REDIRECT_URI="http://localhost:8999/callback" RP_POST_LOGOUT_URI="http://localhost:8999/logged-out"
add_client() { "$hub_bin" client add --database "$db" --redirect-uri "$RP_REDIRECT_URI" \
  --post-logout-redirect-uri "$RP_POST_LOGOUT_URI" "$@"; }
export RP_CLIENT MACHINE_CLIENT AUTHLIB_CLIENT
RP_CLIENT=$(add_client --name "openid-client RP")
AUTHLIB_CLIENT=$(add_client --name "Authlib RP" --auth-method client_secret_post)
MACHINE_CLIENT=$("$hub_bin" client add --database "$db" --name "Maschine" --grant client_credentials \
  --resource https://api.example/v1)
export RP_EMAIL="openid-client@example.org" RP_PASSWORD="ein Satz als Passwort für node"
printf '%s\n' "$RP_PASSWORD" | "$hub_bin" user add --database "$db" --email "$RP_EMAIL" >/dev/null

# The upstream provider people may log in with (npm oidc-provider), and the hub's configuration for it.
export UPSTREAM_PORT UPSTREAM_ID=landeskonto UPSTREAM_CLIENT_ID=mitsprache-hub UPSTREAM_CLIENT_SECRET="upstream-secret-$$"
UPSTREAM_PORT=$(free_port)
export UPSTREAM_REDIRECT_URI="$HUB_URL/anmelden/extern/$UPSTREAM_ID/zurueck"
(cd "$root/tests/oidc" && exec node upstream-provider.js) >"$work/upstream.log" 2>&1 &
pids+=($!)
cat >"$work/hub.toml" <<TOML
[[identity.upstream]]
id = "$UPSTREAM_ID"
name = "Landeskonto (Test)"
issuer = "http://127.0.0.1:$UPSTREAM_PORT"
client_id = "$UPSTREAM_CLIENT_ID"
client_secret = "$UPSTREAM_CLIENT_SECRET"
TOML
for _ in $(seq 1 100); do grep -q ready "$work/upstream.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$work/upstream.log" || { cat "$work/upstream.log" >&2; exit 1; }

"$hub_bin" serve --config "$work/hub.toml" --listen "127.0.0.1:$port" --database "$db" >"$work/hub.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "$HUB_URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$HUB_URL/healthz" >/dev/null || { cat "$work/hub.log" >&2; exit 1; }

status=0
echo "--- openid-client (npm)"
(cd "$root/tests/oidc" && node --test openid-client.test.js) || status=1
echo "--- upstream login through node-oidc-provider (npm)"
(cd "$root/tests/oidc" && node --test upstream.test.js) || status=1
echo "--- Authlib (PyPI)"
MAILDIR="$work/maildir" "$root/.venv/bin/python" "$root/tests/oidc/authlib_rp.py" || status=1
if [ "$status" -ne 0 ]; then
  echo "--- hub log"; tail -n 50 "$work/hub.log"; echo "--- upstream log"; tail -n 20 "$work/upstream.log"
fi
exit "$status"
