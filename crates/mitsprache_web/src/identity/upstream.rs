//! Login through an upstream OpenID provider the operator configured (a state Servicekonto, a
//! municipal Keycloak): the hub is a relying party there, with PKCE, state and nonce, and links
//! the upstream subject to a hub account. Tools still see only the hub and its pairwise subjects.

use super::oidc::authorize::problem_page;
use super::oidc::{OAuthError, typed};
use super::session;
use crate::pages::Lang;
use crate::pages::account::message;
use crate::state::AppState;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mitsprache_domain::Role;
use mitsprache_oidc::jose::{Jwks, verify};
use mitsprache_oidc::random::{digest, id, secret};
use mitsprache_store::Account;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long a person may take at the upstream provider.
const PENDING_SECONDS: i64 = 15 * 60;

#[derive(Serialize, Deserialize)]
struct Pending {
    provider: String,
    verifier: String,
    nonce: String,
    anfrage: String,
}

fn callback_url(state: &AppState, provider: &str) -> String {
    format!("{}/anmelden/extern/{provider}/zurueck", state.identity().config.issuer)
}

async fn metadata(state: &AppState, issuer: &str) -> Result<Value, OAuthError> {
    let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let response = state
        .identity()
        .http
        .get(&url)
        .send()
        .await
        .map_err(|e| OAuthError::Internal(format!("upstream discovery: {}", e.without_url())))?;
    let meta: Value = response.json().await.map_err(|e| OAuthError::Internal(format!("upstream discovery: {e}")))?;
    // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
    if meta.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err(OAuthError::Internal("upstream discovery names another issuer".into()));
    }
    Ok(meta)
}

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    anfrage: String,
}

