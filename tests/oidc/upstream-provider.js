// A real upstream OpenID provider for the hub's brokered login: node-oidc-provider with one
// client (the hub) and its development login form, on UPSTREAM_PORT. Every login name is an
// account whose e-mail address is NAME@upstream.example. Prints "ready" when it listens.
import Provider from "oidc-provider";
import { generateKeyPair, exportJWK } from "jose";

const port = Number(process.env.UPSTREAM_PORT);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair("RS256", { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: "upstream-1", alg: "RS256", use: "sig" };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.UPSTREAM_CLIENT_ID,
      client_secret: process.env.UPSTREAM_CLIENT_SECRET,
      redirect_uris: [process.env.UPSTREAM_REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: ["upstream-test-cookie-key"] },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@upstream.example`, email_verified: true, name: `Upstream ${id}` };
      },
    };
  },
});
provider.listen(port, "127.0.0.1", () => console.log("ready"));
