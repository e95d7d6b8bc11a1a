// Drives full authorization-code logins with PKCE through openid-client against a provider
// (the hub or the peer), as a person's browser would: authorize, login form, consent form,
// callback, code exchange with ID-token validation. Prints one JSON line with p50/p99 of the
// whole login, of a second tool's login while the session lives (hub only), and writes the
// refresh tokens it obtained to TOKENS_FILE for the refresh scenario.
//
// Environment: ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, LOGINS, TOKENS_FILE,
// and for the hub EMAIL_PATTERN (with {n}), PASSWORD, SECOND_CLIENT_ID/SECRET.
import * as client from "openid-client";
import { writeFileSync } from "node:fs";

const insecure = { execute: [client.allowInsecureRequests] };
const issuer = new URL(process.env.ISSUER);
const redirectUri = process.env.REDIRECT_URI;
const logins = Number(process.env.LOGINS ?? 50);

class Browser {
  constructor() { this.jar = new Map(); }
  async go(url, form) {
    const u = new URL(url, issuer);
    const headers = { cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ") };
    let body;
    if (form) { headers["content-type"] = "application/x-www-form-urlencoded"; body = new URLSearchParams(form).toString(); }
    const r = await fetch(u, { method: form ? "POST" : "GET", headers, body, redirect: "manual" });
    for (const c of r.headers.getSetCookie()) { const [pair] = c.split(";"); const [k, ...v] = pair.split("="); this.jar.set(k, v.join("=")); }
    const location = r.headers.get("location");
    return { status: r.status, location: location && new URL(location, u).href, body: await r.text() };
  }
}

const field = (html, name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1]?.replaceAll("&amp;", "&");

/** From the authorization URL to the callback URL, filling whichever forms come. */
async function authorize(browser, url, n) {
  let page = await browser.go(url);
  for (let steps = 0; steps < 20; steps++) {
    if (page.location?.startsWith(redirectUri)) return page.location;
    if (page.location) { page = await browser.go(page.location); continue; }
    const action = page.body.match(/<form[^>]*action="([^"]+)"/)?.[1]?.replaceAll("&amp;", "&");
    if (!action) throw new Error(`stuck at ${page.status}: ${page.body.slice(0, 200)}`);
    let form;
    if (action === "/anmelden") form = { email: process.env.EMAIL_PATTERN.replace("{n}", n), password: process.env.PASSWORD, csrf: field(page.body, "csrf"), anfrage: field(page.body, "anfrage") };
    else if (action === "/oidc/zustimmung") form = { csrf: field(page.body, "csrf"), anfrage: field(page.body, "anfrage"), decision: "allow" };
    else if (page.body.includes('name="login"')) form = { prompt: "login", login: `user${n}`, password: "x" };
    else form = { prompt: "consent" };
    page = await browser.go(action, form);
  }
  throw new Error("too many steps");
}

async function flow(config, browser, n, scope) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope, prompt: "consent", code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", state, nonce });
  const callback = await authorize(browser, url.href, n);
  return client.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.round((s.length - 1) * p)]; };
const config = await client.discovery(issuer, process.env.CLIENT_ID, process.env.CLIENT_SECRET, client.ClientSecretBasic(process.env.CLIENT_SECRET), insecure);
const second = process.env.SECOND_CLIENT_ID
  && await client.discovery(issuer, process.env.SECOND_CLIENT_ID, process.env.SECOND_CLIENT_SECRET, client.ClientSecretBasic(process.env.SECOND_CLIENT_SECRET), insecure);
const times = [];
const secondTimes = [];
const refresh = [];
for (let n = 0; n < logins; n++) {
  const browser = new Browser();
  const t = performance.now();
  const tokens = await flow(config, browser, n, "openid email offline_access");
  times.push(performance.now() - t);
  if (tokens.refresh_token) refresh.push(tokens.refresh_token);
  if (second) {
    // Another tool while the session lives: no login form, no consent (first-party tool).
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const t2 = performance.now();
    const url = client.buildAuthorizationUrl(second, { redirect_uri: redirectUri, scope: "openid email", code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", state });
    const page = await browser.go(url.href);
    await client.authorizationCodeGrant(second, new URL(page.location), { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
    secondTimes.push(performance.now() - t2);
  }
}
if (process.env.TOKENS_FILE) writeFileSync(process.env.TOKENS_FILE, refresh.join("\n") + "\n");
const round = (x) => (x === undefined ? null : Math.round(x * 100) / 100);
console.log(JSON.stringify({
  scenario: "code-flow", logins, p50_ms: round(pct(times.slice(1), 0.5)), p99_ms: round(pct(times.slice(1), 0.99)), first_ms: round(times[0]),
  second_tool_p50_ms: round(secondTimes.length ? pct(secondTimes.slice(1), 0.5) : undefined),
  second_tool_p99_ms: round(secondTimes.length ? pct(secondTimes.slice(1), 0.99) : undefined),
  refresh_tokens: refresh.length,
}));
