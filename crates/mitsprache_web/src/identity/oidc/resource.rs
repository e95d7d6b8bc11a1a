//! Userinfo (OIDC Core §5.3), token introspection (RFC 7662) and revocation (RFC 7009).

use super::{OAuthError, Params, authenticate, bearer, check_access_token, no_store, person, scope_list, subject_for};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mitsprache_oidc::claims::userinfo as claims_for;
use mitsprache_oidc::random::digest;
use serde_json::{Value, json};

pub async fn userinfo_get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = bearer(&headers).map(str::to_owned);
    userinfo(&state, token).await.unwrap_or_else(IntoResponse::into_response)
}

/// POST takes the token in the header or the form body (RFC 6750 §2.2), never in the query.
pub async fn userinfo_post(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let run = crate::identity::oidc::typed(async {
        let params = Params::parse(&body)?;
        let token = match (bearer(&headers), params.get("access_token")) {
            (Some(_), Some(_)) => return Err(super::invalid_request("send the token once")),
            (Some(t), None) | (None, Some(t)) => Some(t.to_owned()),
            (None, None) => None,
        };
        userinfo(&state, token).await
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn userinfo(state: &AppState, token: Option<String>) -> Result<Response, OAuthError> {
    let token = token.ok_or(OAuthError::InvalidToken)?;
    let (at, grant) = check_access_token(state, &token).await?;
    let grant = grant.ok_or(OAuthError::InvalidToken)?;
    let scope = scope_list(&at.scope);
    if !scope.iter().any(|s| s == "openid") || grant.revoked_at.is_some() {
        return Err(OAuthError::InvalidToken);
    }
    let Some(client) = super::client(state, &at.client_id).await? else {
        return Err(OAuthError::InvalidToken);
    };
    let Some(account) = state.store().identity().account(&grant.account_id).await? else {
        return Err(OAuthError::InvalidToken);
    };
    let sub = subject_for(state, &client, &account.id);
    let mut r = Json(claims_for(&sub, &person(&account), &scope)).into_response();
    no_store(r.headers_mut());
    Ok(r)
}

/// RFC 7662. The caller must be a registered, authenticated client (a resource server); an
/// unknown, expired or revoked token answers `{"active": false}` and nothing else.
pub async fn introspect(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let run = crate::identity::oidc::typed(async {
        let params = Params::parse(&body)?;
        // Only confidential clients (resource servers) may ask about tokens: a public client's
        // id is no secret (RFC 7662 §2.1).
        if authenticate(&state, &headers, &params).await?.is_public() {
            return Err(OAuthError::InvalidClient { basic: false });
        }
        let token = params.require("token")?;
        let now = state.clock().now().unix_timestamp();
        let inactive = json!({ "active": false });
        let hint = params.get("token_type_hint");
        let as_access = || async {
            match check_access_token(&state, token).await {
                Ok((at, grant)) if grant.as_ref().is_none_or(|g| g.revoked_at.is_none()) => {
                    Ok::<_, OAuthError>(Some(json!({
                        "active": true,
                        "token_type": "Bearer",
                        "scope": at.scope,
                        "client_id": at.client_id,
                        "sub": at.sub,
                        "aud": at.aud,
                        "iss": at.iss,
                        "exp": at.exp,
                        "iat": at.iat,
                        "jti": at.jti,
                    })))
                }
                Ok(_) | Err(OAuthError::InvalidToken) => Ok(None),
                Err(e) => Err(e),
            }
        };
        let as_refresh = || async {
            let Some(grant) = state.store().identity().refresh_token_grant(&digest(token), now).await? else {
                return Ok::<_, OAuthError>(None);
            };
            if grant.revoked_at.is_some() {
                return Ok(None);
            }
            let Some(client) = super::client(&state, &grant.client_id).await? else { return Ok(None) };
            Ok(Some(json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": grant.scope,
                "client_id": grant.client_id,
                "sub": subject_for(&state, &client, &grant.account_id),
                "iss": state.identity().config.issuer,
                "iat": grant.created_at,
            })))
        };
        let found: Option<Value> = if hint == Some("refresh_token") {
            match as_refresh().await? {
                Some(v) => Some(v),
                None => as_access().await?,
            }
        } else {
            match as_access().await? {
                Some(v) => Some(v),
                None => as_refresh().await?,
            }
        };
        let mut r = Json(found.unwrap_or(inactive)).into_response();
        no_store(r.headers_mut());
        Ok::<_, OAuthError>(r)
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// RFC 7009: a client revokes its own tokens. Revoking a refresh token ends its grant, with the
/// access tokens issued from it. Always 200, also for unknown tokens (no oracle).
pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let run = crate::identity::oidc::typed(async {
        let params = Params::parse(&body)?;
        let client = authenticate(&state, &headers, &params).await?;
        let token = params.require("token")?;
        let now = state.clock().now().unix_timestamp();
        let store = state.store().identity();
        if let Some(grant) = store.refresh_token_grant(&digest(token), now).await? {
            if grant.client_id == client.id {
                store.revoke_grant(&grant.id, now).await?;
            }
        } else if let Ok((at, _)) = check_access_token(&state, token).await
            && at.client_id == client.id
        {
            store.revoke_token(&at.jti, at.exp).await?;
        }
        Ok::<_, OAuthError>(StatusCode::OK.into_response())
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}
