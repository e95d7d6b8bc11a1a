//! Registered clients (the participation tools): their metadata, its validation at registration,
//! exact redirect URI matching and client authentication at the token endpoint.

use crate::jose::{self, Jwks};
use crate::random::{constant_time_eq, digest};
use crate::subject::SubjectType;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(s: &str) -> Option<GrantType> {
        [GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials]
            .into_iter()
            .find(|g| g.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    /// Public clients (apps that cannot keep a secret); PKCE is their proof.
    None,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<AuthMethod> {
        [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost, AuthMethod::PrivateKeyJwt, AuthMethod::None]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// A registered client. The secret is kept only as its SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_digest: Option<String>,
    pub auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    pub subject_type: SubjectType,
    /// The host pairwise subjects are computed for.
    pub sector: String,
    /// Pre-consented by an admin: the hub's own or contracted tools skip the consent screen.
    #[serde(default)]
    pub first_party: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// The role a machine client acts with on its own tokens (client_credentials), e.g. an
    /// editor that publishes catalogue records. People's tokens carry their account's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_role: Option<mitsprache_domain::Role>,
    /// `id_token_signed_response_alg`: ES256 unless the client registered RS256 (OIDC
    /// Registration §2; some relying parties only verify RSA).
    #[serde(default = "default_id_token_alg")]
    pub id_token_alg: crate::jose::Alg,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What a registrant asks for (CLI, admin page or RFC 7591 request).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registration {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub auth_method: Option<AuthMethod>,
    pub jwks: Option<Jwks>,
    pub subject_type: SubjectType,
    pub sector_identifier_host: Option<String>,
    pub first_party: bool,
    pub backchannel_logout_uri: Option<String>,
    pub machine_role: Option<mitsprache_domain::Role>,
    pub id_token_alg: Option<crate::jose::Alg>,
}

fn default_id_token_alg() -> crate::jose::Alg {
    crate::jose::Alg::ES256
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("invalid_redirect_uri: {0}")]
    RedirectUri(String),
    #[error("invalid_client_metadata: {0}")]
    Metadata(String),
}

impl RegistrationError {
    /// The RFC 7591 error code.
    pub fn code(&self) -> &'static str {
        match self {
            RegistrationError::RedirectUri(_) => "invalid_redirect_uri",
            RegistrationError::Metadata(_) => "invalid_client_metadata",
        }
    }
}

/// Checks a redirect (or post-logout redirect) URI: absolute, no fragment, https except on
/// loopback hosts (RFC 8252 §7.3 / RFC 9700 §2.1).
pub fn check_redirect_uri(uri: &str) -> Result<Url, String> {
    let url = Url::parse(uri).map_err(|e| format!("{uri}: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!("{uri}: must not contain a fragment"));
    }
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(format!("{uri}: must be an absolute http(s) URL"));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(format!("{uri}: must use https (http only for localhost)")),
        other => Err(format!("{uri}: scheme {other} is not allowed")),
    }
}

/// Checks a `sector_identifier_uri` and the JSON it served (OIDC Core §8.1): the document is
/// an array holding every redirect URI of the client; the sector is the URI's host.
pub fn sector_from_document(uri: &str, document: &[u8], redirect_uris: &[String]) -> Result<String, RegistrationError> {
    let url = check_redirect_uri(uri).map_err(|e| RegistrationError::Metadata(format!("sector_identifier_uri {e}")))?;
    let listed: Vec<String> = serde_json::from_slice(document).map_err(|_| {
        RegistrationError::Metadata("the sector identifier document must be a JSON array of URIs".into())
    })?;
    if let Some(missing) = redirect_uris.iter().find(|r| !listed.contains(r)) {
        return Err(RegistrationError::Metadata(format!("the sector identifier document does not list {missing}")));
    }
    url.host_str()
        .map(str::to_owned)
        .ok_or_else(|| RegistrationError::Metadata("sector_identifier_uri has no host".into()))
}

impl Registration {
    /// Validates the request and builds the client. Returns it with the plain secret (shown once)
    /// when the auth method uses one.
    pub fn into_client(
        self,
        id: String,
        secret: String,
        now: OffsetDateTime,
    ) -> Result<(Client, Option<String>), RegistrationError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(RegistrationError::Metadata("client_name must have 1 to 200 characters".into()));
        }
        let grant_types = if self.grant_types.is_empty() {
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        } else {
            let mut g = self.grant_types.clone();
            g.dedup();
            g
        };
        let uses_code = grant_types.contains(&GrantType::AuthorizationCode);
        if uses_code && self.redirect_uris.is_empty() {
            return Err(RegistrationError::RedirectUri("at least one redirect URI is required".into()));
        }
        let mut hosts = Vec::new();
        for uri in &self.redirect_uris {
            let url = check_redirect_uri(uri).map_err(RegistrationError::RedirectUri)?;
            hosts.push(url.host_str().unwrap_or_default().to_owned());
        }
        for uri in &self.post_logout_redirect_uris {
            check_redirect_uri(uri).map_err(RegistrationError::RedirectUri)?;
        }
        if let Some(uri) = &self.backchannel_logout_uri {
            check_redirect_uri(uri).map_err(|e| RegistrationError::Metadata(format!("backchannel_logout_uri {e}")))?;
        }
        let auth_method = self.auth_method.unwrap_or(AuthMethod::ClientSecretBasic);
        if auth_method == AuthMethod::PrivateKeyJwt && self.jwks.as_ref().is_none_or(|k| k.keys.is_empty()) {
            return Err(RegistrationError::Metadata("private_key_jwt needs jwks with the client's public keys".into()));
        }
        if auth_method == AuthMethod::None && grant_types.contains(&GrantType::ClientCredentials) {
            return Err(RegistrationError::Metadata("client_credentials needs an authenticated client".into()));
        }
        hosts.sort();
        hosts.dedup();
        let subject_type = self.subject_type;
        // OIDC Core §8.1: several redirect hosts need a sector identifier naming the sector.
        let sector = match (&self.sector_identifier_host, hosts.as_slice()) {
            (Some(host), _) => host.clone(),
            (None, [one]) => one.clone(),
            (None, []) => id.clone(),
            (None, _) if subject_type == SubjectType::Pairwise => {
                return Err(RegistrationError::Metadata(
                    "redirect URIs on several hosts need a sector identifier for pairwise subjects".into(),
                ));
            }
            (None, _) => hosts.join(","),
        };
        if self.machine_role.is_some() && !grant_types.contains(&GrantType::ClientCredentials) {
            return Err(RegistrationError::Metadata("a machine role needs the client_credentials grant".into()));
        }
        let uses_secret = matches!(auth_method, AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost);
        let client = Client {
            id,
            name,
            secret_digest: uses_secret.then(|| digest(&secret)),
            auth_method,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            grant_types,
            jwks: self.jwks,
            subject_type,
            sector,
            first_party: self.first_party,
            backchannel_logout_uri: self.backchannel_logout_uri,
            machine_role: self.machine_role,
            id_token_alg: self.id_token_alg.unwrap_or(crate::jose::Alg::ES256),
            created_at: now,
        };
        Ok((client, uses_secret.then_some(secret)))
    }
}

