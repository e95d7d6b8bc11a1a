"""A person behind Apache's mod_auth_openidc (Debian's libapache2-mod-auth-openidc, what many
tools and reverse proxies put in front of an application): the protected location sends the
person to the hub with PKCE, the module redeems the code and validates the ID token, and its
logout goes through the hub's end-session endpoint with the ID token as hint, which ends the
hub session and returns to the tool.

Environment: HUB_URL, APACHE_URL (the running Apache), RP_EMAIL, RP_PASSWORD.
"""

import os
import re
import sys
from urllib.parse import parse_qs, quote, urljoin, urlparse

import requests

HUB = os.environ["HUB_URL"].rstrip("/")
TOOL = os.environ["APACHE_URL"].rstrip("/")
EMAIL = os.environ["RP_EMAIL"]
PASSWORD = os.environ["RP_PASSWORD"]


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok - {what}")


def field(html, name):
    match = re.search(f'name="{name}" value="([^"]*)"', html)
    assert match, f"no input {name}"
    return match.group(1).replace("&amp;", "&")


def main():
    s = requests.Session()

    def follow(r):
        while r.status_code in (301, 302, 303, 307):
            r = s.get(urljoin(r.url, r.headers["location"]), allow_redirects=False)
        return r

    start = s.get(f"{TOOL}/protected/", allow_redirects=False)
    check(start.status_code == 302, "the protected page sends the person to the hub")
    query = parse_qs(urlparse(start.headers["location"]).query)
    check(query.get("code_challenge_method") == ["S256"] and "code_challenge" in query, "with PKCE (S256)")
    page = follow(s.get(start.headers["location"], allow_redirects=False))
    check('action="/anmelden"' in page.text, "the hub asks the person to log in")
    form = {"email": EMAIL, "password": PASSWORD, "csrf": field(page.text, "csrf"), "anfrage": field(page.text, "anfrage")}
    page = follow(s.post(f"{HUB}/anmelden", data=form, allow_redirects=False))
    if "/oidc/zustimmung" in page.text:
        form = {"csrf": field(page.text, "csrf"), "anfrage": field(page.text, "anfrage"), "decision": "allow"}
        page = follow(s.post(f"{HUB}/oidc/zustimmung", data=form, allow_redirects=False))
    check(page.status_code == 200 and page.url.startswith(f"{TOOL}/protected/"), f"in the protected location: {page.status_code} {page.text[:300]}")
    check(page.headers.get("x-oidc-email") == EMAIL, "the module validated the ID token and passes the claims on")
    sub = page.headers.get("x-oidc-sub", "")
    check(sub and "@" not in sub, "a pairwise subject")
    check(s.get(f"{HUB}/konto", allow_redirects=False).status_code == 200, "signed in at the hub")

    back = f"{TOOL}/logged-out.txt"
    out = s.get(f"{TOOL}/protected/redirect_uri?logout={quote(back, safe='')}", allow_redirects=False)
    check(out.status_code in (302, 303), "the module's logout goes to the hub")
    end_session = out.headers["location"]
    params = parse_qs(urlparse(end_session).query)
    check(end_session.startswith(f"{HUB}/oidc/logout") and "id_token_hint" in params, "the end-session endpoint, with the ID token as hint")
    done = s.get(end_session, allow_redirects=False)
    check(done.status_code == 303 and done.headers["location"].startswith(back), "the hub ends the session and returns to the tool")
    check(s.get(f"{HUB}/konto", allow_redirects=False).status_code == 303, "the hub session has ended")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, KeyError) as e:
        print(f"not ok - {e}", file=sys.stderr)
        sys.exit(1)
