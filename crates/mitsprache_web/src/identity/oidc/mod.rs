//! The OpenID Connect endpoints. Protocol errors of the back channel are OAuth JSON
//! (`{"error": …}`, RFC 6749 §5.2) rather than problem+json, because every OAuth client library
//! expects that shape; front-channel errors are pages or redirects (see `authorize`).

pub mod authorize;
pub mod logout;
pub mod register;
pub mod resource;
pub mod token;

use crate::state::AppState;
use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mitsprache_oidc::client::{Client, Presented};
use mitsprache_oidc::discovery::{self, paths};
use mitsprache_oidc::jose::Alg;
use mitsprache_store::{Account, Grant, StoreError};
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}: {1}")]
    Protocol(&'static str, String),
    /// 401 with `WWW-Authenticate: Basic` when the client tried Basic (RFC 6749 §5.2).
    #[error("invalid_client")]
    InvalidClient { basic: bool },
    #[error("invalid_token")]
    InvalidToken,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

pub fn invalid_request(description: impl Into<String>) -> OAuthError {
    OAuthError::Protocol("invalid_request", description.into())
}

pub fn invalid_grant(description: impl Into<String>) -> OAuthError {
    OAuthError::Protocol("invalid_grant", description.into())
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let (status, error, description) = match &self {
            OAuthError::Protocol(code, d) => (StatusCode::BAD_REQUEST, *code, d.clone()),
            OAuthError::InvalidClient { .. } => {
                (StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed".to_owned())
            }
            OAuthError::InvalidToken => {
                let mut r = (StatusCode::UNAUTHORIZED, "").into_response();
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer error="invalid_token""#));
                return r;
            }
            OAuthError::Store(e) => {
                tracing::error!(error = %e, "OpenID endpoint: store failed");
                (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "try again later".to_owned())
            }
            OAuthError::Unavailable(e) => {
                tracing::error!(error = %e, "OpenID endpoint: store failed");
                (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "try again later".to_owned())
            }
            OAuthError::Internal(e) => {
                tracing::error!(error = %e, "OpenID endpoint failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error".to_owned())
            }
        };
        let mut r = (status, Json(json!({ "error": error, "error_description": description }))).into_response();
        no_store(r.headers_mut());
        if let OAuthError::InvalidClient { basic: true } = self {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="mitsprache""#));
        }
        r
    }
}

/// Token responses must not be cached (RFC 6749 §5.1).
pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Form parameters, each at most once (RFC 6749 §3.2).
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(body: &[u8]) -> Result<Params, OAuthError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        for (i, (k, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(p, _)| p == k) {
                return Err(invalid_request(format!("{k} is repeated")));
            }
        }
        Ok(Params(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| invalid_request(format!("{name} is required")))
    }
}

/// The token of an `Authorization: Bearer` header (RFC 6750 §2.1).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    (v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ")).then(|| v[7..].trim())
}

/// The claims of an `id_token_hint`: an ID token this provider signed, expired or not (OIDC
/// Core §3.1.2.1, RP-Initiated Logout §2).
pub fn hint_claims(state: &AppState, hint: &str) -> Option<Value> {
    let keys = state.identity().keys();
    let claims = mitsprache_oidc::jose::verify(hint, &keys.published).ok()?.claims;
    (claims.get("iss").and_then(Value::as_str) == Some(state.identity().config.issuer.as_str())).then_some(claims)
}

