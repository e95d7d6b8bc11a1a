//! The account page of a signed-in person: profile, connected tools, sessions, data export and
//! deletion.

use crate::error::WebError;
use crate::oidc::claim_labels;
use crate::render::{Ctx, Lang, message, render_form};
use crate::session::{self, CsrfForm, SignedIn};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_domain::{Locale, Role};
use mitsprache_hub::Error;
use serde::Deserialize;
use time::OffsetDateTime;

pub struct ToolRow {
    pub client_id: String,
    pub name: String,
    pub claims: Vec<String>,
    pub since: String,
}

pub struct SessionRow {
    pub since: String,
    pub device: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ctx: Ctx,
    csrf: String,
    email: String,
    email_verified: bool,
    name: String,
    locale: String,
    role: String,
    is_admin: bool,
    is_editor: bool,
    tools: Vec<ToolRow>,
    sessions: Vec<SessionRow>,
    has_password: bool,
    notice: Option<String>,
}

fn date(t: OffsetDateTime, locale: Locale) -> String {
    format!("{} {:02}:{:02} UTC", super::view::date(locale, t.date()), t.hour(), t.minute())
}

#[derive(Deserialize)]
pub struct AccountQuery {
    #[serde(default)]
    hinweis: String,
}

pub async fn account_page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    SignedIn(current): SignedIn,
    Query(q): Query<AccountQuery>,
) -> Result<Response, WebError> {
    let ctx = Ctx::new(&lang, "/konto", None);
    let overview = state.hub().account_overview(&current.account.id).await?;
    let tools = overview
        .consents
        .into_iter()
        .map(|c| ToolRow {
            claims: claim_labels(&ctx, c.consent.scope.values()),
            name: c.client.map(|cl| cl.name).unwrap_or_else(|| c.consent.client_id.clone()),
            since: date(c.consent.granted_at, lang.locale),
            client_id: c.consent.client_id,
        })
        .collect();
    let sessions = overview
        .sessions
        .into_iter()
        .map(|s| SessionRow {
            current: s.sid == current.session.sid,
            since: date(s.created_at, lang.locale),
            device: s.user_agent.unwrap_or_default(),
        })
        .collect();
    let notice = match q.hinweis.as_str() {
        "profil" | "widerrufen" | "abgemeldet" => Some(ctx.t.get(&format!("account.notice.{}", q.hinweis)).to_owned()),
        _ => None,
    };
    let a = &current.account;
    let mut r = render_form(&state, &headers, &lang, StatusCode::OK, |csrf| AccountPage {
        csrf,
        email: a.email.to_string(),
        email_verified: a.email_verified,
        name: a.name.clone().unwrap_or_default(),
        locale: a.locale.tag().to_owned(),
        role: ctx.t.get(&format!("role.{}", a.role.as_str())).to_owned(),
        is_admin: a.role == Role::Admin,
        is_editor: a.role.can_edit_catalogue(),
        tools,
        sessions,
        has_password: a.password_hash.is_some(),
        notice,
        ctx,
    });
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    locale: String,
}

pub async fn profile_submit(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(current): SignedIn,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> Result<Response, WebError> {
    let locale = Locale::from_tag(&form.locale).unwrap_or(lang.locale);
    state.hub().update_profile(&current.account.id, &form.name, locale).await?;
    Ok(Redirect::to("/konto?hinweis=profil").into_response())
}

#[derive(Deserialize)]
pub struct RevokeForm {
    client_id: String,
}

/// Withdraws consent for one tool: its grants end, so its tokens stop working.
pub async fn revoke_submit(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Result<Response, WebError> {
    state.hub().withdraw_consent(&current.account.id, &form.client_id).await?;
    Ok(Redirect::to("/konto?hinweis=widerrufen").into_response())
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout_everywhere(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(current): SignedIn,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, WebError> {
    state.hub().logout_everywhere(&current.account.id).await?;
    let mut r = message(&lang, "logout.done-title", "logout.everywhere", StatusCode::OK);
    session::clear(&state, &mut r);
    Ok(r)
}

/// Everything the hub holds about the person, as JSON (GDPR Art. 15 and 20).
pub async fn export(State(state): State<AppState>, SignedIn(current): SignedIn) -> Result<Response, WebError> {
    let mut r = axum::Json(state.hub().export(&current.account).await?).into_response();
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"mitsprache-daten.json\""),
    );
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    password: String,
}

/// Deletes the account in the hub and tells every tool it used: back-channel logout, and a
/// deletion event where the tool registered a receiver.
pub async fn delete_submit(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(current): SignedIn,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<Response, WebError> {
    match state.hub().delete_account(&current, &form.password).await {
        Ok(receipt) => {
            // 303 to the receipt, which shows each tool's delivery as it goes on.
            let mut r = Redirect::to(&format!("/konto/geloescht/{receipt}")).into_response();
            session::clear(&state, &mut r);
            Ok(r)
        }
        Err(Error::Unauthenticated) => {
            Ok(message(&lang, "account.delete-title", "account.delete-wrong-password", StatusCode::UNAUTHORIZED))
        }
        Err(e) => Err(e.into()),
    }
}
