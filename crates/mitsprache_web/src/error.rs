//! The one place where errors become HTTP responses: one taxonomy (`mitsprache_hub::Error`),
//! three renderers, chosen by the route group a request came through, never by the handler.
//!
//! - **Pages** answer a localised HTML page (and send an unauthenticated person to the login).
//! - **The API** answers problem+json (RFC 9457) with a stable `code` clients rely on.
//! - **The OAuth endpoints** answer RFC 6749 JSON (`{"error": …}`), which OAuth libraries expect.
//!
//! Handlers return `Result<_, WebError>`; a `WebError` leaves the handler as a placeholder
//! response carrying the error, and the route group's middleware ([`render_pages`],
//! [`render_api`], [`render_oauth`]) turns it into the group's format. The same middleware
//! catches the answers axum produces on its own (a form or query that does not deserialize, a
//! body over the limit, a method the route lacks), which are plain text otherwise. A 500 says
//! nothing about its cause to the client and is logged here, once, with the cause chain.

use crate::render::{Ctx, ErrorPage, Lang, PAGE_CSP, Rendered, render};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_catalogue::ValidationError;
use mitsprache_hub::{Error, Forbidden};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// The error of a handler, rendered by its route group.
#[derive(Debug)]
pub struct WebError(pub Error);

impl<E: Into<Error>> From<E> for WebError {
    fn from(e: E) -> Self {
        WebError(e.into())
    }
}

/// The error a placeholder response carries to its renderer.
#[derive(Clone)]
struct Carried(Arc<Error>);

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        response.extensions_mut().insert(Carried(Arc::new(self.0)));
        response
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable code, e.g. `not-found`, `invalid-parameter`.
    pub code: String,
    /// Field-level errors of a rejected record.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ValidationError>,
}

