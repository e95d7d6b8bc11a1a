// openid-client (npm), an OpenID Certified relying party library, against a running hub:
// the code flow with PKCE, ID token validation, userinfo, refresh with rotation, RP-initiated
// logout, and a machine client with client_credentials, introspection and revocation.
//
// Environment: HUB_URL, RP_CLIENT (JSON from `mitsprache client add`), MACHINE_CLIENT (same),
// RP_EMAIL, RP_PASSWORD, RP_REDIRECT_URI, RP_POST_LOGOUT_URI.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as client from "openid-client";
import { Browser } from "./browser.js";

const hub = new URL(process.env.HUB_URL);
const rp = JSON.parse(process.env.RP_CLIENT);
const machine = JSON.parse(process.env.MACHINE_CLIENT);
const redirectUri = process.env.RP_REDIRECT_URI;
const insecure = { execute: [client.allowInsecureRequests] }; // the test hub runs on plain http

test("code flow with PKCE, userinfo, refresh and logout", async () => {
  const config = await client.discovery(hub, rp.client_id, rp.client_secret, client.ClientSecretBasic(rp.client_secret), insecure);
  assert.equal(config.serverMetadata().issuer, hub.origin);

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid email profile",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  const browser = new Browser(hub);
  const callback = await browser.authorize(url, process.env.RP_EMAIL, process.env.RP_PASSWORD);
  assert.ok(callback.startsWith(redirectUri), callback);

  // Validates iss (RFC 9207), state, the code exchange, and the ID token's signature and claims.
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.email, process.env.RP_EMAIL);
  assert.ok(claims.sid, "sid for back-channel logout");
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, process.env.RP_EMAIL);

  // A second login while the session lives goes straight back with a code.
  const again = await browser.request(
    client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: "openid email profile",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    }).href,
  );
  assert.equal(again.status, 303);
  assert.ok(new URL(again.location).searchParams.get("code"));

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, "refresh tokens rotate");
  assert.equal(refreshed.claims().sub, claims.sub);
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === "invalid_grant");

  const logout = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: process.env.RP_POST_LOGOUT_URI,
    state: "bye",
  });
  const done = await browser.request(logout.href);
  assert.equal(done.status, 303);
  assert.equal(done.location, `${process.env.RP_POST_LOGOUT_URI}?state=bye`);
});

test("machine client: client_credentials, introspection, revocation", async () => {
  const config = await client.discovery(hub, machine.client_id, machine.client_secret, client.ClientSecretBasic(machine.client_secret), insecure);
  const tokens = await client.clientCredentialsGrant(config, { resource: "https://api.example/v1" });
  assert.equal(tokens.token_type, "bearer");
  const active = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(active.active, true);
  assert.deepEqual(active.aud, ["https://api.example/v1"]);
  await client.tokenRevocation(config, tokens.access_token);
  const revoked = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(revoked.active, false);
});
