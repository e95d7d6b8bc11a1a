//! The front channel: the authorization endpoint, the continuation after login, and the consent
//! screen. The hub decides each step; here it becomes a redirect, a form post or a page.

use super::{allow_form_target, claim_labels, deliver, problem_page};
use crate::error::WebError;
use crate::render::{Ctx, Lang, render_form};
use crate::session::{CsrfForm, MaybeSignedIn, SignedIn};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_hub::authorize::Step;
use mitsprache_oidc::params::Params;
use serde::Deserialize;

pub async fn authorize_get(
    State(state): State<AppState>,
    lang: Lang,
    MaybeSignedIn(current): MaybeSignedIn,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let params = Params::lenient(raw.unwrap_or_default().as_bytes());
    authorize(&state, lang, current, params).await
}

pub async fn authorize_post(
    State(state): State<AppState>,
    lang: Lang,
    MaybeSignedIn(current): MaybeSignedIn,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    authorize(&state, lang, current, Params::lenient(&body)).await
}

async fn authorize(
    state: &AppState,
    lang: Lang,
    current: Option<mitsprache_hub::Current>,
    params: Params,
) -> Result<Response, WebError> {
    match state.hub().authorize(&params, current.as_ref()).await? {
        Ok(step) => Ok(respond(step)),
        Err(refused) => Ok(problem_page(&lang, &format!("oidc.error.{}", refused.code()), StatusCode::BAD_REQUEST)),
    }
}

/// The HTTP form of a step.
pub fn respond(step: Step) -> Response {
    match step {
        Step::Login { reference, locale } => {
            let mut target = format!("/anmelden?anfrage={reference}");
            if let Some(l) = locale {
                target.push_str(&format!("&lang={}", l.tag()));
            }
            Redirect::to(&target).into_response()
        }
        Step::Consent { reference } => Redirect::to(&format!("/oidc/zustimmung?anfrage={reference}")).into_response(),
        Step::Respond(delivery) => deliver(delivery),
    }
}

#[derive(Deserialize)]
pub struct Reference {
    #[serde(default)]
    anfrage: String,
}

/// After a login: continue the pending request.
pub async fn resume(
    State(state): State<AppState>,
    lang: Lang,
    MaybeSignedIn(current): MaybeSignedIn,
    Query(q): Query<Reference>,
) -> Result<Response, WebError> {
    match state.hub().resume_authorization(&q.anfrage, current.as_ref()).await? {
        Some(step) => Ok(respond(step)),
        None => Ok(problem_page(&lang, "oidc.error.expired", StatusCode::BAD_REQUEST)),
    }
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    ctx: Ctx,
    client_name: String,
    client_host: String,
    claims: Vec<String>,
    reference: String,
    csrf: String,
    email: String,
}

pub async fn consent_page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    MaybeSignedIn(current): MaybeSignedIn,
    Query(q): Query<Reference>,
) -> Result<Response, WebError> {
    let Some(pending) = state.hub().pending_authorization(&q.anfrage).await? else {
        return Ok(problem_page(&lang, "oidc.error.expired", StatusCode::BAD_REQUEST));
    };
    let Some(current) = current else {
        return Ok(Redirect::to(&format!("/anmelden?anfrage={}", q.anfrage)).into_response());
    };
    let ctx = Ctx::new(&lang, "/oidc/zustimmung", None);
    let claims = claim_labels(&ctx, &pending.request.scope);
    let mut r = render_form(&state, &headers, &lang, StatusCode::OK, |csrf| ConsentPage {
        client_name: pending.client.name.clone(),
        client_host: pending.client.sector.clone(),
        claims,
        reference: pending.reference.clone(),
        csrf,
        email: current.account.email.to_string(),
        ctx,
    });
    allow_form_target(&mut r, &pending.request.redirect_uri);
    Ok(r)
}

#[derive(Deserialize)]
pub struct ConsentForm {
    anfrage: String,
    decision: String,
}

pub async fn consent_submit(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(current): SignedIn,
    CsrfForm(form): CsrfForm<ConsentForm>,
) -> Result<Response, WebError> {
    match state.hub().answer_consent(&form.anfrage, &current, form.decision == "allow").await? {
        Some(step) => Ok(respond(step)),
        None => Ok(problem_page(&lang, "oidc.error.expired", StatusCode::BAD_REQUEST)),
    }
}
