"""A person using a Decidim-like tool that logs in with stock OmniAuth (omniauth_rp.rb): the
tool's login goes to the hub without PKCE, the person logs in and consents, the tool validates
the ID token (signature, issuer, audience, nonce) and reads userinfo; the tool's logout sends
only post_logout_redirect_uri, the hub asks, ends its session and shows its own page.

Environment: HUB_URL, OMNIAUTH_URL (the running omniauth_rp.rb), RP_EMAIL, RP_PASSWORD.
"""

import os
import re
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import requests

HUB = os.environ["HUB_URL"].rstrip("/")
TOOL = os.environ["OMNIAUTH_URL"].rstrip("/")
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


class Browser:
    """One cookie jar for the tool and the hub, no automatic redirects."""

    def __init__(self):
        self.session = requests.Session()

    def get(self, url):
        return self.session.get(url, allow_redirects=False)

    def post(self, url, form):
        return self.session.post(url, data=form, allow_redirects=False)

    def follow(self, response):
        while response.status_code in (301, 302, 303, 307):
            response = self.get(urljoin(response.url, response.headers["location"]))
        return response


def main():
    browser = Browser()
    start = browser.get(f"{TOOL}/auth/openid_connect")
    check(start.status_code in (302, 303), "the tool sends the person to the hub")
    authorize = start.headers["location"]
    query = parse_qs(urlparse(authorize).query)
    check(authorize.startswith(f"{HUB}/oidc/authorize"), "to the hub's authorization endpoint (from discovery)")
    check("code_challenge" not in query and "nonce" in query, "stock OmniAuth sends a nonce and no PKCE")
    page = browser.follow(browser.get(authorize))
    check('action="/anmelden"' in page.text, "the hub asks the person to log in")
    form = {"email": EMAIL, "password": PASSWORD, "csrf": field(page.text, "csrf"), "anfrage": field(page.text, "anfrage")}
    page = browser.follow(browser.post(f"{HUB}/anmelden", form))
    if "/oidc/zustimmung" in page.text:
        form = {"csrf": field(page.text, "csrf"), "anfrage": field(page.text, "anfrage"), "decision": "allow"}
        page = browser.follow(browser.post(f"{HUB}/oidc/zustimmung", form))
    check(page.status_code == 200 and page.url.startswith(f"{TOOL}/auth/openid_connect/callback"), f"back at the tool: {page.status_code} {page.text[:300]}")
    identity = page.json()
    check(identity["email"] == EMAIL, "the tool knows the address (ID token and userinfo)")
    check(identity["uid"] and "@" not in identity["uid"], "the tool sees a pairwise subject")
    check(browser.get(f"{HUB}/konto").status_code == 200, "signed in at the hub")

    out = browser.get(f"{TOOL}/auth/openid_connect/logout")
    check(out.status_code in (302, 303), "the tool's logout goes to the hub")
    end_session = out.headers["location"]
    params = parse_qs(urlparse(end_session).query)
    check(end_session.startswith(f"{HUB}/oidc/logout") and set(params) == {"post_logout_redirect_uri"}, "with only post_logout_redirect_uri")
    ask = browser.get(end_session)
    check(ask.status_code == 200 and "/oidc/logout/bestaetigen" in ask.text, "the hub asks the person")
    confirm = {"csrf": field(ask.text, "csrf"), "post_logout_redirect_uri": params["post_logout_redirect_uri"][0]}
    done = browser.post(f"{HUB}/oidc/logout/bestaetigen", confirm)
    check(done.status_code == 200 and "location" not in done.headers, "logged out, on the hub's own page")
    check(browser.get(f"{HUB}/konto").status_code == 303, "the hub session has ended")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, KeyError, ValueError) as e:
        print(f"not ok - {e}", file=sys.stderr)
        sys.exit(1)
