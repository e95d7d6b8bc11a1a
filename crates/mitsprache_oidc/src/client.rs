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

/// Whether a client must use PKCE. Required for every client unless an admin allows a
/// confidential client to use `nonce` instead (RFC 9700 §2.1.1), for relying parties such as
/// stock OmniAuth that send no code challenge. The weaker option; never for public clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pkce {
    #[default]
    Required,
    Optional,
}

impl Pkce {
    pub fn as_str(self) -> &'static str {
        match self {
            Pkce::Required => "required",
            Pkce::Optional => "optional",
        }
    }

    pub fn parse(s: &str) -> Option<Pkce> {
        [Pkce::Required, Pkce::Optional].into_iter().find(|p| p.as_str() == s)
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
    #[serde(default)]
    pub pkce: Pkce,
    /// Scopes beyond OpenID Connect's that this client may ask for (e.g. `catalogue:write`);
    /// a client_credentials token without `scope` gets all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Resource servers (RFC 8707 `resource`) a machine client may ask tokens for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// OIDC Registration §2 `initiate_login_uri`: where the hub sends a person to start a login
    /// at the tool (OIDC Core §4, with `iss`, `login_hint` and `target_link_uri`), so that
    /// "Mitmachen" in the portal arrives signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<String>,
    /// Where the tool takes the deletion of a person's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_receiver: Option<DeletionReceiver>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// How a tool learns that a person deleted their hub account: a RISC `account-purged` Security
/// Event Token pushed per RFC 8935 (SSF's `delivery` object, registered statically), or SCIM 2.0
/// `DELETE /Users/{id}` for tools that provision users by SCIM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum DeletionReceiver {
    Push {
        endpoint_url: String,
        /// Sent as the `Authorization` header with every event (SSF `authorization_header`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authorization_header: Option<String>,
    },
    Scim {
        /// The SCIM service's base URL; users are found by `externalId` (the pairwise subject).
        base_url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authorization_header: Option<String>,
    },
}

impl DeletionReceiver {
    pub fn method(&self) -> &'static str {
        match self {
            DeletionReceiver::Push { .. } => "push",
            DeletionReceiver::Scim { .. } => "scim",
        }
    }

    fn url(&self) -> &str {
        match self {
            DeletionReceiver::Push { endpoint_url, .. } => endpoint_url,
            DeletionReceiver::Scim { base_url, .. } => base_url,
        }
    }
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
    pub pkce: Pkce,
    pub scopes: Vec<String>,
    pub resources: Vec<String>,
    pub initiate_login_uri: Option<String>,
    pub deletion_receiver: Option<DeletionReceiver>,
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

/// RFC 7591 client metadata as a tool sends it to the registration endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    pub client_name: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub response_types: Vec<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub jwks: Option<Jwks>,
    pub subject_type: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub id_token_signed_response_alg: Option<String>,
    pub sector_identifier_uri: Option<String>,
    pub initiate_login_uri: Option<String>,
    /// RFC 8935 push delivery of deletion events (SSF `delivery.endpoint_url`).
    pub ssf_endpoint_url: Option<String>,
    pub ssf_authorization_header: Option<String>,
    /// SCIM 2.0 base URL for deletions, instead of push delivery.
    pub scim_base_url: Option<String>,
    pub scim_authorization_header: Option<String>,
}

