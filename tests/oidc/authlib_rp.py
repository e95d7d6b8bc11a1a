"""Authlib (PyPI) as a relying party against a running hub.

Registers a person through the hub's form, confirms the address with the link the hub mailed
to a real SMTP server (aiosmtpd, into a Maildir), then runs the code flow with PKCE and
client_secret_post (logging in on the hub's form), validates the ID token, calls userinfo,
refreshes, introspects, revokes and logs out. Environment: HUB_URL, AUTHLIB_CLIENT (JSON from
`mitsprache client add`), RP_REDIRECT_URI, RP_POST_LOGOUT_URI, MAILDIR.
"""

import json
import mailbox
import os
import re
import secrets
import sys
import time
from urllib.parse import urljoin, urlparse, parse_qs

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt  # joserfc is its successor; authlib.jose still ships in 1.x
from authlib.oidc.core import CodeIDToken

HUB = os.environ["HUB_URL"].rstrip("/")
CLIENT = json.loads(os.environ["AUTHLIB_CLIENT"])
REDIRECT = os.environ["RP_REDIRECT_URI"]
POST_LOGOUT = os.environ["RP_POST_LOGOUT_URI"]
EMAIL = f"authlib-{secrets.token_hex(4)}@example.org"
PASSWORD = "ein Satz als Passwort für Authlib"


class Browser:
    def __init__(self):
        self.session = requests.Session()

    def get(self, url):
        return self.session.get(urljoin(HUB, url), allow_redirects=False)

    def post(self, url, form):
        return self.session.post(urljoin(HUB, url), data=form, allow_redirects=False)

    def follow(self, response):
        while response.status_code in (301, 302, 303, 307) and urlparse(urljoin(HUB, response.headers["location"])).netloc == urlparse(HUB).netloc:
            response = self.get(response.headers["location"])
        return response


def field(html, name):
    match = re.search(f'name="{name}" value="([^"]*)"', html)
    assert match, f"no input {name}"
    return match.group(1).replace("&amp;", "&")


def wait_for_mail(needle):
    box = mailbox.Maildir(os.environ["MAILDIR"], create=False)
    for _ in range(100):
        for message in box:
            body = message.get_payload(decode=True).decode("utf-8")
            if message["To"] == EMAIL and needle in body:
                return body
        time.sleep(0.1)
    raise AssertionError(f"no mail with {needle} for {EMAIL}")


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok - {what}")


def main():
    meta = requests.get(HUB + "/.well-known/openid-configuration").json()
    check(meta["issuer"] == HUB, "discovery names the hub as issuer")
    browser = Browser()

    # Registration through the form, verification through the mailed link.
    page = browser.get("/registrieren")
    done = browser.post("/registrieren", {"email": EMAIL, "password": PASSWORD, "name": "Ada Authlib", "csrf": field(page.text, "csrf")})
    check(done.status_code == 200 and "mitsprache_session" not in done.headers.get("set-cookie", ""), "registration accepted, nobody signed in before the address is confirmed")
    body = wait_for_mail("/email-bestaetigen?token=")
    link = re.search(r"(https?://\S+/email-bestaetigen\?token=\S+)", body).group(1)
    check(browser.get(link).status_code == 200, "the mailed link confirms the address")

    session = OAuth2Session(
        CLIENT["client_id"],
        CLIENT["client_secret"],
        scope="openid email profile offline_access",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",
        # The hub authenticates a client by its registered method at every endpoint.
        revocation_endpoint_auth_method="client_secret_post",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    page = browser.follow(browser.get(url))
    if 'action="/anmelden"' in page.text:
        form = {"email": EMAIL, "password": PASSWORD, "csrf": field(page.text, "csrf"), "anfrage": field(page.text, "anfrage")}
        page = browser.follow(browser.post("/anmelden", form))
    if "/oidc/zustimmung" in page.text:
        page = browser.follow(browser.post("/oidc/zustimmung", {"csrf": field(page.text, "csrf"), "anfrage": field(page.text, "anfrage"), "decision": "allow"}))
    callback = page.headers["location"]
    check(callback.startswith(REDIRECT), "the hub redirects back with a code after the login")
    check(parse_qs(urlparse(callback).query)["iss"] == [HUB], "iss in the authorization response (RFC 9207)")

    token = session.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"]).json())
    claims = jwt.decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": HUB}},
        claims_params={"nonce": nonce, "client_id": CLIENT["client_id"], "access_token": token["access_token"]},
    )
    claims.validate()
    check(claims["email"] == EMAIL and claims["name"] == "Ada Authlib", "ID token validated (signature, iss, aud, nonce, at_hash)")

    info = session.get(meta["userinfo_endpoint"]).json()
    check(info["sub"] == claims["sub"] and info["email"] == EMAIL, "userinfo matches the ID token")

    old_refresh = token["refresh_token"]
    new = session.refresh_token(meta["token_endpoint"])
    check(new["refresh_token"] != old_refresh, "refresh rotates the refresh token")

    response = session.introspect_token(meta["introspection_endpoint"], token=new["access_token"])
    check(response.status_code == 200, "introspection answers")
    introspection = response.json()
    check(introspection["active"] is True and introspection["client_id"] == CLIENT["client_id"], "introspection: active")
    revoked = session.revoke_token(meta["revocation_endpoint"], token=new["refresh_token"], token_type_hint="refresh_token")
    check(revoked.status_code == 200, "revocation answers 200")
    after = session.introspect_token(meta["introspection_endpoint"], token=new["access_token"]).json()
    check(after == {"active": False}, "revoking the refresh token ends its access tokens")

    logout = browser.get(meta["end_session_endpoint"] + "?" + requests.compat.urlencode({"id_token_hint": token["id_token"], "post_logout_redirect_uri": POST_LOGOUT, "state": "x"}))
    check(logout.status_code == 303 and logout.headers["location"] == POST_LOGOUT + "?state=x", "RP-initiated logout returns to the tool")
    check(browser.get("/konto").status_code == 303, "the hub session has ended")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"not ok - {e}", file=sys.stderr)
        sys.exit(1)
