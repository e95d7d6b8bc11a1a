//! Dynamic client registration (RFC 7591) behind an initial access token, and reading one's own
//! registration back with the registration access token (RFC 7592 §2.1).

use super::bearer;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mitsprache_oidc::client::{AuthMethod, Client, GrantType, Registration};
use mitsprache_oidc::jose::Jwks;
use mitsprache_oidc::random::{constant_time_eq, digest, id, secret};
use mitsprache_oidc::subject::SubjectType;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct Metadata {
    client_name: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    grant_types: Vec<String>,
    #[serde(default)]
    response_types: Vec<String>,
    token_endpoint_auth_method: Option<String>,
    jwks: Option<Jwks>,
    subject_type: Option<String>,
    backchannel_logout_uri: Option<String>,
    id_token_signed_response_alg: Option<String>,
    sector_identifier_uri: Option<String>,
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (status, Json(json!({ "error": code, "error_description": description }))).into_response()
}

pub async fn register(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Some(expected) = state.identity().config.registration_token.as_deref() else {
        return error(StatusCode::FORBIDDEN, "access_denied", "dynamic registration is disabled on this hub");
    };
    if !bearer(&headers).is_some_and(|t| constant_time_eq(t, expected)) {
        return error(StatusCode::UNAUTHORIZED, "invalid_token", "an initial access token is required");
    }
    let meta: Metadata = match serde_json::from_slice::<Value>(&body) {
        Ok(v) if v.is_object() => match serde_json::from_value(v) {
            Ok(m) => m,
            Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", &e.to_string()),
        },
        _ => return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", "the body must be a JSON object"),
    };
    if meta.response_types.iter().any(|r| r != "code") {
        return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", "only the response type code is supported");
    }
    let mut grant_types = Vec::new();
    for g in &meta.grant_types {
        match GrantType::parse(g) {
            Some(g) => grant_types.push(g),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client_metadata",
                    &format!("grant type {g} is not supported"),
                );
            }
        }
    }
    let auth_method = match meta.token_endpoint_auth_method.as_deref() {
        None => None,
        Some(m) => match AuthMethod::parse(m) {
            Some(m) => Some(m),
            None => return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", &format!("{m} is not supported")),
        },
    };
    let subject_type = match meta.subject_type.as_deref() {
        None | Some("pairwise") => SubjectType::Pairwise,
        // Public subjects let tools link people; only an admin may grant them.
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                "only pairwise subjects can be registered",
            );
        }
    };
    let id_token_alg = match meta.id_token_signed_response_alg.as_deref() {
        None => None,
        Some(a) => match mitsprache_oidc::jose::Alg::parse(a) {
            Some(alg) => Some(alg),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client_metadata",
                    "id_token_signed_response_alg must be ES256 or RS256",
                );
            }
        },
    };
    let sector_identifier_host = match &meta.sector_identifier_uri {
        None => None,
        Some(uri) => match crate::identity::sector_host(&state.identity().http, uri, &meta.redirect_uris).await {
            Ok(host) => Some(host),
            Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", &e),
        },
    };
    let registration = Registration {
        name: meta.client_name.unwrap_or_default(),
        redirect_uris: meta.redirect_uris,
        post_logout_redirect_uris: meta.post_logout_redirect_uris,
        grant_types,
        auth_method,
        jwks: meta.jwks,
        subject_type,
        sector_identifier_host,
        first_party: false,
        backchannel_logout_uri: meta.backchannel_logout_uri,
        // Roles are granted by an admin, never by self-registration.
        machine_role: None,
        id_token_alg,
    };
    let now = state.clock().now();
    let client_secret = secret(state.random());
    let (client, shown) = match registration.into_client(id(state.random()), client_secret, now) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.code(), &e.to_string()),
    };
    let registration_token = secret(state.random());
    if let Err(e) =
        state.store().identity().put_client(&client, Some(&digest(&registration_token)), now.unix_timestamp()).await
    {
        return super::OAuthError::Store(e).into_response();
    }
    tracing::info!(client = %client.id, "client registered dynamically");
    let mut body = describe(&state, &client);
    body["client_id_issued_at"] = now.unix_timestamp().into();
    if let Some(s) = shown {
        body["client_secret"] = s.into();
        body["client_secret_expires_at"] = 0.into();
    }
    body["registration_access_token"] = registration_token.into();
    let mut r = (StatusCode::CREATED, Json(body)).into_response();
    super::no_store(r.headers_mut());
    r
}

pub async fn read(State(state): State<AppState>, headers: HeaderMap, Path(client_id): Path<String>) -> Response {
    let Some(token) = bearer(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "invalid_token", "the registration access token is required");
    };
    match state.store().identity().client_by_registration(&digest(token)).await {
        Ok(Some(client)) if client.id == client_id => {
            let mut r = Json(describe(&state, &client)).into_response();
            super::no_store(r.headers_mut());
            r
        }
        Ok(_) => error(StatusCode::UNAUTHORIZED, "invalid_token", "the token does not belong to this client"),
        Err(e) => super::OAuthError::Store(e).into_response(),
    }
}

/// A client's registered metadata in RFC 7591 names.
pub fn describe(state: &AppState, client: &Client) -> Value {
    json!({
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
        "registration_client_uri": format!("{}{}/{}", state.identity().config.issuer, mitsprache_oidc::discovery::paths::REGISTER, client.id),
    })
}
