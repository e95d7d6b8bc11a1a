// The benchmark peer: node-oidc-provider configured like the hub for the measured grants.
// client_credentials with `resource` gives an RFC 9068 JWT access token signed ES256; the
// refresh grant rotates refresh tokens and issues an ES256 ID token; devInteractions lets the
// code-flow driver log in. In-memory adapter (the library default), as in the research anchor.
import Provider from "oidc-provider";
import { generateKeyPair, exportJWK } from "jose";

const port = Number(process.env.PEER_PORT);
const issuer = `http://127.0.0.1:${port}`;
const key = async (alg, kid) => ({ ...(await exportJWK((await generateKeyPair(alg, { extractable: true })).privateKey)), kid, alg, use: "sig" });
const resource = "urn:bench:api";

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "bench-client",
      client_secret: "bench-secret-0123456789",
      redirect_uris: [process.env.REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token", "client_credentials"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      id_token_signed_response_alg: "ES256",
    },
  ],
  jwks: { keys: [await key("ES256", "es256"), await key("RS256", "rs256")] },
  cookies: { keys: ["bench-cookie-key"] },
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  scopes: ["openid", "offline_access", "email"],
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      getResourceServerInfo: () => ({ scope: "", audience: resource, accessTokenFormat: "jwt", jwt: { sign: { alg: "ES256" } } }),
      useGrantedResource: () => false,
    },
  },
  rotateRefreshToken: true,
  pkce: { required: () => true },
  ttl: { AccessToken: 900, ClientCredentials: 900, IdToken: 900, RefreshToken: 30 * 86400, AuthorizationCode: 60, Interaction: 600, Session: 43200, Grant: 30 * 86400 },
  async findAccount(_ctx, id) {
    return { accountId: id, async claims() { return { sub: id, email: `${id}@example.org`, email_verified: true }; } };
  },
});
provider.listen(port, "127.0.0.1", () => console.log("ready"));
