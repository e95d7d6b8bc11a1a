//! Signing in and out in the browser: login, registration, address verification, password
//! reset, logout. The rules (limits, the one answer for known and unknown addresses) are the
//! hub's; these handlers show its answers.

use crate::error::WebError;
use crate::oidc::{allow_form_target, problem_page};
use crate::render::{Ctx, Lang, message, render_form};
use crate::session::{self, ClientIp, CsrfForm, MaybeSignedIn};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_catalogue::ValidationError;
use mitsprache_hub::accounts::{Login, Registration, Reset};
use mitsprache_hub::authorize::{PendingAuthorization, is_reference};
use mitsprache_hub::logout::SessionSelector;
use mitsprache_hub::{Error, Forbidden};
use mitsprache_oidc::grant::Amr;
use mitsprache_oidc::password;
use serde::Deserialize;

/// The reference of an interrupted authorization request (`anfrage`): empty, or what the hub
/// made. Anything else (control characters, a foreign URL) is refused before it reaches a
/// redirect or the store.
fn reference(anfrage: &str) -> Result<Option<&str>, WebError> {
    match anfrage {
        "" => Ok(None),
        r if is_reference(r) => Ok(Some(r)),
        _ => Err(WebError(Error::Invalid { field: "anfrage".into(), message: "is no request of this hub".into() })),
    }
}

/// Where to go after a login: the pending authorization, or the account page.
fn after_login(reference: Option<&str>) -> String {
    match reference {
        None => "/konto".into(),
        Some(r) => format!("/oidc/authorize/weiter?anfrage={r}"),
    }
}

// ---- login -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: Ctx,
    csrf: String,
    reference: String,
    email: String,
    error: Option<String>,
    client_name: Option<String>,
    open_registration: bool,
    upstream: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    anfrage: String,
}

/// The login form, for a pending authorization when there is one.
fn login_form(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    pending: Option<&PendingAuthorization>,
    email: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let config = state.hub().config();
    let mut r = render_form(state, headers, lang, status, |csrf| LoginPage {
        ctx: Ctx::new(lang, "/anmelden", None),
        csrf,
        reference: pending.map(|p| p.reference.clone()).unwrap_or_default(),
        email,
        error,
        client_name: pending.map(|p| p.client.name.clone()),
        open_registration: config.open_registration,
        upstream: config.upstream.iter().map(|u| (u.id.clone(), u.name.clone())).collect(),
    });
    if let Some(p) = pending {
        allow_form_target(&mut r, &p.request.redirect_uri);
    }
    r
}

async fn pending(state: &AppState, anfrage: &str) -> Result<Option<PendingAuthorization>, WebError> {
    match reference(anfrage)? {
        Some(r) => Ok(state.hub().pending_authorization(r).await?),
        None => Ok(None),
    }
}

pub async fn login_page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    MaybeSignedIn(current): MaybeSignedIn,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let pending = pending(&state, &q.anfrage).await?;
    if pending.is_none() && current.is_some() {
        return Ok(Redirect::to("/konto").into_response());
    }
    // A subject hint (no @) is for the hub, not for the address field.
    let email =
        pending.as_ref().and_then(|p| p.request.login_hint.clone()).filter(|h| h.contains('@')).unwrap_or_default();
    Ok(login_form(&state, &lang, &headers, pending.as_ref(), email, None, StatusCode::OK))
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    anfrage: String,
}

pub async fn login_submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, WebError> {
    let reference = reference(&form.anfrage)?;
    let pending = match reference {
        Some(r) => state.hub().pending_authorization(r).await?,
        None => None,
    };
    let t = mitsprache_i18n::messages(lang.locale);
    let again = |error: String, status| {
        login_form(&state, &lang, &headers, pending.as_ref(), form.email.clone(), Some(error), status)
    };
    let login = Login { email: &form.email, password: &form.password, ip: &ip };
    let account = match state.hub().login(login).await {
        Ok(account) => account,
        Err(Error::Unauthenticated) => return Ok(again(t.get("login.failed").to_owned(), StatusCode::UNAUTHORIZED)),
        Err(Error::RateLimited { retry_after }) => {
            let minutes = (retry_after.whole_seconds() + 59) / 60;
            let text = t.fmt("login.rate-limited", &[("minutes", &minutes.max(1))]);
            return Ok(again(text, StatusCode::TOO_MANY_REQUESTS));
        }
        Err(Error::Forbidden(Forbidden::Unverified)) => {
            return Ok(again(t.get("login.unverified").to_owned(), StatusCode::FORBIDDEN));
        }
        Err(e) => return Err(e.into()),
    };
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let started = state.hub().start_session(&account.id, Amr::Pwd, user_agent).await?;
    let mut r = Redirect::to(&after_login(reference)).into_response();
    session::set_session(&state, &mut r, &started);
    Ok(r)
}

// ---- registration and verification -----------------------------------------------------

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    ctx: Ctx,
    csrf: String,
    reference: String,
    email: String,
    name: String,
    errors: Vec<String>,
    min_length: usize,
}

fn register_form(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    form: (&str, &str, &str),
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let (reference, email, name) = form;
    render_form(state, headers, lang, status, |csrf| RegisterPage {
        ctx: Ctx::new(lang, "/registrieren", None),
        csrf,
        reference: reference.to_owned(),
        email: email.to_owned(),
        name: name.to_owned(),
        errors,
        min_length: password::MIN_LENGTH,
    })
}