/// Sends the person to the upstream provider.
pub async fn start(
    State(state): State<AppState>,
    lang: Lang,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
) -> Response {
    let run = typed(async {
        let Some(upstream) = state.identity().config.upstream.iter().find(|u| u.id == provider).cloned() else {
            return Ok(problem_page(&lang, "upstream.unknown", StatusCode::NOT_FOUND));
        };
        let meta = metadata(&state, &upstream.issuer).await?;
        let endpoint = meta
            .get("authorization_endpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| OAuthError::Internal("upstream has no authorization endpoint".into()))?;
        let (st, nonce, verifier) = (secret(state.random()), secret(state.random()), secret(state.random()));
        let challenge = URL_SAFE_NO_PAD.encode(mitsprache_oidc::pkce::s256(&verifier));
        let pending =
            Pending { provider: provider.clone(), verifier, nonce: nonce.clone(), anfrage: q.anfrage.clone() };
        let now = state.clock().now().unix_timestamp();
        let json = serde_json::to_string(&pending).map_err(|e| OAuthError::Internal(e.to_string()))?;
        state
            .store()
            .identity()
            .put_pending(&digest(&format!("upstream:{st}")), &json, now, now + PENDING_SECONDS)
            .await?;
        let mut url = url::Url::parse(endpoint).map_err(|e| OAuthError::Internal(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &upstream.client_id)
            .append_pair("redirect_uri", &callback_url(&state, &provider))
            .append_pair("scope", "openid email profile")
            .append_pair("state", &st)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("ui_locales", lang.locale.tag());
        Ok(Redirect::to(url.as_str()).into_response())
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// The upstream provider's answer: exchange the code, check the ID token, log the person in.
pub async fn callback(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(provider): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let run = typed(async {
        let params: Vec<(String, String)> =
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let Some(upstream) = state.identity().config.upstream.iter().find(|u| u.id == provider).cloned() else {
            return Ok(problem_page(&lang, "upstream.unknown", StatusCode::NOT_FOUND));
        };
        let store = state.store().identity();
        let now = state.clock().now().unix_timestamp();
        let key = digest(&format!("upstream:{}", get("state").unwrap_or_default()));
        let Some((json, _)) = store.pending(&key, now).await? else {
            return Ok(problem_page(&lang, "oidc.error.expired", StatusCode::BAD_REQUEST));
        };
        store.delete_pending(&key).await?;
        let pending: Pending = serde_json::from_str(&json).map_err(|e| OAuthError::Internal(e.to_string()))?;
        if pending.provider != provider {
            return Ok(problem_page(&lang, "oidc.error.expired", StatusCode::BAD_REQUEST));
        }
        if let Some(error) = get("error") {
            tracing::info!(provider, error, "upstream login ended without success");
            return Ok(message(&lang, "upstream.failed-title", "upstream.failed", StatusCode::BAD_REQUEST));
        }
        // RFC 9207: the answer must come from the provider the person was sent to.
        if get("iss").is_some_and(|iss| iss != upstream.issuer) {
            tracing::warn!(provider, "upstream answer names another issuer (mix-up attempt?)");
            return Ok(message(&lang, "upstream.failed-title", "upstream.failed", StatusCode::BAD_REQUEST));
        }
        let code = get("code").ok_or_else(|| OAuthError::Internal("upstream answer without code".into()))?;
        let meta = metadata(&state, &upstream.issuer).await?;
        let endpoint = |k: &str| {
            meta.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| OAuthError::Internal(format!("upstream has no {k}")))
        };
        let http = &state.identity().http;
        let tokens: Value = http
            .post(endpoint("token_endpoint")?)
            .basic_auth(&upstream.client_id, Some(&upstream.client_secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &callback_url(&state, &provider)),
                ("code_verifier", &pending.verifier),
            ])
            .send()
            .await
            .map_err(|e| OAuthError::Internal(format!("upstream token: {}", e.without_url())))?
            .json()
            .await
            .map_err(|e| OAuthError::Internal(format!("upstream token: {e}")))?;
        let id_token = tokens
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(|| OAuthError::Internal("upstream sent no ID token".into()))?;
        let jwks: Jwks = http
            .get(endpoint("jwks_uri")?)
            .send()
            .await
            .map_err(|e| OAuthError::Internal(format!("upstream keys: {}", e.without_url())))?
            .json()
            .await
            .map_err(|e| OAuthError::Internal(format!("upstream keys: {e}")))?;
        let claims =
            verify(id_token, &jwks.keys).map_err(|e| OAuthError::Internal(format!("upstream ID token: {e}")))?.claims;
        let str_claim = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        let aud_ok = mitsprache_oidc::jose::audience_includes(&claims, &upstream.client_id);
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        if str_claim("iss").as_deref() != Some(upstream.issuer.as_str())
            || !aud_ok
            || exp <= now
            || str_claim("nonce").as_deref() != Some(pending.nonce.as_str())
        {
            tracing::warn!(provider, "upstream ID token refused (issuer, audience, expiry or nonce)");
            return Ok(message(&lang, "upstream.failed-title", "upstream.failed", StatusCode::BAD_REQUEST));
        }
        let Some(subject) = str_claim("sub") else {
            return Err(OAuthError::Internal("upstream ID token without sub".into()));
        };
        // Providers that conform to OIDC Core §5.4 release scope claims at userinfo, not in the
        // ID token, when they issue an access token.
        let mut profile = claims.clone();
        if profile.get("email").is_none()
            && let (Some(at), Ok(userinfo)) =
                (tokens.get("access_token").and_then(Value::as_str), endpoint("userinfo_endpoint"))
        {
            let info: Value = http
                .get(userinfo)
                .bearer_auth(at)
                .send()
                .await
                .map_err(|e| OAuthError::Internal(format!("upstream userinfo: {}", e.without_url())))?
                .json()
                .await
                .map_err(|e| OAuthError::Internal(format!("upstream userinfo: {e}")))?;
            // OIDC Core §5.3.2: userinfo about another subject must not be used.
            if info.get("sub").and_then(Value::as_str) == Some(subject.as_str()) {
                profile = info;
            }
        }
        let profile_claim = |k: &str| profile.get(k).and_then(Value::as_str).map(str::to_owned);
        let account_id = match store.linked_account(&provider, &subject).await? {
            Some(account) => account,
            None => {
                let Some(email) = profile_claim("email").map(|e| e.trim().to_lowercase()) else {
                    return Ok(message(&lang, "upstream.failed-title", "upstream.no-email", StatusCode::BAD_REQUEST));
                };
                // An existing hub account is never taken over by an upstream login: its owner
                // proves the password first (linking from the account page is future work).
                if store.account_by_email(&email).await?.is_some() {
                    return Ok(message(&lang, "upstream.failed-title", "upstream.email-taken", StatusCode::CONFLICT));
                }
                let account = Account {
                    id: id(state.random()),
                    email,
                    email_verified: profile.get("email_verified").and_then(Value::as_bool).unwrap_or(false),
                    password_hash: None,
                    name: profile_claim("name"),
                    locale: lang.locale.tag().to_owned(),
                    role: Role::Citizen,
                    created_at: now,
                    updated_at: now,
                };
                store.create_account(&account).await?;
                store.link_account(&provider, &subject, &account.id, now).await?;
                tracing::info!(provider, "account created from an upstream login");
                account.id
            }
        };
        let target = if pending.anfrage.is_empty() {
            "/konto".to_owned()
        } else {
            format!("/oidc/authorize/weiter?anfrage={}", pending.anfrage)
        };
        let mut r = Redirect::to(&target).into_response();
        session::start(&state, &account_id, "fed", &headers, &mut r).await?;
        Ok(r)
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}
