// End to end through a real relying party (openid-client from npm): a tool logs a citizen in,
// pushes two contributions in the citizen's name through the standard API with the pairwise
// subject it got, and the citizen sees both under "Meine Beteiligung". Deleting the account
// then reaches the tool's back-channel logout endpoint and its RFC 8935 receiver with a
// Security Event Token that the tool verifies against the hub's JWKS (jose from npm).
//
// Environment: HUB_URL, PARTICIPATION_CLIENT (JSON from `mitsprache client add`),
// PARTICIPATION_PORT (where this test's tool listens), PARTICIPATION_EMAIL, RP_PASSWORD,
// RP_REDIRECT_URI.

import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import * as client from "openid-client";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { Browser, input } from "./browser.js";

const hub = new URL(process.env.HUB_URL);
const rp = JSON.parse(process.env.PARTICIPATION_CLIENT);
const insecure = { execute: [client.allowInsecureRequests] };
const PURGED = "https://schemas.openid.net/secevent/risc/event-type/account-purged";

/// The tool's two receivers: back-channel logout (form post) and RFC 8935 push (the SET as body).
function receivers() {
  const got = { logouts: [], events: [] };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.url === "/backchannel") {
        got.logouts.push(new URLSearchParams(body).get("logout_token"));
        res.writeHead(200).end();
      } else if (req.url === "/events") {
        got.events.push({ type: req.headers["content-type"], authorization: req.headers.authorization, set: body });
        res.writeHead(202).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  return { got, server };
}

async function until(what, check) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not arrive`);
}

test("contributions pushed by a tool appear in Meine Beteiligung, and the deletion reaches the tool", async () => {
  const { got, server } = receivers();
  await new Promise((r) => server.listen(Number(process.env.PARTICIPATION_PORT), "127.0.0.1", r));
  try {
    const config = await client.discovery(hub, rp.client_id, rp.client_secret, client.ClientSecretBasic(rp.client_secret), insecure);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: process.env.RP_REDIRECT_URI,
      scope: "openid",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });
    const browser = new Browser(hub);
    const callback = await browser.authorize(url, process.env.PARTICIPATION_EMAIL, process.env.RP_PASSWORD);
    const tokens = await client.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state });
    const sub = tokens.claims().sub;

    // The tool pushes its process and two contributions of this citizen.
    const machine = await client.clientCredentialsGrant(config, { scope: "data:write" });
    const put = async (path, record) => {
      const r = await fetch(new URL(path, hub), {
        method: "PUT",
        headers: { authorization: `Bearer ${machine.access_token}`, "content-type": "application/json" },
        body: JSON.stringify(record),
      });
      assert.ok(r.status === 201 || r.status === 200, `${path}: ${r.status} ${await r.text()}`);
    };
    await put("/api/v1/data/processes/haushalt-2027", {
      title: { de: "Bürgerhaushalt 2027" },
      status: "open",
      url: "https://tool.example/processes/haushalt-2027",
      updated_at: "2026-11-01T00:00:00Z",
    });
    for (const [id, title] of [["v1", "Ein Trinkbrunnen am Markt"], ["v2", "Bänke im Stadtpark"]]) {
      await put(`/api/v1/data/contributions/${id}`, {
        process: "haushalt-2027",
        kind: "proposal",
        title: { de: title },
        author: sub,
        status: "received",
        created_at: "2026-11-02T09:00:00Z",
        updated_at: "2026-11-02T09:00:00Z",
      });
    }
    const mine = await browser.request("/meine-beteiligung");
    assert.equal(mine.status, 200);
    assert.ok(mine.body.includes("Ein Trinkbrunnen am Markt"), "the first contribution");
    assert.ok(mine.body.includes("Bänke im Stadtpark"), "the second contribution");

    // Deletion: back-channel logout and a signed account-purged event reach the tool.
    const account = await browser.request("/konto");
    const deleted = await browser.request("/konto/loeschen", {
      method: "POST",
      form: { csrf: input(account.body, "csrf"), password: process.env.RP_PASSWORD },
    });
    assert.equal(deleted.status, 303);
    await until("the back-channel logout", () => got.logouts.length > 0);
    await until("the deletion event", () => got.events.length > 0);
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
    const logout = await jwtVerify(got.logouts[0], jwks, { issuer: hub.origin, audience: rp.client_id, typ: "logout+jwt" });
    assert.equal(logout.payload.sub, sub);
    const { type, authorization, set } = got.events[0];
    assert.equal(type, "application/secevent+jwt");
    assert.equal(authorization, "Bearer werkzeug-empfang");
    const event = await jwtVerify(set, jwks, { issuer: hub.origin, audience: rp.client_id, typ: "secevent+jwt" });
    assert.deepEqual(event.payload.sub_id, { format: "iss_sub", iss: hub.origin, sub });
    assert.deepEqual(event.payload.events, { [PURGED]: {} });
    assert.equal(event.payload.sub, undefined, "SSF: the subject is in sub_id only");
    // The receipt tells the person that the tool has it.
    let receipt;
    for (let i = 0; i < 100; i++) {
      receipt = await browser.request(deleted.location);
      if (receipt.body.includes("zugestellt")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(receipt.status, 200);
    assert.ok(receipt.body.includes("zugestellt"), receipt.body);
  } finally {
    server.close();
  }
});
