//! The token endpoint: authorization_code (single use, PKCE required, a replay revokes what the
//! code produced), refresh_token (rotation with reuse detection: a reused token revokes its
//! whole grant), client_credentials (RFC 9068 JWT access tokens with an audience).

use super::{
    OAuthError, Params, authenticate, invalid_grant, no_store, person, scope_list, sign, sign_with, subject_for,
};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use mitsprache_oidc::claims::{AccessToken, IdToken, userinfo};
use mitsprache_oidc::client::{Client, GrantType};
use mitsprache_oidc::jose::half_hash;
use mitsprache_oidc::pkce;
use mitsprache_oidc::random::{digest, id, secret};
use mitsprache_store::{Account, Code, Grant, Redemption, Rotation};
use serde_json::{Value, json};

pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    match grant(&state, &headers, &body).await {
        Ok(body) => {
            let mut r = Json(body).into_response();
            no_store(r.headers_mut());
            r
        }
        Err(e) => e.into_response(),
    }
}

async fn grant(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Value, OAuthError> {
    {
        let params = Params::parse(body)?;
        let grant_type = params.require("grant_type")?.to_owned();
        let client = authenticate(state, headers, &params).await?;
        let grant = GrantType::parse(&grant_type)
            .ok_or_else(|| OAuthError::Protocol("unsupported_grant_type", format!("{grant_type} is not supported")))?;
        if !client.allows(grant) {
            return Err(OAuthError::Protocol("unauthorized_client", format!("the client may not use {grant_type}")));
        }
        match grant {
            GrantType::AuthorizationCode => authorization_code(state, &client, &params).await,
            GrantType::RefreshToken => refresh(state, &client, &params).await,
            GrantType::ClientCredentials => client_credentials(state, &client, &params),
        }
    }
}

async fn authorization_code(state: &AppState, client: &Client, params: &Params) -> Result<Value, OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let verifier = params.get("code_verifier");
    let now = state.clock().now().unix_timestamp();
    let store = state.store().identity();
    // The checks a code must pass before it yields tokens (RFC 6749 §4.1.3, RFC 7636 §4.6).
    let check = |code: &Code| -> Result<(), OAuthError> {
        if code.grant.client_id != client.id {
            return Err(invalid_grant("the code was issued to another client"));
        }
        if code.redirect_uri != redirect_uri {
            return Err(invalid_grant("redirect_uri differs from the authorization request"));
        }
        let verifier = verifier.ok_or_else(|| invalid_grant("code_verifier is required"))?;
        pkce::verify(verifier, &code.code_challenge).map_err(|e| invalid_grant(e.to_string()))?;
        if code.grant.revoked_at.is_some() {
            return Err(invalid_grant("the grant was revoked"));
        }
        Ok(())
    };
    let refresh = client.allows(GrantType::RefreshToken).then(|| secret(state.random()));
    let refresh_digest = refresh.as_deref().map(digest);
    let expires = now + state.identity().config.lifetimes.refresh_token;
    let first_refresh = refresh_digest.as_deref().map(|d| (d, expires));
    let (code, account) = match store.redeem_code(&digest(code), now, first_refresh, |c| check(c).is_ok()).await? {
        Redemption::Fresh(found) => found,
        Redemption::Replayed { grant_id } => {
            store.revoke_grant(&grant_id, now).await?;
            tracing::warn!(client = %client.id, grant = %grant_id, "authorization code replayed; its grant is revoked");
            return Err(invalid_grant("the code was already used"));
        }
        Redemption::Invalid => return Err(invalid_grant("the code is unknown or expired")),
    };
    // A failed check has consumed the code: an attacker holding a stolen code gets one try.
    check(&code)?;
    let mut body = issue_for_grant(state, client, &code.grant, account, code.nonce.as_deref()).await?;
    if let Some(refresh) = refresh {
        body["refresh_token"] = refresh.into();
    }
    Ok(body)
}