impl Metadata {
    /// Reads a registration request body: a JSON object.
    pub fn parse(body: &[u8]) -> Result<Metadata, RegistrationError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(v) if v.is_object() => serde_json::from_value(v).map_err(|e| RegistrationError::Metadata(e.to_string())),
            _ => Err(RegistrationError::Metadata("the body must be a JSON object".into())),
        }
    }

    /// What a self-registering tool may ask for: never a role, an extra scope, public subjects
    /// or optional PKCE (those an admin grants).
    pub fn into_registration(self) -> Result<Registration, RegistrationError> {
        let meta = |m: String| RegistrationError::Metadata(m);
        if self.response_types.iter().any(|r| r != "code") {
            return Err(meta("only the response type code is supported".into()));
        }
        let grant_types = self
            .grant_types
            .iter()
            .map(|g| GrantType::parse(g).ok_or_else(|| meta(format!("grant type {g} is not supported"))))
            .collect::<Result<Vec<_>, _>>()?;
        let auth_method = match self.token_endpoint_auth_method.as_deref() {
            None => None,
            Some(m) => Some(AuthMethod::parse(m).ok_or_else(|| meta(format!("{m} is not supported")))?),
        };
        let subject_type = match self.subject_type.as_deref() {
            None | Some("pairwise") => SubjectType::Pairwise,
            // Public subjects let tools link people; only an admin may grant them.
            Some(_) => return Err(meta("only pairwise subjects can be registered".into())),
        };
        let id_token_alg = match self.id_token_signed_response_alg.as_deref() {
            None => None,
            Some(a) => Some(
                jose::Alg::parse(a)
                    .ok_or_else(|| meta("id_token_signed_response_alg must be ES256 or RS256".into()))?,
            ),
        };
        let deletion_receiver = deletion_receiver(
            self.ssf_endpoint_url,
            self.ssf_authorization_header,
            self.scim_base_url,
            self.scim_authorization_header,
        )?;
        Ok(Registration {
            name: self.client_name.unwrap_or_default(),
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            grant_types,
            auth_method,
            jwks: self.jwks,
            subject_type,
            sector_identifier_host: None,
            first_party: false,
            backchannel_logout_uri: self.backchannel_logout_uri,
            machine_role: None,
            id_token_alg,
            pkce: Pkce::Required,
            scopes: Vec::new(),
            resources: Vec::new(),
            initiate_login_uri: self.initiate_login_uri,
            deletion_receiver,
        })
    }
}

/// The deletion receiver from its registration fields: push or SCIM, not both; an
/// authorization header needs its endpoint.
pub fn deletion_receiver(
    ssf_endpoint_url: Option<String>,
    ssf_authorization_header: Option<String>,
    scim_base_url: Option<String>,
    scim_authorization_header: Option<String>,
) -> Result<Option<DeletionReceiver>, RegistrationError> {
    let meta = |m: &str| RegistrationError::Metadata(m.to_owned());
    match (ssf_endpoint_url, scim_base_url) {
        (Some(_), Some(_)) => Err(meta("register either ssf_endpoint_url or scim_base_url, not both")),
        (Some(endpoint_url), None) if scim_authorization_header.is_none() => {
            Ok(Some(DeletionReceiver::Push { endpoint_url, authorization_header: ssf_authorization_header }))
        }
        (None, Some(base_url)) if ssf_authorization_header.is_none() => {
            Ok(Some(DeletionReceiver::Scim { base_url, authorization_header: scim_authorization_header }))
        }
        (None, None) if ssf_authorization_header.is_none() && scim_authorization_header.is_none() => Ok(None),
        _ => Err(meta("an authorization header needs its endpoint (ssf_endpoint_url or scim_base_url)")),
    }
}

