//! Accounts in the browser: register, verify the e-mail address, log in and out, reset the
//! password, and the account page (profile, connected tools, sessions, data export, deletion).
//!
//! Answers never reveal whether an address has an account: login failures, registrations with
//! a taken address and reset requests all look the same from outside, and unknown addresses
//! cost the same Argon2id work as known ones.

use super::{Ctx, Lang, render, render_form};
use crate::identity::mail::Mail;
use crate::identity::oidc::authorize::{allow_form_target, load_pending, problem_page};
use crate::identity::oidc::{OAuthError, logout};
use crate::identity::session::{self, ClientIp, Current, csrf_ok};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_domain::{Locale, Role};
use mitsprache_oidc::password;
use mitsprache_oidc::random::{digest, id, secret};
use mitsprache_store::{Account, SessionSelector, StoreError};
use serde::Deserialize;
use serde_json::json;

const VERIFY_SECONDS: i64 = 7 * 86_400;
const RESET_SECONDS: i64 = 3600;

type Result<T> = std::result::Result<T, OAuthError>;

fn page_error(e: impl Into<OAuthError>) -> Response {
    e.into().into_response()
}

/// Runs Argon2id on the hashing threads (see `identity::hashing`).
async fn blocking<T: Send + 'static>(state: &AppState, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    state.identity().hashing.run(f).await.ok_or_else(|| OAuthError::Internal("password hashing is unavailable".into()))
}

fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(email)
}

fn link(state: &AppState, path: &str, token: &str) -> String {
    format!("{}{path}?token={token}", state.identity().config.issuer)
}

/// Sends the mail `key` (every mail carries one link).
async fn send(state: &AppState, to: &str, locale: Locale, key: &str, link: &str) {
    let t = mitsprache_i18n::messages(locale);
    let mail = Mail {
        to: to.to_owned(),
        subject: t.get(&format!("mail.{key}.subject")).to_owned(),
        body: t.fmt(&format!("mail.{key}.body"), &[("link", &link)]).replace("\\n", "\n"),
    };
    if let Err(e) = state.identity().mailer.send(mail).await {
        // The address is personal data; the error and the purpose are enough to act on.
        tracing::error!(error = %e, purpose = key, "sending mail failed");
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

pub async fn login_page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        let pending = if q.anfrage.is_empty() { None } else { load_pending(&state, &q.anfrage).await? };
        if pending.is_none() && session::current(&state, &headers).await?.is_some() {
            return Ok(Redirect::to("/konto").into_response());
        }
        let email = pending.as_ref().and_then(|(r, _, _)| r.login_hint.clone()).unwrap_or_default();
        Ok(login_form(
            &state,
            &lang,
            &headers,
            &q.anfrage,
            email,
            None,
            pending.as_ref().map(|p| (&p.1.name, &p.0.redirect_uri)),
            StatusCode::OK,
        ))
    });
    run.await.unwrap_or_else(page_error)
}

#[allow(clippy::too_many_arguments)]
fn login_form(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    reference: &str,
    email: String,
    error: Option<String>,
    client: Option<(&String, &String)>,
    status: StatusCode,
) -> Response {
    let ctx = Ctx::new(lang, "/anmelden", None);
    let mut r = render_form(state, headers, lang, status, |csrf| LoginPage {
        csrf,
        reference: reference.to_owned(),
        email,
        error,
        client_name: client.map(|c| c.0.clone()),
        open_registration: state.identity().config.open_registration,
        upstream: state.identity().config.upstream.iter().map(|u| (u.id.clone(), u.name.clone())).collect(),
        ctx,
    });
    if let Some((_, redirect_uri)) = client {
        allow_form_target(&mut r, redirect_uri);
    }
    r
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: String,
    #[serde(default)]
    anfrage: String,
}

/// Where to go after a login or registration: the pending authorization, or the account page.
fn after_login(reference: &str) -> String {
    if reference.is_empty() { "/konto".into() } else { format!("/oidc/authorize/weiter?anfrage={reference}") }
}

