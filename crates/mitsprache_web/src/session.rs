//! Browser sessions and CSRF protection, and the extractors handlers declare instead of checking
//! by hand: [`SignedIn`], [`Admin`], [`CsrfForm`], [`ClientIp`].
//!
//! The session cookie holds a 256-bit random value; the store keeps only its digest. Cookies are
//! `HttpOnly`, `SameSite=Lax`, and `Secure` with the `__Host-` prefix when the hub is served over
//! TLS. Every form carries a CSRF token that must equal the value of the CSRF cookie (double
//! submit); a POST whose `Origin` names another origin is refused as well.

use crate::error::WebError;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use mitsprache_domain::Role;
use mitsprache_hub::{Current, Error, Forbidden};
use mitsprache_oidc::random::{constant_time_eq, secret};

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

/// Sets the cookie of a session the hub just started.
pub fn set_session(state: &AppState, response: &mut Response, started: &mitsprache_hub::sessions::Started) {
    let secure = state.config().secure_cookies;
    let max_age = state.hub().session_lifetime().whole_seconds();
    set_cookie(response, session_cookie_name(secure), &started.cookie, max_age, secure);
}

pub fn clear(state: &AppState, response: &mut Response) {
    let secure = state.config().secure_cookies;
    set_cookie(response, session_cookie_name(secure), "", 0, secure);
}

/// The signed-in person of a request, if any (looked up once per request).
#[derive(Debug, Clone)]
pub struct MaybeSignedIn(pub Option<Current>);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(known) = parts.extensions.get::<MaybeSignedIn>() {
            return Ok(known.clone());
        }
        let current = match cookie(&parts.headers, session_cookie_name(state.config().secure_cookies)) {
            Some(value) => state.hub().current_session(&value).await?,
            None => None,
        };
        let found = MaybeSignedIn(current);
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

/// A signed-in person; without one, pages send the browser to the login.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Current);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match MaybeSignedIn::from_request_parts(parts, state).await?.0 {
            Some(current) => Ok(SignedIn(current)),
            None => Err(WebError(Error::Unauthenticated)),
        }
    }
}

/// A signed-in admin.
#[derive(Debug, Clone)]
pub struct Admin(pub Current);

impl FromRequestParts<AppState> for Admin {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let SignedIn(current) = SignedIn::from_request_parts(parts, state).await?;
        if current.account.role == Role::Admin {
            Ok(Admin(current))
        } else {
            Err(WebError(Error::Forbidden(Forbidden::NotAdmin)))
        }
    }
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
            None => Csrf { token: secret(state.hub().random()), new: true },
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
fn csrf_ok(state: &AppState, headers: &HeaderMap, submitted: &str) -> bool {
    // Same origin: the Origin names this host as the browser reached it (like Django's check),
    // with the scheme the hub is served with, or the configured public URL (behind a proxy that
    // rewrites Host). Browsers send `Origin: null` for a form on a page with `Referrer-Policy:
    // no-referrer` (the password reset page has it, Fetch §3.2.6), so null tells nothing and the
    // token alone decides.
    let public = crate::oidc::origin_of(&state.hub().config().issuer);
    let origin_ok = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None | Some("null") => true,
        Some(origin) => {
            let scheme = if state.config().secure_cookies { "https" } else { "http" };
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
            (!host.is_empty() && origin == format!("{scheme}://{host}")) || origin == public
        }
    };
    let cookie = cookie(headers, csrf_cookie_name(state.config().secure_cookies));
    origin_ok && cookie.is_some_and(|c| !submitted.is_empty() && constant_time_eq(&c, submitted))
}

/// A form body whose CSRF token (field `csrf`) matches this browser's and whose origin is this
/// site, deserialised into `T`. Refused with 403 before anything in it is looked at.
pub struct CsrfForm<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let body = axum::body::Bytes::from_request(request, state).await.map_err(|e| {
            WebError(if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge
            } else {
                Error::Malformed(e.body_text())
            })
        })?;
        let submitted = form_urlencoded::parse(&body).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
        if !csrf_ok(state, &headers, submitted.as_deref().unwrap_or("")) {
            return Err(WebError(Error::Csrf));
        }
        serde_urlencoded::from_bytes(&body).map(CsrfForm).map_err(|e| WebError(Error::Malformed(e.to_string())))
    }
}

/// The client's address, for per-IP rate limits: the TCP peer, or, behind a reverse proxy the
/// operator named in `identity.client_ip_header`, the last address that proxy appended to the
/// header. Earlier entries came from the client and are never trusted (RFC 9700 §4.13).
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        let forwarded = state.config().client_ip_header.as_deref().and_then(|name| {
            let last = parts.headers.get_all(name).iter().rev().find_map(|v| v.to_str().ok())?;
            let ip = last.rsplit(',').next()?.trim();
            ip.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
        });
        Ok(ClientIp(forwarded.unwrap_or(peer)))
    }
}