/// A client's registered metadata in RFC 7591 names, as the registration endpoints answer.
pub fn metadata_of(client: &Client, registration_client_uri: &str) -> Value {
    serde_json::json!({
        "client_id": client.id,
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "grant_types": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "response_types": ["code"],
        "token_endpoint_auth_method": client.auth_method.as_str(),
        "subject_type": match client.subject_type { SubjectType::Pairwise => "pairwise", SubjectType::Public => "public" },
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "backchannel_logout_session_required": client.backchannel_logout_uri.is_some(),
        "id_token_signed_response_alg": client.id_token_alg.as_str(),
        "initiate_login_uri": client.initiate_login_uri,
        // The endpoint only: the authorization header is a secret the tool already knows.
        "ssf_endpoint_url": match &client.deletion_receiver { Some(DeletionReceiver::Push { endpoint_url, .. }) => Some(endpoint_url), _ => None },
        "scim_base_url": match &client.deletion_receiver { Some(DeletionReceiver::Scim { base_url, .. }) => Some(base_url), _ => None },
        "registration_client_uri": registration_client_uri,
    })
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

/// Checks a resource indicator (RFC 8707 §2): an absolute URI without a fragment that names a
/// service, so https, a URN, or http on a loopback host (never `javascript:` or `data:`).
pub fn check_resource(uri: &str) -> Result<Url, String> {
    let url = Url::parse(uri).map_err(|_| format!("resource {uri} must be an absolute URI"))?;
    if url.fragment().is_some() {
        return Err(format!("resource {uri} must not have a fragment"));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" | "urn" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(format!("resource {uri} must be an https URL or a URN")),
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
        if let Some(uri) = &self.initiate_login_uri {
            // OIDC Registration §2: https only; loopback stays allowed for local tools and tests.
            check_redirect_uri(uri).map_err(|e| RegistrationError::Metadata(format!("initiate_login_uri {e}")))?;
        }
        if let Some(r) = &self.deletion_receiver {
            check_redirect_uri(r.url()).map_err(|e| RegistrationError::Metadata(format!("deletion receiver {e}")))?;
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
        if self.pkce == Pkce::Optional && auth_method == AuthMethod::None {
            // Without a secret, PKCE is the only proof that the code's redeemer asked for it.
            return Err(RegistrationError::Metadata("a public client must use PKCE".into()));
        }
        let mut scopes = Vec::new();
        for s in &self.scopes {
            if !crate::EXTRA_SCOPES.contains(&s.as_str()) {
                return Err(RegistrationError::Metadata(format!("unknown scope {s}")));
            }
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        for r in &self.resources {
            check_resource(r).map_err(RegistrationError::Metadata)?;
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
            pkce: self.pkce,
            scopes,
            resources: self.resources,
            initiate_login_uri: self.initiate_login_uri,
            deletion_receiver: self.deletion_receiver,
            created_at: now,
        }
        .with_role_scopes();
        Ok((client, uses_secret.then_some(secret)))
    }
}

impl Client {
    /// Adds the scopes the machine role implies: the role is what the hub checks, the scope is
    /// what a token must carry to use it. Applied at registration and to every stored client,
    /// so a machine editor registered before scopes existed keeps its right.
    pub fn with_role_scopes(mut self) -> Client {
        if self.machine_role.is_some_and(mitsprache_domain::Role::can_edit_catalogue)
            && !self.scopes.iter().any(|s| s == crate::CATALOGUE_WRITE)
        {
            self.scopes.push(crate::CATALOGUE_WRITE.to_owned());
        }
        self
    }

    /// Exact string comparison (RFC 9700 §4.1.3). Public clients (native apps) may vary the
    /// port of a loopback IP redirect URI, which they pick at run time (RFC 8252 §7.3); the rest
    /// of the URI must be spelled exactly as registered, so `127.1` or `HTTP://` never match.
    pub fn redirect_uri_allowed(&self, uri: &str) -> bool {
        if self.redirect_uris.iter().any(|r| r == uri) {
            return true;
        }
        self.is_public() && self.redirect_uris.iter().any(|r| same_but_loopback_port(r, uri))
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }
}

/// `http://127.0.0.1:PORT/rest` (or `[::1]`) against a registered one that differs at most in its
/// port, compared as text.
fn same_but_loopback_port(registered: &str, asked: &str) -> bool {
    let split = |uri: &str| -> Option<(&'static str, Option<u16>, String)> {
        for host in ["http://127.0.0.1", "http://[::1]"] {
            if let Some(rest) = uri.strip_prefix(host) {
                let (port, rest) = match rest.strip_prefix(':') {
                    Some(after) => {
                        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                        let text = &after[..digits];
                        // One spelling per port: no leading zeros, no empty port.
                        if digits == 0 || (text.len() > 1 && text.starts_with('0')) {
                            return None;
                        }
                        (Some(text.parse().ok()?), &after[digits..])
                    }
                    None => (None, rest),
                };
                if !(rest.is_empty() || rest.starts_with('/')) {
                    return None;
                }
                return Some((host, port, rest.to_owned()));
            }
        }
        None
    };
    match (split(registered), split(asked)) {
        (Some((h1, _, r1)), Some((h2, Some(_), r2))) => h1 == h2 && r1 == r2,
        _ => false,
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
    /// The credentials of a request: its `Authorization` header value and its parameters.
    /// Malformed Basic credentials fail at once (as Basic, for the `WWW-Authenticate` answer).
    pub fn read(authorization: Option<&str>, params: &crate::params::Params) -> Result<Presented, ClientAuthError> {
        use base64::Engine;
        let basic = match authorization {
            Some(v) if v.len() > 6 && v.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("basic ")) => {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(v[6..].trim())
                    .map_err(|_| ClientAuthError::Failed)?;
                let text = String::from_utf8(decoded).map_err(|_| ClientAuthError::Failed)?;
                let (id, secret) = text.split_once(':').ok_or(ClientAuthError::Failed)?;
                // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
                let decode = |s: &str| {
                    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned())
                };
                Some((decode(id).unwrap_or_default(), decode(secret).unwrap_or_default()))
            }
            _ => None,
        };
        Ok(Presented {
            basic,
            post_id: params.get("client_id").map(str::to_owned),
            post_secret: params.get("client_secret").map(str::to_owned),
            assertion_type: params.get("client_assertion_type").map(str::to_owned),
            assertion: params.get("client_assertion").map(str::to_owned),
        })
    }

    /// Whether the request tried HTTP Basic (its failure then answers `WWW-Authenticate: Basic`).
    pub fn tried_basic(authorization: Option<&str>) -> bool {
        authorization.is_some_and(|v| v.len() > 6 && v.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("basic ")))
    }

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
    fn redirect_uris_match_exactly_except_loopback_ports_of_native_apps() {
        let mut r = registration();
        r.redirect_uris.push("http://127.0.0.1/callback".into());
        r.sector_identifier_host = Some("decidim.example".into());
        let (web, _) = r.clone().into_client("c".into(), "s".into(), now()).unwrap();
        assert!(web.redirect_uri_allowed("https://decidim.example/users/auth/openid_connect/callback"));
        assert!(!web.redirect_uri_allowed("https://decidim.example/users/auth/openid_connect/callback/"));
        assert!(!web.redirect_uri_allowed("https://decidim.example/users/auth/openid_connect/callback?x=1"));
        assert!(!web.redirect_uri_allowed("https://DECIDIM.example.evil/users/auth/openid_connect/callback"));
        assert!(!web.redirect_uri_allowed("http://127.0.0.1:53117/callback"), "a web client's port is fixed");
        r.auth_method = Some(AuthMethod::None);
        let (native, _) = r.into_client("n".into(), "s".into(), now()).unwrap();
        assert!(native.redirect_uri_allowed("http://127.0.0.1:53117/callback"));
        assert!(native.redirect_uri_allowed("http://127.0.0.1/callback"));
        for other in [
            "http://127.0.0.1:53117/other",
            "http://127.1:53117/callback",
            "http://0x7f000001:53117/callback",
            "HTTP://127.0.0.1:53117/callback",
            "http://127.0.0.1:053117/callback",
            "http://127.0.0.1.:53117/callback",
            "http://127.0.0.1:/callback",
            "http://127.0.0.1:99999/callback",
            "http://127.0.0.1:80@evil.example/callback",
        ] {
            assert!(!native.redirect_uri_allowed(other), "{other}");
        }
    }

    #[test]
    fn pkce_may_be_optional_only_for_confidential_clients() {
        let mut r = registration();
        r.pkce = Pkce::Optional;
        assert!(r.clone().into_client("c".into(), "s".into(), now()).is_ok());
        r.auth_method = Some(AuthMethod::None);
        assert!(r.into_client("c".into(), "s".into(), now()).is_err());
    }

    #[test]
    fn an_editor_machine_may_ask_for_the_catalogue_scope_and_only_known_scopes_register() {
        let machine = Registration {
            name: "Katalogpflege".into(),
            grant_types: vec![GrantType::ClientCredentials],
            machine_role: Some(mitsprache_domain::Role::Editor),
            ..Registration::default()
        };
        let (client, _) = machine.clone().into_client("m".into(), "s".into(), now()).unwrap();
        assert_eq!(client.scopes, vec![crate::CATALOGUE_WRITE.to_owned()]);
        let odd = Registration { scopes: vec!["admin".into()], ..machine.clone() };
        assert!(odd.into_client("m".into(), "s".into(), now()).is_err());
        let bad_resource = Registration { resources: vec!["javascript:alert(1)".into()], ..machine.clone() };
        assert!(bad_resource.into_client("m".into(), "s".into(), now()).is_err());
        let urn = Registration { resources: vec!["urn:bench:api".into(), "https://api.example/v1".into()], ..machine };
        assert!(urn.into_client("m".into(), "s".into(), now()).is_ok(), "URNs and https URLs name services");
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
