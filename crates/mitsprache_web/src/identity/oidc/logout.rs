//! Logout: RP-initiated (OpenID Connect RP-Initiated Logout 1.0) and the hub's own, both ending
//! with back-channel logout tokens (Back-Channel Logout 1.0) to every tool the session used.
//! Deliveries are queued in the store and retried with backoff by [`deliver_logouts`].

use super::{OAuthError, sign, subject_for};
use crate::identity::oidc::authorize::problem_page;
use crate::identity::session::{self, csrf_ok};
use crate::pages::{Ctx, Lang, render, render_form};
use crate::state::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mitsprache_oidc::claims::logout_token;
use mitsprache_oidc::random::id;
use mitsprache_store::{Delivery, SessionSelector};
use std::time::Duration;

/// Attempts before a delivery is given up (and left in the store for the operator).
const MAX_ATTEMPTS: i64 = 8;

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    ctx: Ctx,
    csrf: String,
    client_name: Option<String>,
    fields: Vec<(String, String)>,
}

pub async fn end_session_get(
    state: State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params: Vec<(String, String)> =
        form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    end_session(state, lang, headers, params, false).await
}

pub async fn end_session_post(
    state: State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    end_session(state, lang, headers, params, false).await
}

/// The confirmation form posts here.
pub async fn end_session_confirm(
    state: State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let csrf = params.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    if !csrf_ok(&state, &headers, csrf) {
        return problem_page(&lang, "form.csrf", StatusCode::FORBIDDEN);
    }
    end_session(state, lang, headers, params, true).await
}