pub async fn login_submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        let pending = if form.anfrage.is_empty() { None } else { load_pending(&state, &form.anfrage).await? };
        let client = pending.as_ref().map(|p| (&p.1.name, &p.0.redirect_uri));
        let t = mitsprache_i18n::messages(lang.locale);
        let again = |error: String, status| {
            login_form(&state, &lang, &headers, &form.anfrage, form.email.clone(), Some(error), client, status)
        };
        if !csrf_ok(&state, &headers, &form.csrf) {
            return Ok(again(t.get("form.csrf").to_owned(), StatusCode::FORBIDDEN));
        }
        let config = &state.identity().config;
        let now = state.clock().now().unix_timestamp();
        let email = form.email.trim().to_lowercase();
        let store = state.store().identity();
        let account_bucket = format!("login:account:{}", digest(&email));
        let ip_bucket = format!("login:ip:{ip}");
        let (account_hits, account_until) = store.hits(&account_bucket, now, config.login_window).await?;
        let (ip_hits, ip_until) = store.hits(&ip_bucket, now, config.login_window).await?;
        if account_hits >= config.login_attempts || ip_hits >= config.login_attempts * 6 {
            let until = if account_hits >= config.login_attempts { account_until } else { ip_until };
            let minutes = ((until - now) + 59) / 60;
            tracing::warn!(%ip, "login refused: too many failed attempts");
            return Ok(again(
                t.fmt("login.rate-limited", &[("minutes", &minutes.max(1))]),
                StatusCode::TOO_MANY_REQUESTS,
            ));
        }
        let account = store.account_by_email(&email).await?;
        let cost = config.password_cost;
        let stored = account.as_ref().and_then(|a| a.password_hash.clone());
        let decoy = state.identity().decoy_hash(cost).await;
        let presented = form.password.clone();
        let (ok, rehash) = blocking(&state, move || {
            let hash = stored.as_deref().unwrap_or(&decoy);
            let ok = password::verify(&presented, hash).unwrap_or(false) && stored.is_some();
            let rehash = ok && password::needs_rehash(hash, cost);
            (ok, rehash.then(|| password::hash(&presented, cost, &mitsprache_oidc::random::OsRandom)))
        })
        .await?;
        let Some(account) = account.filter(|_| ok) else {
            store.hit(&account_bucket, now, config.login_window).await?;
            store.hit(&ip_bucket, now, config.login_window).await?;
            tracing::info!(%ip, "login failed");
            return Ok(again(t.get("login.failed").to_owned(), StatusCode::UNAUTHORIZED));
        };
        store.clear_hits(&account_bucket).await?;
        if let Some(Ok(hash)) = rehash {
            store.set_password(&account.id, &hash, now).await?;
            tracing::info!("password rehashed with the current Argon2id parameters");
        }
        let mut r = Redirect::to(&after_login(&form.anfrage)).into_response();
        session::start(&state, &account.id, "pwd", &headers, &mut r).await?;
        Ok(r)
    });
    run.await.unwrap_or_else(page_error)
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

#[allow(clippy::too_many_arguments)]
fn register_form(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    reference: &str,
    email: &str,
    name: &str,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
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
) -> Response {
    if !state.identity().config.open_registration {
        return problem_page(&lang, "register.closed", StatusCode::NOT_FOUND);
    }
    register_form(&state, &lang, &headers, &q.anfrage, "", "", Vec::new(), StatusCode::OK)
}

#[derive(Deserialize)]
pub struct RegisterForm {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
    csrf: String,
    #[serde(default)]
    anfrage: String,
}