impl Client {
    /// Exact string comparison (RFC 9700 §4.1.3), except the port of loopback IP redirect URIs,
    /// which native apps pick at run time (RFC 8252 §7.3).
    pub fn redirect_uri_allowed(&self, uri: &str) -> bool {
        if self.redirect_uris.iter().any(|r| r == uri) {
            return true;
        }
        let Ok(asked) = Url::parse(uri) else { return false };
        if !matches!(asked.host_str(), Some("127.0.0.1" | "[::1]")) || asked.scheme() != "http" {
            return false;
        }
        self.redirect_uris.iter().filter_map(|r| Url::parse(r).ok()).any(|mut r| {
            r.host_str() == asked.host_str() && r.set_port(asked.port()).is_ok() && r.as_str() == asked.as_str()
        })
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }
}

/// The credentials a token, revocation or introspection request presented.
#[derive(Debug, Clone, Default)]
pub struct Presented {
    /// From the `Authorization: Basic` header.
    pub basic: Option<(String, String)>,
    pub post_id: Option<String>,
    pub post_secret: Option<String>,
    pub assertion_type: Option<String>,
    pub assertion: Option<String>,
}

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientAuthError {
    #[error("no client identified")]
    Missing,
    #[error("more than one client authentication method used")]
    Ambiguous,
    #[error("client authentication failed")]
    Failed,
}

impl Presented {
    /// The client id the request names, whichever method it used.
    pub fn client_id(&self) -> Result<String, ClientAuthError> {
        let methods = usize::from(self.basic.is_some())
            + usize::from(self.post_secret.is_some())
            + usize::from(self.assertion.is_some());
        if methods > 1 {
            return Err(ClientAuthError::Ambiguous);
        }
        if let Some((id, _)) = &self.basic {
            if self.post_id.as_ref().is_some_and(|p| p != id) {
                return Err(ClientAuthError::Ambiguous);
            }
            return Ok(id.clone());
        }
        if let Some(assertion) = &self.assertion {
            let claims = jose::peek(assertion).map_err(|_| ClientAuthError::Failed)?;
            let iss = claims.get("iss").and_then(Value::as_str).ok_or(ClientAuthError::Failed)?;
            if self.post_id.as_deref().is_some_and(|p| p != iss) {
                return Err(ClientAuthError::Failed);
            }
            return Ok(iss.to_owned());
        }
        self.post_id.clone().ok_or(ClientAuthError::Missing)
    }

