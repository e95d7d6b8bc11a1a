//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the end-session endpoint and
//! its confirmation form. The hub decides; back-channel logouts follow as jobs.

use super::{allow_form_target, problem_page};
use crate::error::WebError;
use crate::render::{Ctx, Lang, MessagePage, render, render_form};
use crate::session::{self, CsrfForm, MaybeSignedIn};
use crate::state::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mitsprache_hub::logout::{EndSession, Refusal};
use mitsprache_oidc::params::Params;
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    ctx: Ctx,
    csrf: String,
    client_name: Option<String>,
    fields: Vec<(String, String)>,
}

pub async fn end_session_get(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    MaybeSignedIn(current): MaybeSignedIn,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let params = Params::lenient(raw.unwrap_or_default().as_bytes());
    end_session(&state, lang, &headers, current, params, false).await
}

pub async fn end_session_post(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    MaybeSignedIn(current): MaybeSignedIn,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    end_session(&state, lang, &headers, current, Params::lenient(&body), false).await
}

/// The confirmation form posts here, with the request's parameters.
pub async fn end_session_confirm(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    MaybeSignedIn(current): MaybeSignedIn,
    CsrfForm(fields): CsrfForm<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let encoded: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields.iter()).finish();
    end_session(&state, lang, &headers, current, Params::lenient(encoded.as_bytes()), true).await
}

async fn end_session(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    current: Option<mitsprache_hub::Current>,
    params: Params,
    confirmed: bool,
) -> Result<Response, WebError> {
    let mut r = match state.hub().end_session(&params, current.as_ref(), confirmed).await? {
        EndSession::Refused(Refusal::Mismatch) => {
            return Ok(problem_page(&lang, "oidc.error.logout_mismatch", StatusCode::BAD_REQUEST));
        }
        EndSession::Refused(Refusal::UnregisteredRedirect) => {
            return Ok(problem_page(&lang, "oidc.error.logout_redirect", StatusCode::BAD_REQUEST));
        }
        EndSession::Confirm { client_name, redirect } => {
            let fields = params.without("csrf");
            let mut r = render_form(state, headers, &lang, StatusCode::OK, |csrf| LogoutPage {
                ctx: Ctx::new(&lang, "/oidc/logout", None),
                csrf,
                client_name,
                fields,
            });
            if let Some(target) = &redirect {
                allow_form_target(&mut r, target);
            }
            return Ok(r);
        }
        EndSession::Done { redirect: Some(url), ended } => {
            let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response();
            if ended {
                session::clear(state, &mut r);
            }
            r
        }
        EndSession::Done { redirect: None, ended } => {
            let ctx = Ctx::new(&lang, "/oidc/logout", None);
            let page = MessagePage {
                title: ctx.t.get("logout.done-title").to_owned(),
                text: ctx.t.get("logout.done").to_owned(),
                ctx,
            };
            let mut r = render(&page, &lang, StatusCode::OK);
            if ended {
                session::clear(state, &mut r);
            }
            r
        }
    };
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