/// The status and stable code of an error, the same in every format.
fn status_and_code(error: &Error) -> (StatusCode, &'static str) {
    match error {
        Error::NotFound => (StatusCode::NOT_FOUND, "not-found"),
        Error::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid-parameter"),
        Error::Malformed(_) => (StatusCode::BAD_REQUEST, "invalid-body"),
        Error::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
        Error::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation-failed"),
        Error::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large"),
        Error::UriTooLong => (StatusCode::URI_TOO_LONG, "uri-too-long"),
        Error::HeadersTooLarge => (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers-too-large"),
        Error::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
        Error::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
        Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        Error::Unauthenticated | Error::InvalidToken | Error::InvalidClient { .. } => {
            (StatusCode::UNAUTHORIZED, "unauthorized")
        }
        Error::Forbidden(_) | Error::Csrf => (StatusCode::FORBIDDEN, "forbidden"),
        Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "too-many-requests"),
        Error::Protocol(p) => {
            (StatusCode::from_u16(p.status()).unwrap_or(StatusCode::BAD_REQUEST), "invalid-parameter")
        }
        Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

/// The error behind an answer axum (or hyper) produced on its own, by its status.
pub(crate) fn from_status(status: StatusCode, text: String) -> Error {
    match status {
        StatusCode::NOT_FOUND => Error::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Error::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge,
        StatusCode::URI_TOO_LONG => Error::UriTooLong,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Error::HeadersTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => Error::Unauthenticated,
        // The request timeout's answer: the hub was too slow, which a retry may fix.
        StatusCode::SERVICE_UNAVAILABLE => Error::Unavailable("the request took too long".into()),
        s if s.is_server_error() => Error::Internal(text),
        _ => Error::Malformed(if text.is_empty() {
            status.canonical_reason().unwrap_or("bad request").into()
        } else {
            text
        }),
    }
}

/// Logs a server-side failure once, with its cause chain.
fn log(error: &Error) {
    if error.is_server_error() {
        let mut chain = String::new();
        let mut source = std::error::Error::source(error);
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(code = status_and_code(error).1, "{error}{chain}");
    }
}

/// The error a response stands for, if its group must render it: a handler's `WebError`, or
/// an error status axum produced without rendering.
async fn pending_error(response: Response) -> Result<Arc<Error>, Response> {
    if let Some(Carried(e)) = response.extensions().get::<Carried>().cloned() {
        return Ok(e);
    }
    let status = response.status();
    if status.as_u16() < 400 || response.extensions().get::<Rendered>().is_some() {
        return Err(response);
    }
    let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
    Ok(Arc::new(from_status(status, String::from_utf8_lossy(&body).trim().to_owned())))
}

fn retry_after(response: &mut Response, error: &Error) {
    if let Error::RateLimited { retry_after } = error
        && let Ok(v) = HeaderValue::from_str(&retry_after.whole_seconds().max(1).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

// ---- problem+json -----------------------------------------------------------------------

pub fn problem(error: &Error) -> Response {
    log(error);
    let (status, code) = status_and_code(error);
    let detail = match error {
        // Opaque: the cause is in the log, not in the response.
        e if e.is_server_error() => None,
        Error::Protocol(p) => Some(p.description.clone()),
        e => Some(e.to_string()),
    };
    let body = Problem {
        kind: format!("/problems/{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        errors: match error {
            Error::Validation(e) => e.clone(),
            _ => Vec::new(),
        },
    };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    let challenge = match error {
        Error::Unauthenticated => Some(r#"Bearer realm="mitsprache""#),
        Error::InvalidToken | Error::InvalidClient { .. } => {
            Some(r#"Bearer realm="mitsprache", error="invalid_token""#)
        }
        Error::Forbidden(Forbidden::MissingScope) => {
            Some(r#"Bearer realm="mitsprache", error="insufficient_scope", scope="catalogue:write""#)
        }
        Error::Forbidden(Forbidden::MissingDataScope) => {
            Some(r#"Bearer realm="mitsprache", error="insufficient_scope", scope="data:write""#)
        }
        _ => None,
    };
    if let Some(c) = challenge {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
    }
    retry_after(&mut response, error);
    response
}

/// Renders the API group's errors as problem+json.
pub async fn render_api(request: Request, next: Next) -> Response {
    match pending_error(next.run(request).await).await {
        Ok(error) => problem(&error),
        Err(response) => response,
    }
}

// ---- RFC 6749 JSON ----------------------------------------------------------------------

/// Token responses and their errors must not be cached (RFC 6749 §5.1).
pub fn no_store(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

pub fn oauth(error: &Error) -> Response {
    log(error);
    let (status, code, description): (StatusCode, &str, String) = match error {
        Error::Protocol(p) => {
            (StatusCode::from_u16(p.status()).unwrap_or(StatusCode::BAD_REQUEST), p.code, p.description.clone())
        }
        Error::InvalidClient { .. } => {
            (StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed".into())
        }
        Error::InvalidToken | Error::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is missing, invalid, expired or revoked".into(),
        ),
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, "access_denied", error.to_string()),
        Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "try again later".into()),
        Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error".into()),
        Error::Validation(e) => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            e.iter().map(|v| format!("{}: {}", v.field, v.message)).collect::<Vec<_>>().join("; "),
        ),
        e => (status_and_code(e).0, "invalid_request", e.to_string()),
    };
    let mut response =
        (status, Json(serde_json::json!({ "error": code, "error_description": description }))).into_response();
    no_store(response.headers_mut());
    let challenge = match error {
        Error::InvalidClient { basic: true } => Some(r#"Basic realm="mitsprache""#),
        Error::InvalidToken | Error::Unauthenticated => Some(r#"Bearer error="invalid_token""#),
        _ => None,
    };
    if let Some(c) = challenge {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
    }
    retry_after(&mut response, error);
    response
}

/// Renders the OAuth endpoints' errors as RFC 6749 JSON.
pub async fn render_oauth(request: Request, next: Next) -> Response {
    match pending_error(next.run(request).await).await {
        Ok(error) => oauth(&error),
        Err(response) => response,
    }
}

// ---- localised pages --------------------------------------------------------------------

/// The page for an error, in the person's language, at the path it happened on.
pub fn page(error: &Error, lang: &Lang, path: &str, raw_query: Option<&str>) -> Response {
    log(error);
    let (status, _) = status_and_code(error);
    let ctx = Ctx::new(lang, path, raw_query);
    let (title, detail): (String, Option<String>) = match error {
        // The people-facing texts of what a person can run into on the hub's own pages.
        Error::Forbidden(Forbidden::NotAdmin) => {
            ("admin.forbidden-title".into(), Some(ctx.t.get("admin.forbidden").to_owned()))
        }
        Error::Forbidden(Forbidden::Unverified) => {
            ("error.forbidden".into(), Some(ctx.t.get("login.unverified").to_owned()))
        }
        Error::Csrf => ("error.csrf".into(), Some(ctx.t.get("form.csrf").to_owned())),
        Error::RateLimited { retry_after } => {
            let minutes = (retry_after.whole_seconds() + 59) / 60;
            ("error.too-many-requests".into(), Some(ctx.t.fmt("login.rate-limited", &[("minutes", &minutes.max(1))])))
        }
        // In the page's language: the field by the name the form gives it, not the API's English.
        Error::Invalid { field, .. } => (
            "error.invalid-parameter".into(),
            Some(ctx.t.fmt("error.invalid-field", &[("field", &field_label(ctx.t, field))])),
        ),
        Error::Validation(errors) => {
            let mut fields: Vec<String> = errors.iter().map(|e| field_label(ctx.t, &e.field)).collect();
            fields.dedup();
            let title =
                if errors.iter().all(|e| e.record == "profile") { "error.profile" } else { "error.validation-failed" };
            (title.into(), Some(ctx.t.fmt("error.invalid-fields", &[("fields", &fields.join(", "))])))
        }
        Error::Protocol(p) => ("error.invalid-parameter".into(), Some(p.description.clone())),
        e => (format!("error.{}", status_and_code(e).1), None),
    };
    let title: String = ctx.t.get(&title).to_owned();
    let status_text = ctx.t.fmt("error.status", &[("status", &status.as_u16())]);
    let mut response = render(&ErrorPage { status_text, title, detail, ctx }, lang, status);
    response.headers_mut().entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(PAGE_CSP));
    retry_after(&mut response, error);
    response
}

/// A parameter or field as people know it from the form ("Werkzeuge" for `tools`, "Funktion"
/// for `must[0].key`); an unknown one in quotes as it is.
fn field_label(t: &mitsprache_i18n::Messages, field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    let key = format!("param.{base}");
    match (t.has(&key), t.locale()) {
        (true, _) => t.get(&key).to_owned(),
        (false, mitsprache_domain::Locale::De) => format!("„{field}“"),
        (false, mitsprache_domain::Locale::En) => format!("\"{field}\""),
    }
}

/// Renders the page groups' errors as localised pages; an unauthenticated person is sent to
/// the login instead.
pub async fn render_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let lang = Lang::of(&parts, state.config().secure_cookies, state.hub().config().operator.clone());
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    match pending_error(next.run(Request::from_parts(parts, body)).await).await {
        Ok(error) if matches!(*error, Error::Unauthenticated) => Redirect::to("/anmelden").into_response(),
        Ok(error) => page(&error, &lang, &path, query.as_deref()),
        Err(response) => response,
    }
}

/// The error format of a path whose route is unknown (or which hyper could not even parse):
/// the route group's the path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Problem,
    OAuth,
    Page,
}

pub fn format_of(path: &str) -> Format {
    use mitsprache_oidc::discovery::paths;
    let back_channel = [paths::TOKEN, paths::USERINFO, paths::INTROSPECT, paths::REVOKE, paths::REGISTER, paths::JWKS];
    if path.starts_with("/api/") {
        Format::Problem
    } else if back_channel
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")) || path.starts_with(&format!("{p}?")))
    {
        Format::OAuth
    } else {
        Format::Page
    }
}

/// Unknown paths, answered in the format of the group they would belong to.
pub async fn not_found(State(state): State<AppState>, request: Request) -> Response {
    by_path(&state, request, &Error::NotFound)
}

/// A method a route outside the groups (health check, assets) does not take.
pub async fn method_not_allowed(State(state): State<AppState>, request: Request) -> Response {
    by_path(&state, request, &Error::MethodNotAllowed)
}

/// Renders an error for a request no group claimed, in the format its path belongs to.
fn by_path(state: &AppState, request: Request, error: &Error) -> Response {
    let (parts, _) = request.into_parts();
    let path = parts.uri.path();
    match format_of(path) {
        Format::Problem => problem(error),
        Format::OAuth => oauth(error),
        Format::Page => page(
            error,
            &Lang::of(&parts, state.config().secure_cookies, state.hub().config().operator.clone()),
            path,
            parts.uri.query(),
        ),
    }
}