    /// Authenticates `client` by the method it registered; another method fails. `audience` is
    /// what a client assertion's `aud` must contain (the token endpoint URL or the issuer).
    /// Returns the assertion's `jti` and `exp` so the caller can refuse a replay.
    pub fn authenticate(
        &self,
        client: &Client,
        audiences: &[&str],
        now: OffsetDateTime,
    ) -> Result<Option<(String, i64)>, ClientAuthError> {
        let check_secret = |presented: &str| {
            client.secret_digest.as_deref().is_some_and(|stored| constant_time_eq(&digest(presented), stored))
        };
        match client.auth_method {
            AuthMethod::ClientSecretBasic => match &self.basic {
                Some((_, secret)) if check_secret(secret) => Ok(None),
                _ => Err(ClientAuthError::Failed),
            },
            AuthMethod::ClientSecretPost => match &self.post_secret {
                Some(secret) if self.basic.is_none() && check_secret(secret) => Ok(None),
                _ => Err(ClientAuthError::Failed),
            },
            AuthMethod::None => {
                if self.basic.is_some() || self.post_secret.is_some() || self.assertion.is_some() {
                    Err(ClientAuthError::Failed)
                } else {
                    Ok(None)
                }
            }
            AuthMethod::PrivateKeyJwt => {
                if self.assertion_type.as_deref() != Some(JWT_BEARER) {
                    return Err(ClientAuthError::Failed);
                }
                let (Some(assertion), Some(jwks)) = (&self.assertion, &client.jwks) else {
                    return Err(ClientAuthError::Failed);
                };
                let verified = jose::verify(assertion, &jwks.keys).map_err(|_| ClientAuthError::Failed)?;
                let c = &verified.claims;
                let str_claim = |k: &str| c.get(k).and_then(Value::as_str);
                // RFC 7523 §3: iss and sub are the client, aud names this server, exp is future.
                let aud_ok = audiences.iter().any(|a| jose::audience_includes(c, a));
                let exp = c.get("exp").and_then(Value::as_i64).ok_or(ClientAuthError::Failed)?;
                let now = now.unix_timestamp();
                let jti = str_claim("jti").ok_or(ClientAuthError::Failed)?;
                if str_claim("iss") != Some(&client.id)
                    || str_claim("sub") != Some(&client.id)
                    || !aud_ok
                    || exp <= now
                    || exp > now + 3600
                {
                    return Err(ClientAuthError::Failed);
                }
                Ok(Some((jti.to_owned(), exp)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{Alg, SigningKey};
    use serde_json::json;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn registration() -> Registration {
        Registration {
            name: "Decidim Musterstadt".into(),
            redirect_uris: vec!["https://decidim.example/users/auth/openid_connect/callback".into()],
            ..Registration::default()
        }
    }

    #[test]
    fn registration_defaults_are_safe() {
        let (client, secret) = registration().into_client("c1".into(), "s".repeat(43), now()).unwrap();
        assert_eq!(client.auth_method, AuthMethod::ClientSecretBasic);
        assert_eq!(client.subject_type, SubjectType::Pairwise);
        assert_eq!(client.sector, "decidim.example");
        assert_eq!(client.grant_types, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]);
        assert_eq!(secret.as_deref(), Some("s".repeat(43).as_str()));
        assert_ne!(client.secret_digest.as_deref(), Some("s".repeat(43).as_str()));
    }

    #[test]
    fn unsafe_redirect_uris_are_refused() {
        for bad in ["http://decidim.example/cb", "https://x.example/cb#frag", "javascript:alert(1)", "/relative"] {
            let mut r = registration();
            r.redirect_uris = vec![bad.into()];
            assert!(
                matches!(r.into_client("c".into(), "s".into(), now()), Err(RegistrationError::RedirectUri(_))),
                "{bad}"
            );
        }
        let mut two_hosts = registration();
        two_hosts.redirect_uris.push("https://other.example/cb".into());
        assert!(two_hosts.into_client("c".into(), "s".into(), now()).is_err());
    }

    #[test]
    fn sector_documents_must_list_every_redirect_uri() {
        let uris = vec!["https://a.example/cb".to_owned(), "https://b.example/cb".to_owned()];
        let doc = br#"["https://a.example/cb", "https://b.example/cb"]"#;
        assert_eq!(sector_from_document("https://tool.example/sector.json", doc, &uris).unwrap(), "tool.example");
        assert!(sector_from_document("https://tool.example/s.json", br#"["https://a.example/cb"]"#, &uris).is_err());
        assert!(sector_from_document("http://tool.example/s.json", doc, &uris).is_err(), "https only");
        assert!(sector_from_document("https://tool.example/s.json", b"{}", &uris).is_err());
    }

    #[test]
    fn redirect_uris_match_exactly_except_loopback_ports() {
        let mut r = registration();
        r.redirect_uris.push("http://127.0.0.1/callback".into());
        r.sector_identifier_host = Some("decidim.example".into());
        let (client, _) = r.into_client("c".into(), "s".into(), now()).unwrap();
        assert!(client.redirect_uri_allowed("https://decidim.example/users/auth/openid_connect/callback"));
        assert!(!client.redirect_uri_allowed("https://decidim.example/users/auth/openid_connect/callback/"));
        assert!(!client.redirect_uri_allowed("https://decidim.example/users/auth/openid_connect/callback?x=1"));
        assert!(!client.redirect_uri_allowed("https://DECIDIM.example.evil/users/auth/openid_connect/callback"));
        assert!(client.redirect_uri_allowed("http://127.0.0.1:53117/callback"));
        assert!(!client.redirect_uri_allowed("http://127.0.0.1:53117/other"));
    }

    #[test]
    fn secrets_authenticate_only_by_the_registered_method() {
        let secret = "a".repeat(43);
        let (client, _) = registration().into_client("c1".into(), secret.clone(), now()).unwrap();
        let basic = Presented { basic: Some(("c1".into(), secret.clone())), ..Presented::default() };
        assert_eq!(basic.client_id().unwrap(), "c1");
        assert!(basic.authenticate(&client, &[], now()).is_ok());
        let wrong = Presented { basic: Some(("c1".into(), "b".repeat(43))), ..Presented::default() };
        assert_eq!(wrong.authenticate(&client, &[], now()), Err(ClientAuthError::Failed));
        let post = Presented { post_id: Some("c1".into()), post_secret: Some(secret), ..Presented::default() };
        assert_eq!(post.authenticate(&client, &[], now()), Err(ClientAuthError::Failed));
        let both =
            Presented { basic: Some(("c1".into(), "x".into())), post_secret: Some("x".into()), ..Presented::default() };
        assert_eq!(both.client_id(), Err(ClientAuthError::Ambiguous));
    }

    #[test]
    fn private_key_jwt_checks_signature_issuer_audience_and_expiry() {
        let key = SigningKey::generate(Alg::ES256, "ck".into()).unwrap();
        let mut r = registration();
        r.auth_method = Some(AuthMethod::PrivateKeyJwt);
        r.jwks = Some(Jwks { keys: vec![key.public_jwk()] });
        let (client, secret) = r.into_client("c1".into(), "unused".into(), now()).unwrap();
        assert!(secret.is_none() && client.secret_digest.is_none());
        let aud = "https://hub.example/oidc/token";
        let assertion = |claims: Value| Presented {
            post_id: None,
            assertion_type: Some(JWT_BEARER.into()),
            assertion: Some(key.sign("JWT", &claims).unwrap()),
            ..Presented::default()
        };
        let t = now().unix_timestamp();
        let good = assertion(json!({"iss": "c1", "sub": "c1", "aud": aud, "exp": t + 60, "jti": "j1"}));
        assert_eq!(good.client_id().unwrap(), "c1");
        assert_eq!(good.authenticate(&client, &[aud], now()).unwrap(), Some(("j1".into(), t + 60)));
        for bad in [
            json!({"iss": "c1", "sub": "c1", "aud": "https://other/", "exp": t + 60, "jti": "j"}),
            json!({"iss": "c1", "sub": "c1", "aud": aud, "exp": t - 1, "jti": "j"}),
            json!({"iss": "c1", "sub": "c2", "aud": aud, "exp": t + 60, "jti": "j"}),
            json!({"iss": "c1", "sub": "c1", "aud": aud, "exp": t + 60}),
        ] {
            assert_eq!(assertion(bad).authenticate(&client, &[aud], now()), Err(ClientAuthError::Failed));
        }
        let foreign = SigningKey::generate(Alg::ES256, "ck".into()).unwrap();
        let forged = Presented {
            assertion_type: Some(JWT_BEARER.into()),
            assertion: Some(
                foreign.sign("JWT", &json!({"iss": "c1", "sub": "c1", "aud": aud, "exp": t + 60, "jti": "j"})).unwrap(),
            ),
            ..Presented::default()
        };
        assert_eq!(forged.authenticate(&client, &[aud], now()), Err(ClientAuthError::Failed));
    }
}