async fn end_session(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    params: Vec<(String, String)>,
    confirmed: bool,
) -> Response {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let run = crate::identity::oidc::typed(async {
        let hint = get("id_token_hint").and_then(|h| hint_session_and_client(&state, &h));
        let client_id = match (hint.as_ref().and_then(|h| h.1.clone()), get("client_id")) {
            (Some(a), Some(b)) if a != b => {
                return Ok(problem_page(&lang, "oidc.error.logout_mismatch", StatusCode::BAD_REQUEST));
            }
            (Some(a), _) => Some(a),
            (None, b) => b,
        };
        let client = match &client_id {
            Some(id) => super::client(&state, id).await?,
            None => None,
        };
        let redirect = match (get("post_logout_redirect_uri"), &client) {
            (None, _) => None,
            (Some(uri), Some(c)) if c.post_logout_redirect_uris.contains(&uri) => {
                let mut url = url::Url::parse(&uri).map_err(|e| OAuthError::Internal(e.to_string()))?;
                if let Some(s) = get("state") {
                    url.query_pairs_mut().append_pair("state", &s);
                }
                Some(url.to_string())
            }
            // Never redirect to an unregistered address (no open redirect).
            (Some(_), _) => return Ok(problem_page(&lang, "oidc.error.logout_redirect", StatusCode::BAD_REQUEST)),
        };
        let current = session::current(&state, &headers).await?;
        let Some(current) = current else { return Ok(finish(&state, &lang, redirect, false)) };
        let hinted_this_session = hint.as_ref().and_then(|h| h.0.as_deref()) == Some(current.session.sid.as_str());
        if !confirmed && !hinted_this_session {
            // The request does not prove it comes from a tool of this session: ask (§2).
            let fields = params.iter().filter(|(k, _)| k != "csrf").cloned().collect();
            let mut r = render_form(&state, &headers, &lang, StatusCode::OK, |csrf| LogoutPage {
                ctx: Ctx::new(&lang, "/oidc/logout", None),
                csrf,
                client_name: client.as_ref().map(|c| c.name.clone()),
                fields,
            });
            if let Some(target) = &redirect {
                crate::identity::oidc::authorize::allow_form_target(&mut r, target);
            }
            return Ok(r);
        }
        end(&state, SessionSelector::Digest(&current.digest), &current.account.id).await?;
        Ok(finish(&state, &lang, redirect, true))
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// Ends sessions and queues the back-channel logouts of the tools they used.
pub async fn end(state: &AppState, which: SessionSelector<'_>, account_id: &str) -> Result<(), OAuthError> {
    let now = state.clock().now().unix_timestamp();
    let pairs = state.store().identity().end_sessions(which, now).await?;
    notify(state, account_id, &pairs).await
}

/// Queues a logout token for each (session, tool) pair whose tool takes back-channel logouts.
pub async fn notify(state: &AppState, account_id: &str, pairs: &[(String, String)]) -> Result<(), OAuthError> {
    let now = state.clock().now().unix_timestamp();
    for (sid, client_id) in pairs {
        let Some(client) = super::client(state, client_id).await? else { continue };
        let Some(uri) = client.backchannel_logout_uri.clone() else { continue };
        let token = logout_token(
            &state.identity().config.issuer,
            &client.id,
            &subject_for(state, &client, account_id),
            sid,
            now,
            &id(state.random()),
        );
        let delivery = Delivery {
            id: id(state.random()),
            client_id: client.id.clone(),
            uri,
            logout_token: sign(state, "logout+jwt", &token)?,
            attempts: 0,
        };
        state.store().identity().queue_delivery(&delivery, now).await?;
    }
    if !pairs.is_empty() {
        state.identity().logout_queued.notify_one();
    }
    Ok(())
}

/// (sid, client) an `id_token_hint` names.
fn hint_session_and_client(state: &AppState, hint: &str) -> Option<(Option<String>, Option<String>)> {
    let c = super::hint_claims(state, hint)?;
    let aud = match c.get("aud") {
        Some(serde_json::Value::String(a)) => Some(a.clone()),
        Some(serde_json::Value::Array(list)) => list.first().and_then(|a| a.as_str()).map(str::to_owned),
        _ => None,
    };
    Some((c.get("sid").and_then(|v| v.as_str()).map(str::to_owned), aud))
}

fn finish(state: &AppState, lang: &Lang, redirect: Option<String>, ended: bool) -> Response {
    let mut r = match redirect {
        Some(url) => (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response(),
        None => {
            let ctx = Ctx::new(lang, "/oidc/logout", None);
            let page = crate::pages::MessagePage {
                title: ctx.t.get("logout.done-title").to_owned(),
                text: ctx.t.get("logout.done").to_owned(),
                ctx,
            };
            render(&page, lang, StatusCode::OK)
        }
    };
    if ended {
        session::clear(state, &mut r);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Delivers queued logout tokens until the process ends: on notice and every few seconds, with
/// exponential backoff per delivery. Each attempt is logged with its outcome.
pub async fn deliver_logouts(state: AppState) {
    let http = state.identity().http.clone();
    loop {
        let now = state.clock().now().unix_timestamp();
        match state.store().identity().due_deliveries(now, 50).await {
            Ok(due) => {
                for d in due {
                    let result = http
                        .post(&d.uri)
                        .form(&[("logout_token", d.logout_token.as_str())])
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    let outcome = match result {
                        Ok(r) if r.status().is_success() => Ok(()),
                        Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
                        Err(e) => Err(format!("{}", e.without_url())),
                    };
                    let attempts = d.attempts + 1;
                    let recorded = match &outcome {
                        Ok(()) => {
                            tracing::info!(client = %d.client_id, attempts, "back-channel logout delivered");
                            state.store().identity().record_attempt(&d.id, now, Ok(())).await
                        }
                        Err(error) => {
                            let next = (attempts < MAX_ATTEMPTS).then(|| now + 10 * (1 << attempts.min(10)));
                            tracing::warn!(client = %d.client_id, attempts, %error, retry_at = ?next, "back-channel logout failed");
                            state.store().identity().record_attempt(&d.id, now, Err((error, next))).await
                        }
                    };
                    if let Err(e) = recorded {
                        tracing::warn!(error = %e, "cannot record a logout delivery");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read logout deliveries"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), state.identity().logout_queued.notified()).await;
    }
}
