//! Dynamic client registration (RFC 7591) behind an initial access token, and reading one's own
//! registration back with the registration access token (RFC 7592 §2.1).

use crate::error::{WebError, no_store};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mitsprache_oidc::params::bearer;

fn token(headers: &HeaderMap) -> Option<&str> {
    bearer(headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()))
}

pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let registered = state.hub().register_dynamically(token(&headers), &body).await?;
    let mut r = (StatusCode::CREATED, Json(registered)).into_response();
    no_store(r.headers_mut());
    Ok(r)
}

pub async fn read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
) -> Result<Response, WebError> {
    let mut r = Json(state.hub().read_registration(token(&headers), &client_id).await?).into_response();
    no_store(r.headers_mut());
    Ok(r)
}