/// Reads the client credentials of a back-channel request.
pub fn presented(headers: &HeaderMap, params: &Params) -> Result<Presented, OAuthError> {
    let basic = match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(v) if v.len() > 6 && v[..6].eq_ignore_ascii_case("basic ") => {
            let decoded = STANDARD.decode(v[6..].trim()).map_err(|_| OAuthError::InvalidClient { basic: true })?;
            let text = String::from_utf8(decoded).map_err(|_| OAuthError::InvalidClient { basic: true })?;
            let (id, secret) = text.split_once(':').ok_or(OAuthError::InvalidClient { basic: true })?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
            let decode =
                |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
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

/// A registered client, from this instance's short-lived cache or the store. Unknown ids are
/// not cached, so a client registered elsewhere works at once.
pub async fn client(state: &AppState, id: &str) -> Result<Option<Arc<Client>>, StoreError> {
    if let Some(c) = state.identity().cached_client(id) {
        return Ok(Some(c));
    }
    let Some(c) = state.store().identity().client(id).await? else { return Ok(None) };
    let c = Arc::new(c);
    state.identity().cache_client(c.clone());
    Ok(Some(c))
}

/// Identifies and authenticates the calling client; every failure is the same `invalid_client`.
pub async fn authenticate(state: &AppState, headers: &HeaderMap, params: &Params) -> Result<Arc<Client>, OAuthError> {
    let presented = presented(headers, params)?;
    let basic = presented.basic.is_some();
    let fail = OAuthError::InvalidClient { basic };
    let client_id = presented.client_id().map_err(|_| OAuthError::InvalidClient { basic })?;
    let Some(client) = client(state, &client_id).await? else { return Err(fail) };
    let issuer = &state.identity().config.issuer;
    let token_endpoint = format!("{issuer}{}", paths::TOKEN);
    let now = state.clock().now();
    let assertion = presented
        .authenticate(&client, &[issuer, &token_endpoint], now)
        .map_err(|_| OAuthError::InvalidClient { basic })?;
    if let Some((jti, exp)) = assertion {
        // A client assertion is single use (RFC 7523 §3 item 7, our choice to enforce).
        if !state.store().identity().use_assertion(&format!("{}:{jti}", client.id), exp).await? {
            return Err(OAuthError::InvalidClient { basic });
        }
    }
    Ok(client)
}

/// The discovery document.
pub async fn discovery(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let mut r = Json(discovery::metadata(&state.identity().config.issuer)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

pub async fn jwks(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let keys = state.identity().keys();
    let mut r = Json(json!({ "keys": keys.published })).into_response();
    // Short, so a rotation reaches relying parties within minutes.
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

/// Signs `claims` with the default key (ES256).
pub fn sign(state: &AppState, typ: &str, claims: &impl serde::Serialize) -> Result<String, OAuthError> {
    sign_with(state, Alg::ES256, typ, claims)
}

pub fn sign_with(state: &AppState, alg: Alg, typ: &str, claims: &impl serde::Serialize) -> Result<String, OAuthError> {
    let keys = state.identity().keys();
    let key = keys.signer(alg).ok_or_else(|| OAuthError::Internal(format!("no active {} key", alg.as_str())))?;
    key.sign(typ, claims).map_err(|e| OAuthError::Internal(e.to_string()))
}

/// The `sub` a client sees for an account.
pub fn subject_for(state: &AppState, client: &Client, account_id: &str) -> String {
    mitsprache_oidc::subject::subject(
        state.identity().pairwise_secret(),
        client.subject_type,
        &client.sector,
        account_id,
    )
}

/// The account facts the claims are built from.
pub fn person(account: &Account) -> mitsprache_oidc::claims::Person {
    mitsprache_oidc::claims::Person {
        email: account.email.clone(),
        email_verified: account.email_verified,
        name: account.name.clone(),
        locale: account.locale.clone(),
        updated_at: account.updated_at,
    }
}

pub fn scope_list(scope: &str) -> Vec<String> {
    scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// A verified, unexpired, unrevoked access token of this hub.
pub async fn check_access_token(
    state: &AppState,
    token: &str,
) -> Result<(mitsprache_oidc::claims::AccessToken, Option<Grant>), OAuthError> {
    let keys = state.identity().keys();
    let verified = mitsprache_oidc::jose::verify(token, &keys.published).map_err(|_| OAuthError::InvalidToken)?;
    if verified.header.get("typ").and_then(Value::as_str) != Some("at+jwt") {
        return Err(OAuthError::InvalidToken);
    }
    let at = mitsprache_oidc::claims::AccessToken::from_claims(&verified.claims).ok_or(OAuthError::InvalidToken)?;
    let now = state.clock().now().unix_timestamp();
    if at.iss != state.identity().config.issuer || at.exp <= now {
        return Err(OAuthError::InvalidToken);
    }
    if state.store().identity().token_revoked(&at.jti, at.gid.as_deref()).await? {
        return Err(OAuthError::InvalidToken);
    }
    let grant = match &at.gid {
        Some(gid) => Some(state.store().identity().grant(gid).await?.ok_or(OAuthError::InvalidToken)?),
        None => None,
    };
    Ok((at, grant))
}

/// Fixes the output type of a handler's body, so `?` inside knows its error type.
pub fn typed<F: std::future::Future<Output = Result<Response, OAuthError>>>(f: F) -> F {
    f
}