async fn refresh(state: &AppState, client: &Client, params: &Params) -> Result<Value, OAuthError> {
    let presented = params.require("refresh_token")?;
    let now = state.clock().now().unix_timestamp();
    let store = state.store().identity();
    let new = secret(state.random());
    let expires = now + state.identity().config.lifetimes.refresh_token;
    let rotation = Rotation {
        old_digest: digest(presented),
        new_digest: digest(&new),
        client_id: client.id.clone(),
        now,
        expires_at: expires,
    };
    let rotated = state.identity().rotator.rotate(rotation).await.map_err(OAuthError::Unavailable)?;
    let (mut grant, account) = match rotated {
        Redemption::Fresh(found) => found,
        Redemption::Replayed { grant_id } => {
            store.revoke_grant(&grant_id, now).await?;
            tracing::warn!(client = %client.id, grant = %grant_id, "refresh token reused; its whole grant is revoked");
            return Err(invalid_grant("the refresh token was already used"));
        }
        Redemption::Invalid => {
            return Err(invalid_grant("the refresh token is unknown, expired, revoked or another client's"));
        }
    };
    // A refresh may narrow the scope, never widen it (RFC 6749 §6).
    if let Some(asked) = params.get("scope") {
        let granted = scope_list(&grant.scope);
        let asked = scope_list(asked);
        if asked.iter().any(|s| !granted.contains(s)) {
            return Err(OAuthError::Protocol("invalid_scope", "the scope exceeds the original grant".into()));
        }
        grant.scope = asked.join(" ");
    }
    let mut body = issue_for_grant(state, client, &grant, account, None).await?;
    body["refresh_token"] = new.into();
    Ok(body)
}

/// Access token and ID token of a user grant.
async fn issue_for_grant(
    state: &AppState,
    client: &Client,
    grant: &Grant,
    account: Option<Account>,
    nonce: Option<&str>,
) -> Result<Value, OAuthError> {
    let account = match account {
        Some(a) => a,
        None => state
            .store()
            .identity()
            .account(&grant.account_id)
            .await?
            .ok_or_else(|| invalid_grant("the account no longer exists"))?,
    };
    let config = &state.identity().config;
    let now = state.clock().now().unix_timestamp();
    let sub = subject_for(state, client, &account.id);
    let scope = scope_list(&grant.scope);
    let access = AccessToken {
        iss: config.issuer.clone(),
        exp: now + config.lifetimes.access_token,
        aud: vec![config.issuer.clone()],
        sub: sub.clone(),
        client_id: client.id.clone(),
        iat: now,
        jti: id(state.random()),
        scope: grant.scope.clone(),
        auth_time: Some(grant.auth_time),
        gid: Some(grant.id.clone()),
    };
    let access_token = sign(state, "at+jwt", &access)?;
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": config.lifetimes.access_token,
        "scope": grant.scope,
    });
    if scope.iter().any(|s| s == "openid") {
        let claims = userinfo(&sub, &person(&account), &scope);
        let sid = grant.sid.clone().unwrap_or_default();
        let id_token = IdToken {
            iss: &config.issuer,
            sub: &sub,
            aud: &client.id,
            exp: now + config.lifetimes.id_token,
            iat: now,
            auth_time: grant.auth_time,
            nonce,
            acr: "urn:mitsprache:acr:low",
            amr: &[grant.amr.as_str()],
            azp: &client.id,
            sid: &sid,
            at_hash: Some(half_hash(&access_token)),
            claims,
        };
        body["id_token"] = sign_with(state, client.id_token_alg, "JWT", &id_token)?.into();
    }
    Ok(body)
}

/// Machine access: the client acts for itself. `resource` (RFC 8707) names the API the token is
/// for and becomes its audience; without it the audience is the hub.
fn client_credentials(state: &AppState, client: &Client, params: &Params) -> Result<Value, OAuthError> {
    let config = &state.identity().config;
    let scope = scope_list(params.get("scope").unwrap_or(""));
    if scope.iter().any(|s| mitsprache_oidc::SCOPES.contains(&s.as_str())) {
        return Err(OAuthError::Protocol("invalid_scope", "person scopes need a person: use the code flow".into()));
    }
    let audience = match params.get("resource") {
        Some(r) => {
            let url = url::Url::parse(r)
                .map_err(|_| OAuthError::Protocol("invalid_target", "resource must be an absolute URI".into()))?;
            if url.fragment().is_some() {
                return Err(OAuthError::Protocol("invalid_target", "resource must not have a fragment".into()));
            }
            r.to_owned()
        }
        None => config.issuer.clone(),
    };
    let now = state.clock().now().unix_timestamp();
    let access = AccessToken {
        iss: config.issuer.clone(),
        exp: now + config.lifetimes.access_token,
        aud: vec![audience],
        sub: client.id.clone(),
        client_id: client.id.clone(),
        iat: now,
        jti: id(state.random()),
        scope: scope.join(" "),
        auth_time: None,
        gid: None,
    };
    Ok(json!({
        "access_token": sign(state, "at+jwt", &access)?,
        "token_type": "Bearer",
        "expires_in": config.lifetimes.access_token,
        "scope": access.scope,
    }))
}