pub async fn register_submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<RegisterForm>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        if !state.identity().config.open_registration {
            return Ok(problem_page(&lang, "register.closed", StatusCode::NOT_FOUND));
        }
        let t = mitsprache_i18n::messages(lang.locale);
        let again = |errors: Vec<String>, status| {
            register_form(&state, &lang, &headers, &form.anfrage, &form.email, &form.name, errors, status)
        };
        if !csrf_ok(&state, &headers, &form.csrf) {
            return Ok(again(vec![t.get("form.csrf").to_owned()], StatusCode::FORBIDDEN));
        }
        let now = state.clock().now().unix_timestamp();
        let store = state.store().identity();
        if store.hit(&format!("register:ip:{ip}"), now, 3600).await? > 20 {
            return Ok(again(vec![t.fmt("login.rate-limited", &[("minutes", &60)])], StatusCode::TOO_MANY_REQUESTS));
        }
        let mut errors = Vec::new();
        let email = normalize_email(&form.email);
        if email.is_none() {
            errors.push(t.get("register.email-invalid").to_owned());
        }
        if let Err(e) = password::check_policy(&form.password) {
            errors.push(match e {
                password::PasswordError::TooLong => t.fmt("register.password-long", &[("max", &password::MAX_LENGTH)]),
                _ => t.fmt("register.password-short", &[("min", &password::MIN_LENGTH)]),
            });
        }
        let name = form.name.trim().chars().take(200).collect::<String>();
        let (Some(email), true) = (email, errors.is_empty()) else {
            return Ok(again(errors, StatusCode::UNPROCESSABLE_ENTITY));
        };
        let cost = state.identity().config.password_cost;
        let presented = form.password.clone();
        let hash = blocking(&state, move || password::hash(&presented, cost, &mitsprache_oidc::random::OsRandom))
            .await?
            .map_err(|e| OAuthError::Internal(e.to_string()))?;
        let account = Account {
            id: id(state.random()),
            email: email.clone(),
            email_verified: false,
            password_hash: Some(hash),
            name: (!name.is_empty()).then_some(name),
            locale: lang.locale.tag().to_owned(),
            role: Role::Citizen,
            created_at: now,
            updated_at: now,
        };
        match store.create_account(&account).await {
            Ok(()) => {
                send_verification(&state, &account).await?;
                tracing::info!("account registered");
                let mut r = Redirect::to(&after_login(&form.anfrage)).into_response();
                session::start(&state, &account.id, "pwd", &headers, &mut r).await?;
                Ok(r)
            }
            Err(StoreError::Conflict(_)) => {
                // Same answer as a new registration; the owner of the address learns by mail.
                let existing = store.account_by_email(&email).await?;
                let locale = existing.as_ref().and_then(|a| Locale::from_tag(&a.locale)).unwrap_or(lang.locale);
                let reset = format!("{}/passwort-vergessen", state.identity().config.issuer);
                send(&state, &email, locale, "taken", &reset).await;
                Ok(message(&lang, "register.check-mail-title", "register.check-mail", StatusCode::OK))
            }
            Err(e) => Err(e.into()),
        }
    });
    run.await.unwrap_or_else(page_error)
}

async fn send_verification(state: &AppState, account: &Account) -> Result<()> {
    let token = secret(state.random());
    let now = state.clock().now().unix_timestamp();
    state.store().identity().add_email_token(&digest(&token), &account.id, "verify", now + VERIFY_SECONDS).await?;
    let locale = Locale::from_tag(&account.locale).unwrap_or_default();
    send(state, &account.email, locale, "verify", &link(state, "/email-bestaetigen", &token)).await;
    Ok(())
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn verify_email(State(state): State<AppState>, lang: Lang, Query(q): Query<TokenQuery>) -> Response {
    let run = crate::identity::oidc::typed(async {
        let now = state.clock().now().unix_timestamp();
        match state.store().identity().consume_email_token(&digest(&q.token), "verify", now).await? {
            Some(account_id) => {
                state.store().identity().mark_verified(&account_id, now).await?;
                Ok(message(&lang, "verify.done-title", "verify.done", StatusCode::OK))
            }
            None => Ok(message(&lang, "verify.invalid-title", "verify.invalid", StatusCode::BAD_REQUEST)),
        }
    });
    run.await.unwrap_or_else(page_error)
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
    csrf: String,
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        if !csrf_ok(&state, &headers, &form.csrf) {
            return Ok(problem_page(&lang, "form.csrf", StatusCode::FORBIDDEN));
        }
        let now = state.clock().now().unix_timestamp();
        let store = state.store().identity();
        let email = form.email.trim().to_lowercase();
        // Limits mail sent to one address and requests from one client.
        let allowed = store.hit(&format!("reset:ip:{ip}"), now, 3600).await? <= 20
            && store.hit(&format!("reset:account:{}", digest(&email)), now, 3600).await? <= 3;
        if allowed && let Some(account) = store.account_by_email(&email).await? {
            let token = secret(state.random());
            store.add_email_token(&digest(&token), &account.id, "reset", now + RESET_SECONDS).await?;
            let locale = Locale::from_tag(&account.locale).unwrap_or_default();
            send(&state, &account.email, locale, "reset", &link(&state, "/passwort-neu", &token)).await;
        }
        Ok(message(&lang, "forgot.sent-title", "forgot.sent", StatusCode::OK))
    });
    run.await.unwrap_or_else(page_error)
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
) -> Response {
    let run = crate::identity::oidc::typed(async {
        let now = state.clock().now().unix_timestamp();
        if !state.store().identity().email_token_valid(&digest(&q.token), "reset", now).await? {
            return Ok(message(&lang, "verify.invalid-title", "reset.invalid", StatusCode::BAD_REQUEST));
        }
        Ok(reset_form(&state, &lang, &headers, &q.token, None, StatusCode::OK))
    });
    run.await.unwrap_or_else(page_error)
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: String,
    password: String,
    csrf: String,
}

