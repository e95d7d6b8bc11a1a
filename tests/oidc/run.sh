#!/usr/bin/env bash
# Single sign-on interop: real relying parties (openid-client from npm, Authlib from PyPI, and
# from Debian's packages stock OmniAuth with its openid_connect strategy, as Decidim and CONSUL
# use it, and Apache's mod_auth_openidc), a real upstream provider (oidc-provider from npm) and a
# real SMTP server (aiosmtpd) against a hub built from this tree. Called by scripts/test after
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
# A tool that logs citizens in, pushes their contributions, and takes their deletion.
export PARTICIPATION_PORT PARTICIPATION_CLIENT PARTICIPATION_EMAIL="beteiligung@example.org"
PARTICIPATION_PORT=$(free_port)
PARTICIPATION_CLIENT=$(add_client --name "Beteiligungswerkzeug" --grant authorization_code --grant refresh_token \
  --grant client_credentials --scope data:write --backchannel-logout-uri "http://127.0.0.1:$PARTICIPATION_PORT/backchannel" \
  --ssf-endpoint-url "http://127.0.0.1:$PARTICIPATION_PORT/events" --ssf-authorization-header "Bearer werkzeug-empfang")
printf '%s\n' "$RP_PASSWORD" | "$hub_bin" user add --database "$db" --email "$PARTICIPATION_EMAIL" >/dev/null

# Stock OmniAuth sends no PKCE: its client is the weaker kind an admin allows for it.
omniauth_port=$(free_port)
export OMNIAUTH_PORT="$omniauth_port" OMNIAUTH_URL="http://127.0.0.1:$omniauth_port"
export OMNIAUTH_CLIENT
OMNIAUTH_CLIENT=$("$hub_bin" client add --database "$db" --name "Decidim (OmniAuth)" --pkce optional \
  --redirect-uri "$OMNIAUTH_URL/auth/openid_connect/callback" --post-logout-redirect-uri "$OMNIAUTH_URL/logged-out")
ruby "$root/tests/oidc/omniauth_rp.rb" >"$work/omniauth.log" 2>&1 &
pids+=($!)

# Apache with mod_auth_openidc in front of a static site, with PKCE.
apache_port=$(free_port)
export APACHE_URL="http://127.0.0.1:$apache_port"
apache_client=$("$hub_bin" client add --database "$db" --name "Apache mod_auth_openidc" \
  --redirect-uri "$APACHE_URL/protected/redirect_uri" --post-logout-redirect-uri "$APACHE_URL/logged-out.txt")
json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
mkdir -p "$work/apache/htdocs/protected"
echo "protected" >"$work/apache/htdocs/protected/index.html"
echo "logged out" >"$work/apache/htdocs/logged-out.txt"
modules=/usr/lib/apache2/modules
cat >"$work/apache/httpd.conf" <<CONF
ServerRoot "$work/apache"
ServerName 127.0.0.1
Listen 127.0.0.1:$apache_port
PidFile "$work/apache/httpd.pid"
ErrorLog "$work/apache/error.log"
LogLevel warn auth_openidc:info
# Only used when started as root: the workers then drop to this user.
User nobody
Group nogroup
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authn_core_module $modules/mod_authn_core.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule authz_user_module $modules/mod_authz_user.so
LoadModule headers_module $modules/mod_headers.so
LoadModule dir_module $modules/mod_dir.so
LoadModule mime_module $modules/mod_mime.so
LoadModule auth_openidc_module $modules/mod_auth_openidc.so
TypesConfig /etc/mime.types
DocumentRoot "$work/apache/htdocs"
DirectoryIndex index.html
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory "$work/apache/htdocs">
  Require all granted
</Directory>
OIDCProviderMetadataURL $HUB_URL/.well-known/openid-configuration
OIDCClientID $(json_field "$apache_client" client_id)
OIDCClientSecret $(json_field "$apache_client" client_secret)
OIDCRedirectURI $APACHE_URL/protected/redirect_uri
OIDCCryptoPassphrase $(python3 -c 'import secrets; print(secrets.token_hex(16))')
OIDCPKCEMethod S256
OIDCScope "openid email profile"
<Location /protected/>
  AuthType openid-connect
  Require valid-user
  Header always set X-OIDC-Email "%{OIDC_CLAIM_email}e"
  Header always set X-OIDC-Sub "%{OIDC_CLAIM_sub}e"
</Location>
CONF
# Apache's workers (nobody, when started as root) must reach the files: the work folder is
# mktemp's, private to its owner otherwise.
chmod a+x "$work"
chmod -R a+rX "$work/apache"

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
# Apache reads the hub's discovery document when it starts.
apache2 -f "$work/apache/httpd.conf" -DFOREGROUND >"$work/apache/stdout.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sS -o /dev/null "$APACHE_URL/logged-out.txt" 2>/dev/null && curl -sS -o /dev/null "$OMNIAUTH_URL/" 2>/dev/null && break
  sleep 0.1
done

status=0
echo "--- openid-client (npm)"
(cd "$root/tests/oidc" && node --test openid-client.test.js) || status=1
echo "--- Meine Beteiligung and account deletion through openid-client (npm), SET verified with jose (npm)"
(cd "$root/tests/oidc" && node --test participation.test.js) || status=1
echo "--- upstream login through node-oidc-provider (npm)"
(cd "$root/tests/oidc" && node --test upstream.test.js) || status=1
echo "--- Authlib (PyPI)"
MAILDIR="$work/maildir" "$root/.venv/bin/python" "$root/tests/oidc/authlib_rp.py" || status=1
echo "--- stock OmniAuth with omniauth_openid_connect (Debian), no PKCE"
RP_EMAIL="$RP_EMAIL" RP_PASSWORD="$RP_PASSWORD" "$root/.venv/bin/python" "$root/tests/oidc/omniauth.py" || status=1
echo "--- Apache mod_auth_openidc (Debian), with PKCE"
"$root/.venv/bin/python" "$root/tests/oidc/mod_auth_openidc.py" || status=1
if [ "$status" -ne 0 ]; then
  echo "--- hub log"; tail -n 50 "$work/hub.log"; echo "--- upstream log"; tail -n 20 "$work/upstream.log"
  echo "--- omniauth log"; tail -n 20 "$work/omniauth.log"; echo "--- apache log"; tail -n 20 "$work/apache/error.log"
fi
exit "$status"
