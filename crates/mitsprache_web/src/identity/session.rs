//! Browser sessions and CSRF protection.
//!
//! The session cookie holds a 256-bit random value; the store keeps only its digest. Cookies are
//! `HttpOnly`, `SameSite=Lax`, and `Secure` with the `__Host-` prefix when the hub is served over
//! TLS. Every form carries a CSRF token that must equal the value of the CSRF cookie (double
//! submit); a POST whose `Origin` names another site is refused as well.

use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use mitsprache_oidc::random::{constant_time_eq, digest, secret};
use mitsprache_store::{Account, Session, StoreError};

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-mitsprache_session" } else { "mitsprache_session" }
}

pub fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-mitsprache_csrf" } else { "mitsprache_csrf" }
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(response: &mut Response, name: &str, value: &str, max_age: i64, secure: bool) {
    let cookie = format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The signed-in person of a request, if any.
#[derive(Debug, Clone)]
pub struct Current {
    pub session: Session,
    pub account: Account,
    /// The digest of the cookie value, to end this very session.
    pub digest: String,
}

pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<Current>, StoreError> {
    let Some(value) = cookie(headers, session_cookie_name(state.config().secure_cookies)) else { return Ok(None) };
    let d = digest(&value);
    let now = state.clock().now().unix_timestamp();
    Ok(state.store().identity().session(&d, now).await?.map(|(session, account)| Current {
        session,
        account,
        digest: d,
    }))
}

/// Starts a session for `account` and sets its cookie on `response`.
pub async fn start(
    state: &AppState,
    account_id: &str,
    amr: &str,
    headers: &HeaderMap,
    response: &mut Response,
) -> Result<Session, StoreError> {
    let now = state.clock().now().unix_timestamp();
    let lifetime = state.identity().config.lifetimes.session;
    let value = secret(state.random());
    let session = Session {
        sid: mitsprache_oidc::random::id(state.random()),
        account_id: account_id.to_owned(),
        auth_time: now,
        amr: amr.to_owned(),
        created_at: now,
        expires_at: now + lifetime,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect()),
    };
    state.store().identity().create_session(&digest(&value), &session).await?;
    let secure = state.config().secure_cookies;
    set_cookie(response, session_cookie_name(secure), &value, lifetime, secure);
    Ok(session)
}

pub fn clear(state: &AppState, response: &mut Response) {
    let secure = state.config().secure_cookies;
    set_cookie(response, session_cookie_name(secure), "", 0, secure);
}

/// The CSRF token of a form page: the cookie's, or a new one that [`Csrf::apply`] sets.
pub struct Csrf {
    pub token: String,
    new: bool,
}

impl Csrf {
    pub fn for_page(state: &AppState, headers: &HeaderMap) -> Csrf {
        match cookie(headers, csrf_cookie_name(state.config().secure_cookies)).filter(|t| t.len() == 43) {
            Some(token) => Csrf { token, new: false },
            None => Csrf { token: secret(state.random()), new: true },
        }
    }

    pub fn apply(&self, state: &AppState, response: &mut Response) {
        if self.new {
            let secure = state.config().secure_cookies;
            // A year: the token protects forms, it is no credential.
            set_cookie(response, csrf_cookie_name(secure), &self.token, 31_536_000, secure);
        }
    }
}

/// Whether a form submission carries the CSRF token of its browser and comes from this site.
pub fn csrf_ok(state: &AppState, headers: &HeaderMap, submitted: &str) -> bool {
    // Same origin: the Origin names this host (as the browser reached it, like Django's check)
    // or the configured public URL (behind a proxy that rewrites Host).
    let origin_ok = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None | Some("null") => true,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
            let origin_host = origin.split_once("://").map_or("", |(_, h)| h);
            (!host.is_empty() && origin_host == host)
                || crate::identity::oidc::authorize::origin_of(&state.identity().config.issuer) == origin
        }
    };
    let cookie = cookie(headers, csrf_cookie_name(state.config().secure_cookies));
    origin_ok && cookie.is_some_and(|c| !submitted.is_empty() && constant_time_eq(&c, submitted))
}

/// The client's address, for per-IP rate limits: the TCP peer, or, behind a reverse proxy the
/// operator named in `identity.client_ip_header`, the last address that proxy appended to the
/// header. Earlier entries came from the client and are never trusted (RFC 9700 §4.13).
pub struct ClientIp(pub String);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        let forwarded = state.identity().config.client_ip_header.as_deref().and_then(|name| {
            let last = parts.headers.get_all(name).iter().rev().find_map(|v| v.to_str().ok())?;
            let ip = last.rsplit(',').next()?.trim();
            ip.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
        });
        Ok(ClientIp(forwarded.unwrap_or(peer)))
    }
}