pub async fn reset_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        let t = mitsprache_i18n::messages(lang.locale);
        if !csrf_ok(&state, &headers, &form.csrf) {
            return Ok(reset_form(
                &state,
                &lang,
                &headers,
                &form.token,
                Some(t.get("form.csrf").to_owned()),
                StatusCode::FORBIDDEN,
            ));
        }
        if password::check_policy(&form.password).is_err() {
            let e = t.fmt("register.password-short", &[("min", &password::MIN_LENGTH)]);
            return Ok(reset_form(&state, &lang, &headers, &form.token, Some(e), StatusCode::UNPROCESSABLE_ENTITY));
        }
        let now = state.clock().now().unix_timestamp();
        let store = state.store().identity();
        let Some(account_id) = store.consume_email_token(&digest(&form.token), "reset", now).await? else {
            return Ok(message(&lang, "verify.invalid-title", "reset.invalid", StatusCode::BAD_REQUEST));
        };
        let cost = state.identity().config.password_cost;
        let presented = form.password.clone();
        let hash = blocking(&state, move || password::hash(&presented, cost, &mitsprache_oidc::random::OsRandom))
            .await?
            .map_err(|e| OAuthError::Internal(e.to_string()))?;
        store.set_password(&account_id, &hash, now).await?;
        // The mail proved control of the address, so it is verified too.
        store.mark_verified(&account_id, now).await?;
        // Whoever knew the old password is logged out everywhere.
        logout::end(&state, SessionSelector::Account(&account_id), &account_id).await?;
        store
            .clear_hits(&format!(
                "login:account:{}",
                digest(&store.account(&account_id).await?.map(|a| a.email).unwrap_or_default())
            ))
            .await?;
        tracing::info!("password reset");
        let mut r = message(&lang, "reset.done-title", "reset.done", StatusCode::OK);
        session::clear(&state, &mut r);
        Ok(r)
    });
    run.await.unwrap_or_else(page_error)
}

// ---- logout ----------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        if !csrf_ok(&state, &headers, &form.csrf) {
            return Ok(problem_page(&lang, "form.csrf", StatusCode::FORBIDDEN));
        }
        if let Some(current) = session::current(&state, &headers).await? {
            logout::end(&state, SessionSelector::Digest(&current.digest), &current.account.id).await?;
        }
        let mut r = message(&lang, "logout.done-title", "logout.done", StatusCode::OK);
        session::clear(&state, &mut r);
        Ok(r)
    });
    run.await.unwrap_or_else(page_error)
}

// ---- the account page ------------------------------------------------------------------

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
    tools: Vec<ToolRow>,
    sessions: Vec<SessionRow>,
    has_password: bool,
    notice: Option<String>,
}

