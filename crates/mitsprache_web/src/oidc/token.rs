//! The back-channel endpoints of tools: token, userinfo (OIDC Core §5.3), introspection
//! (RFC 7662) and revocation (RFC 7009). No cookies are read here.

use crate::error::{WebError, no_store};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mitsprache_hub::Error;
use mitsprache_hub::tokens::BackChannel;
use mitsprache_oidc::params::{Params, bearer};

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

fn json_no_store(body: impl serde::Serialize) -> Response {
    let mut r = Json(body).into_response();
    no_store(r.headers_mut());
    r
}

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let request = BackChannel { authorization: authorization(&headers), body: &body };
    Ok(json_no_store(state.hub().token(request).await?))
}

pub async fn userinfo_get(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    Ok(json_no_store(state.hub().userinfo(bearer(authorization(&headers))).await?))
}

/// POST takes the token in the header or the form body (RFC 6750 §2.2), never in the query.
pub async fn userinfo_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let params = Params::strict(&body)?;
    let token = match (bearer(authorization(&headers)), params.get("access_token")) {
        (Some(_), Some(_)) => return Err(WebError(Error::Malformed("send the token once".into()))),
        (Some(t), None) | (None, Some(t)) => Some(t),
        (None, None) => None,
    };
    Ok(json_no_store(state.hub().userinfo(token).await?))
}

pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let request = BackChannel { authorization: authorization(&headers), body: &body };
    Ok(json_no_store(state.hub().introspect(request).await?))
}

/// Always 200 for an authenticated client, also for unknown tokens (no oracle).
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    state.hub().revoke(BackChannel { authorization: authorization(&headers), body: &body }).await?;
    Ok(StatusCode::OK.into_response())
}
