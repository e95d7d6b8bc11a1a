// Brokered login: a tool (openid-client) asks the hub, the person chooses the upstream provider
// (node-oidc-provider) on the hub's login page, logs in there, and comes back to the tool with
// a hub account linked to the upstream one. Environment as for openid-client.test.js, plus
// UPSTREAM_ID (the provider id in the hub's configuration).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as client from "openid-client";

const hub = new URL(process.env.HUB_URL);
const rp = JSON.parse(process.env.RP_CLIENT);
const redirectUri = process.env.RP_REDIRECT_URI;

/** A cookie jar over several origins (the hub and the upstream provider). */
class Jar {
  constructor() {
    this.cookies = new Map();
  }
  async get(url, init = {}) {
    const u = new URL(url);
    const jar = this.cookies.get(u.host) ?? new Map();
    const headers = { ...(init.headers ?? {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") };
    const response = await fetch(u, { ...init, headers, redirect: "manual" });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(";");
      const [name, ...value] = pair.split("=");
      jar.set(name, value.join("="));
    }
    this.cookies.set(u.host, jar);
    return { status: response.status, location: response.headers.get("location") && new URL(response.headers.get("location"), u).href, body: await response.text() };
  }
  post(url, form) {
    return this.get(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
  }
}

test("login through the upstream provider creates a linked hub account", async () => {
  const config = await client.discovery(hub, rp.client_id, rp.client_secret, client.ClientSecretBasic(rp.client_secret), { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid email",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
  });
  const jar = new Jar();
  let page = await jar.get(url.href);
  page = await jar.get(page.location); // the hub's login page
  const link = page.body.match(new RegExp(`href="(/anmelden/extern/${process.env.UPSTREAM_ID}\\?anfrage=[^"]+)"`));
  assert.ok(link, "the login page offers the upstream provider");
  page = await jar.get(new URL(link[1].replaceAll("&amp;", "&"), hub).href);
  // Through the upstream provider's own login and consent forms.
  const upstreamOrigin = new URL(page.location).origin;
  while (page.location && new URL(page.location).origin === upstreamOrigin) {
    page = await jar.get(page.location);
    const form = page.body.match(/action="([^"]+)"/);
    if (page.status === 200 && form) {
      const action = new URL(form[1], upstreamOrigin).href;
      const login = page.body.includes('name="login"');
      page = await jar.post(action, login ? { prompt: "login", login: "ada", password: "any" } : { prompt: "consent" });
    }
  }
  // Back at the hub: account created, session started, then consent for the tool.
  while (page.location && new URL(page.location).origin === hub.origin) {
    page = await jar.get(page.location);
    const consent = page.body.match(/name="anfrage" value="([^"]+)"/);
    if (page.status === 200 && page.body.includes('action="/oidc/zustimmung"') && consent) {
      const csrf = page.body.match(/name="csrf" value="([^"]+)"/)[1];
      page = await jar.post(new URL("/oidc/zustimmung", hub).href, { csrf, anfrage: consent[1], decision: "allow" });
    }
  }
  assert.ok(page.location?.startsWith(redirectUri), `back at the tool: ${page.status} ${page.location} ${page.body.match(/<main[^]*<\/main>/)?.[0]}`);
  const tokens = await client.authorizationCodeGrant(config, new URL(page.location), { pkceCodeVerifier: verifier, expectedState: state });
  assert.equal(tokens.claims().email, "ada@upstream.example");
  assert.equal(tokens.claims().email_verified, true);
  assert.deepEqual(tokens.claims().amr, ["fed"], "the ID token says the login was federated (RFC 8176)");
});