/// The signed-in person of a form submission that carries its CSRF token, or what to answer
/// instead (the login page, or 403).
async fn form_session(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<std::result::Result<Current, Response>> {
    let current = match require(state, headers).await? {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    if !csrf_ok(state, headers, csrf) {
        return Ok(Err(problem_page(lang, "form.csrf", StatusCode::FORBIDDEN)));
    }
    Ok(Ok(current))
}

async fn require(state: &AppState, headers: &HeaderMap) -> Result<std::result::Result<Current, Response>> {
    match session::current(state, headers).await? {
        Some(c) => Ok(Ok(c)),
        None => Ok(Err(Redirect::to("/anmelden").into_response())),
    }
}

fn date(ts: i64, locale: Locale) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{} {:02}:{:02} UTC", super::view::date(locale, d.date()), d.hour(), d.minute())
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
    Query(q): Query<AccountQuery>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        let current = match require(&state, &headers).await? {
            Ok(c) => c,
            Err(r) => return Ok(r),
        };
        let ctx = Ctx::new(&lang, "/konto", None);
        let store = state.store().identity();
        let now = state.clock().now().unix_timestamp();
        let mut tools = Vec::new();
        for consent in store.consents_of(&current.account.id).await? {
            let name =
                store.client(&consent.client_id).await?.map(|c| c.name).unwrap_or_else(|| consent.client_id.clone());
            let scope = crate::identity::oidc::scope_list(&consent.scope);
            tools.push(ToolRow {
                claims: crate::identity::oidc::authorize::claim_labels(&ctx, &scope),
                client_id: consent.client_id,
                name,
                since: date(consent.granted_at, lang.locale),
            });
        }
        let sessions = store
            .sessions_of(&current.account.id, now)
            .await?
            .into_iter()
            .map(|s| SessionRow {
                current: s.sid == current.session.sid,
                since: date(s.created_at, lang.locale),
                device: s.user_agent.unwrap_or_default(),
            })
            .collect();
        let notice = match q.hinweis.as_str() {
            "profil" | "widerrufen" | "abgemeldet" => {
                Some(ctx.t.get(&format!("account.notice.{}", q.hinweis)).to_owned())
            }
            _ => None,
        };
        let a = &current.account;
        let mut r = render_form(&state, &headers, &lang, StatusCode::OK, |csrf| AccountPage {
            csrf,
            email: a.email.clone(),
            email_verified: a.email_verified,
            name: a.name.clone().unwrap_or_default(),
            locale: a.locale.clone(),
            role: ctx.t.get(&format!("role.{}", a.role.as_str())).to_owned(),
            is_admin: a.role == Role::Admin,
            tools,
            sessions,
            has_password: a.password_hash.is_some(),
            notice,
            ctx,
        });
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(r)
    });
    run.await.unwrap_or_else(page_error)
}

#[derive(Deserialize)]
pub struct ProfileForm {
    csrf: String,
    #[serde(default)]
    name: String,
    locale: String,
}

pub async fn profile_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<ProfileForm>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        let current = match form_session(&state, &lang, &headers, &form.csrf).await? {
            Ok(c) => c,
            Err(r) => return Ok(r),
        };
        let locale = Locale::from_tag(&form.locale).unwrap_or(lang.locale);
        let name: String = form.name.trim().chars().take(200).collect();
        let now = state.clock().now().unix_timestamp();
        state
            .store()
            .identity()
            .set_profile(&current.account.id, (!name.is_empty()).then_some(name.as_str()), locale.tag(), now)
            .await?;
        Ok(Redirect::to("/konto?hinweis=profil").into_response())
    });
    run.await.unwrap_or_else(page_error)
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
    client_id: String,
}

/// Withdraws consent for one tool: its grants end, so its tokens stop working.
pub async fn revoke_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<RevokeForm>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        let current = match form_session(&state, &lang, &headers, &form.csrf).await? {
            Ok(c) => c,
            Err(r) => return Ok(r),
        };
        let now = state.clock().now().unix_timestamp();
        state.store().identity().revoke_consent(&current.account.id, &form.client_id, now).await?;
        Ok(Redirect::to("/konto?hinweis=widerrufen").into_response())
    });
    run.await.unwrap_or_else(page_error)
}

