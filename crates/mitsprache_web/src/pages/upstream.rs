//! Login through an upstream OpenID provider: the redirect there and the answer's return.

use crate::error::WebError;
use crate::oidc::problem_page;
use crate::render::{Lang, message};
use crate::session;
use crate::state::AppState;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_hub::authorize::is_reference;
use mitsprache_hub::upstream::UpstreamLogin;
use mitsprache_oidc::grant::Amr;
use mitsprache_oidc::params::Params;
use serde::Deserialize;

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
) -> Result<Response, WebError> {
    let anfrage = if is_reference(&q.anfrage) { q.anfrage.as_str() } else { "" };
    match state.hub().start_upstream_login(&provider, anfrage, lang.locale).await? {
        Some(url) => Ok(Redirect::to(&url).into_response()),
        None => Ok(problem_page(&lang, "upstream.unknown", StatusCode::NOT_FOUND)),
    }
}

/// The upstream provider's answer.
pub async fn callback(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(provider): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let params = Params::lenient(raw.unwrap_or_default().as_bytes());
    let failed = |text: &str, status| Ok(message(&lang, "upstream.failed-title", text, status));
    match state.hub().finish_upstream_login(&provider, &params, lang.locale).await? {
        UpstreamLogin::UnknownProvider => Ok(problem_page(&lang, "upstream.unknown", StatusCode::NOT_FOUND)),
        UpstreamLogin::Expired => Ok(problem_page(&lang, "oidc.error.expired", StatusCode::BAD_REQUEST)),
        UpstreamLogin::Failed => failed("upstream.failed", StatusCode::BAD_REQUEST),
        UpstreamLogin::NoEmail => failed("upstream.no-email", StatusCode::BAD_REQUEST),
        UpstreamLogin::EmailTaken => failed("upstream.email-taken", StatusCode::CONFLICT),
        UpstreamLogin::LoggedIn { account_id, anfrage } => {
            let target = match anfrage {
                Some(a) => format!("/oidc/authorize/weiter?anfrage={a}"),
                None => "/konto".to_owned(),
            };
            let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
            let started = state.hub().start_session(&account_id, Amr::Fed, user_agent).await?;
            let mut r = Redirect::to(&target).into_response();
            session::set_session(&state, &mut r, &started);
            Ok(r)
        }
    }
}