pub async fn register_page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    if !state.hub().config().open_registration {
        return Ok(problem_page(&lang, "register.closed", StatusCode::NOT_FOUND));
    }
    let reference = reference(&q.anfrage)?.unwrap_or_default();
    Ok(register_form(&state, &lang, &headers, (reference, "", ""), Vec::new(), StatusCode::OK))
}

#[derive(Deserialize)]
pub struct RegisterForm {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    anfrage: String,
}

/// The text of a field problem the hub reported.
fn field_message(t: &mitsprache_i18n::Messages, e: &ValidationError) -> String {
    match (e.field.as_str(), e.message.as_str()) {
        ("email", _) => t.get("register.email-invalid").to_owned(),
        ("password", "too-long") => t.fmt("register.password-long", &[("max", &password::MAX_LENGTH)]),
        ("password", "too-short") => t.fmt("register.password-short", &[("min", &password::MIN_LENGTH)]),
        ("password", "control") => t.get("register.password-control").to_owned(),
        _ => t.get("register.password-guessable").to_owned(),
    }
}

pub async fn register_submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> Result<Response, WebError> {
    if !state.hub().config().open_registration {
        return Ok(problem_page(&lang, "register.closed", StatusCode::NOT_FOUND));
    }
    let reference = reference(&form.anfrage)?;
    let t = mitsprache_i18n::messages(lang.locale);
    let registration = Registration {
        email: &form.email,
        password: &form.password,
        name: &form.name,
        locale: lang.locale,
        ip: &ip,
        pending: reference,
    };
    match state.hub().register(registration).await {
        // New address or taken: the same page, and nobody is signed in before the address is confirmed.
        Ok(()) => Ok(message(&lang, "register.check-mail-title", "register.check-mail", StatusCode::OK)),
        Err(Error::Validation(problems)) => {
            let errors = problems.iter().map(|e| field_message(t, e)).collect();
            let fields = (reference.unwrap_or_default(), form.email.as_str(), form.name.as_str());
            Ok(register_form(&state, &lang, &headers, fields, errors, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    anfrage: String,
}

#[derive(Template)]
#[template(path = "verified.html")]
struct VerifiedPage {
    ctx: Ctx,
    login: String,
}

pub async fn verify_email(
    State(state): State<AppState>,
    lang: Lang,
    Query(q): Query<TokenQuery>,
) -> Result<Response, WebError> {
    if !state.hub().verify_email(&q.token).await? {
        return Ok(message(&lang, "verify.invalid-title", "verify.invalid", StatusCode::BAD_REQUEST));
    }
    // The registration may have interrupted a tool's login: the login continues it.
    let login = match reference(&q.anfrage).ok().flatten() {
        Some(r) => format!("/anmelden?anfrage={r}"),
        None => "/anmelden".into(),
    };
    Ok(crate::render::render(
        &VerifiedPage { ctx: Ctx::new(&lang, "/email-bestaetigen", None), login },
        &lang,
        StatusCode::OK,
    ))
}

// ---- password reset --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    ctx: Ctx,
    csrf: String,
}

pub async fn forgot_page(State(state): State<AppState>, lang: Lang, headers: HeaderMap) -> Response {
    render_form(&state, &headers, &lang, StatusCode::OK, |csrf| ForgotPage {
        ctx: Ctx::new(&lang, "/passwort-vergessen", None),
        csrf,
    })
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> Result<Response, WebError> {
    state.hub().request_reset(&form.email, &ip).await?;
    Ok(message(&lang, "forgot.sent-title", "forgot.sent", StatusCode::OK))
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    ctx: Ctx,
    csrf: String,
    token: String,
    error: Option<String>,
    min_length: usize,
}

fn reset_form(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    token: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let mut r = render_form(state, headers, lang, status, |csrf| ResetPage {
        ctx: Ctx::new(lang, "/passwort-neu", None),
        csrf,
        token: token.to_owned(),
        error,
        min_length: password::MIN_LENGTH,
    });
    // The token is in the URL: keep it out of Referer headers.
    r.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

pub async fn reset_page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Response, WebError> {
    if !state.hub().reset_link_valid(&q.token).await? {
        return Ok(message(&lang, "verify.invalid-title", "reset.invalid", StatusCode::BAD_REQUEST));
    }
    Ok(reset_form(&state, &lang, &headers, &q.token, None, StatusCode::OK))
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: String,
    password: String,
}

pub async fn reset_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<Response, WebError> {
    let t = mitsprache_i18n::messages(lang.locale);
    match state.hub().reset_password(&form.token, &form.password).await {
        Ok(Reset::Done) => {
            let mut r = message(&lang, "reset.done-title", "reset.done", StatusCode::OK);
            session::clear(&state, &mut r);
            Ok(r)
        }
        Ok(Reset::InvalidLink) => Ok(message(&lang, "verify.invalid-title", "reset.invalid", StatusCode::BAD_REQUEST)),
        Err(Error::Validation(problems)) => {
            let error = problems.first().map(|e| field_message(t, e));
            Ok(reset_form(&state, &lang, &headers, &form.token, error, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e.into()),
    }
}

// ---- logout ----------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout_submit(
    State(state): State<AppState>,
    lang: Lang,
    MaybeSignedIn(current): MaybeSignedIn,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, WebError> {
    if let Some(current) = current {
        state.hub().logout(SessionSelector::Digest(&current.digest)).await?;
    }
    let mut r = message(&lang, "logout.done-title", "logout.done", StatusCode::OK);
    session::clear(&state, &mut r);
    Ok(r)
}