pub async fn logout_everywhere(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        let current = match form_session(&state, &lang, &headers, &form.csrf).await? {
            Ok(c) => c,
            Err(r) => return Ok(r),
        };
        logout::end(&state, SessionSelector::Account(&current.account.id), &current.account.id).await?;
        let mut r = message(&lang, "logout.done-title", "logout.everywhere", StatusCode::OK);
        session::clear(&state, &mut r);
        Ok(r)
    });
    run.await.unwrap_or_else(page_error)
}

/// Everything the hub holds about the person, as JSON (GDPR Art. 15 and 20).
pub async fn export(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let run = crate::identity::oidc::typed(async {
        let current = match require(&state, &headers).await? {
            Ok(c) => c,
            Err(r) => return Ok(r),
        };
        let store = state.store().identity();
        let a = &current.account;
        let now = state.clock().now().unix_timestamp();
        let mut tools = Vec::new();
        for g in store.grants_of(&a.id).await? {
            let client = store.client(&g.client_id).await?;
            tools.push(json!({
                "client_id": g.client_id,
                "tool": client.as_ref().map(|c| c.name.clone()),
                "subject_seen_by_tool": client.as_ref().map(|c| crate::identity::oidc::subject_for(&state, c, &a.id)),
                "scope": g.scope,
                "granted_at": g.created_at,
            }));
        }
        let body = json!({
            "account": {
                "id": a.id,
                "email": a.email,
                "email_verified": a.email_verified,
                "name": a.name,
                "locale": a.locale,
                "role": a.role.as_str(),
                "has_password": a.password_hash.is_some(),
                "created_at": a.created_at,
                "updated_at": a.updated_at,
            },
            "consents": store.consents_of(&a.id).await?.into_iter().map(|c| json!({"client_id": c.client_id, "scope": c.scope, "granted_at": c.granted_at})).collect::<Vec<_>>(),
            "grants": tools,
            "sessions": store.sessions_of(&a.id, now).await?.into_iter().map(|s| json!({"created_at": s.created_at, "auth_time": s.auth_time, "expires_at": s.expires_at, "user_agent": s.user_agent})).collect::<Vec<_>>(),
            "upstream_logins": store.links_of(&a.id).await?.into_iter().map(|(p, s)| json!({"provider": p, "subject": s})).collect::<Vec<_>>(),
        });
        let mut r = axum::Json(body).into_response();
        r.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"mitsprache-daten.json\""),
        );
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(r)
    });
    run.await.unwrap_or_else(page_error)
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: String,
    #[serde(default)]
    password: String,
}

/// Deletes the account in the hub and tells every tool it used, by back-channel logout.
pub async fn delete_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<DeleteForm>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        let current = match form_session(&state, &lang, &headers, &form.csrf).await? {
            Ok(c) => c,
            Err(r) => return Ok(r),
        };
        if let Some(hash) = current.account.password_hash.clone() {
            let presented = form.password.clone();
            if !blocking(&state, move || password::verify(&presented, &hash).unwrap_or(false)).await? {
                return Ok(message(
                    &lang,
                    "account.delete-title",
                    "account.delete-wrong-password",
                    StatusCode::UNAUTHORIZED,
                ));
            }
        }
        let pairs = state.store().identity().delete_account(&current.account.id).await?;
        logout::notify(&state, &current.account.id, &pairs).await?;
        tracing::info!("account deleted");
        let mut r = message(&lang, "account.deleted-title", "account.deleted", StatusCode::OK);
        session::clear(&state, &mut r);
        Ok(r)
    });
    run.await.unwrap_or_else(page_error)
}

/// A short page with a title and one paragraph.
pub fn message(lang: &Lang, title: &str, text: &str, status: StatusCode) -> Response {
    let ctx = Ctx::new(lang, "/konto", None);
    let page = super::MessagePage { title: ctx.t.get(title).to_owned(), text: ctx.t.get(text).to_owned(), ctx };
    render(&page, lang, status)
}
