//! The front channel: the authorization endpoint, the continuation after login, the consent
//! screen and the delivery of the response (303 redirect or form post).
//!
//! A validated request that needs a login or a consent is kept in the store under a random
//! reference (`anfrage`), so any instance can continue it. A request whose client or redirect
//! URI is wrong is answered with a page and never redirected (RFC 9700 §4.11).

use super::{OAuthError, scope_list};
use crate::identity::session::{self, Current, csrf_ok};
use crate::pages::{Ctx, Lang, render, render_form};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_domain::Locale;
use mitsprache_oidc::authorize::{self as az, AuthorizeError, AuthorizeRequest, Delivery, ErrorResponse};
use mitsprache_oidc::client::Client;
use mitsprache_oidc::random::{digest, id, secret};
use mitsprache_store::Grant;
use serde::Deserialize;
use url::Url;

/// How long a person has to log in and consent before the request must be started again.
const PENDING_SECONDS: i64 = 30 * 60;

pub async fn authorize_get(
    state: State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params: Vec<(String, String)> =
        form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    authorize(state, lang, headers, params).await
}

pub async fn authorize_post(
    state: State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    authorize(state, lang, headers, params).await
}

async fn authorize(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    params: Vec<(String, String)>,
) -> Response {
    let client = match az::client_id(&params) {
        Ok(id) => match super::client(&state, id).await {
            Ok(c) => c,
            Err(e) => return OAuthError::Store(e).into_response(),
        },
        Err(_) => None,
    };
    let request = match az::validate(&params, client.as_deref()) {
        Ok(r) => r,
        Err(AuthorizeError::Page(e)) => {
            tracing::info!(reason = %e, "authorization request refused with a page");
            return problem_page(&lang, &format!("oidc.error.{}", e.code()), StatusCode::BAD_REQUEST);
        }
        Err(AuthorizeError::Redirect(e)) => return deliver(e.deliver(&state.identity().config.issuer)),
    };
    let Some(client) = client else { return problem_page(&lang, "oidc.error.unknown_client", StatusCode::BAD_REQUEST) };
    let current = match session::current(&state, &headers).await {
        Ok(c) => c,
        Err(e) => return OAuthError::Store(e).into_response(),
    };
    proceed(&state, &client, request, current, None).await.unwrap_or_else(IntoResponse::into_response)
}

/// What the request still needs, given the session; `login_after` is when the pending request
/// was created (a login after it satisfies `prompt=login` and `max_age`).
async fn proceed(
    state: &AppState,
    client: &Client,
    request: AuthorizeRequest,
    current: Option<Current>,
    pending: Option<(String, i64)>,
) -> Result<Response, OAuthError> {
    let now = state.clock().now().unix_timestamp();
    let issuer = state.identity().config.issuer.clone();
    let fail = |error: &'static str, description: &str| {
        let e = ErrorResponse {
            redirect_uri: request.redirect_uri.clone(),
            response_mode: request.response_mode,
            state: request.state.clone(),
            error,
            description: description.to_owned(),
        };
        deliver(e.deliver(&issuer))
    };
    let fresh_login = |c: &Current| pending.as_ref().is_some_and(|(_, created)| c.session.auth_time >= *created);
    let hinted_subject = match &request.id_token_hint {
        Some(hint) => match hint_subject(state, client, hint) {
            Some(sub) => Some(sub),
            None => {
                return Ok(fail(
                    "invalid_request",
                    "id_token_hint is not an ID token of this provider for this client",
                ));
            }
        },
        None => None,
    };
    let needs_login = match &current {
        None => true,
        Some(c) => {
            let too_old = request.max_age.is_some_and(|max| now - c.session.auth_time > max);
            let other_person =
                hinted_subject.as_ref().is_some_and(|s| *s != super::subject_for(state, client, &c.account.id));
            !fresh_login(c) && (request.prompt.login || too_old || other_person)
        }
    };
    if needs_login {
        if request.prompt.none {
            return Ok(fail("login_required", "no session satisfies the request"));
        }
        let reference = match &pending {
            Some((reference, _)) => reference.clone(),
            None => keep_pending(state, &request, now).await?,
        };
        let mut target = format!("/anmelden?anfrage={reference}");
        if let Some(l) = ui_locale(request.ui_locales.as_deref()) {
            target.push_str(&format!("&lang={}", l.tag()));
        }
        return Ok(Redirect::to(&target).into_response());
    }
    let Some(current) = current else { return Err(OAuthError::Internal("session vanished".into())) };
    let consented = client.first_party
        || state.store().identity().consent(&current.account.id, &client.id).await?.is_some_and(|c| {
            let granted = scope_list(&c.scope);
            request.scope.iter().all(|s| granted.contains(s))
        });
    let consent_just_given = pending.is_some()
        && request.prompt.consent
        && consented
        && fresh_consent(state, &current, client, &pending).await?;
    if !consented || (request.prompt.consent && !consent_just_given) {
        if request.prompt.none {
            return Ok(fail("consent_required", "the person has not agreed to share these claims with the tool"));
        }
        let reference = match &pending {
            Some((reference, _)) => reference.clone(),
            None => keep_pending(state, &request, now).await?,
        };
        return Ok(Redirect::to(&format!("/oidc/zustimmung?anfrage={reference}")).into_response());
    }
    if let Some((reference, _)) = &pending {
        state.store().identity().delete_pending(&digest(reference)).await?;
    }
    issue_code(state, client, &request, &current).await
}

/// Whether consent was recorded after the pending request was created (for `prompt=consent`).
async fn fresh_consent(
    state: &AppState,
    current: &Current,
    client: &Client,
    pending: &Option<(String, i64)>,
) -> Result<bool, OAuthError> {
    let Some((_, created)) = pending else { return Ok(false) };
    Ok(state
        .store()
        .identity()
        .consent(&current.account.id, &client.id)
        .await?
        .is_some_and(|c| c.granted_at >= *created))
}

/// The subject an `id_token_hint` names, if it is an ID token this provider issued to `client`
/// (expired ones are fine: OIDC Core §3.1.2.1).
fn hint_subject(state: &AppState, client: &Client, hint: &str) -> Option<String> {
    let claims = super::hint_claims(state, hint)?;
    if !mitsprache_oidc::jose::audience_includes(&claims, &client.id) {
        return None;
    }
    claims.get("sub").and_then(|v| v.as_str()).map(str::to_owned)
}

fn ui_locale(ui_locales: Option<&str>) -> Option<Locale> {
    ui_locales?.split(' ').find_map(Locale::from_tag)
}

async fn keep_pending(state: &AppState, request: &AuthorizeRequest, now: i64) -> Result<String, OAuthError> {
    let reference = secret(state.random());
    let json = serde_json::to_string(request).map_err(|e| OAuthError::Internal(e.to_string()))?;
    state.store().identity().put_pending(&digest(&reference), &json, now, now + PENDING_SECONDS).await?;
    Ok(reference)
}

/// A pending request with its client, by reference.
pub async fn load_pending(
    state: &AppState,
    reference: &str,
) -> Result<Option<(AuthorizeRequest, Client, i64)>, OAuthError> {
    let now = state.clock().now().unix_timestamp();
    let Some((json, created)) = state.store().identity().pending(&digest(reference), now).await? else {
        return Ok(None);
    };
    let request: AuthorizeRequest = serde_json::from_str(&json).map_err(|e| OAuthError::Internal(e.to_string()))?;
    let Some(client) = super::client(state, &request.client_id).await? else { return Ok(None) };
    Ok(Some((request, (*client).clone(), created)))
}

async fn issue_code(
    state: &AppState,
    client: &Client,
    request: &AuthorizeRequest,
    current: &Current,
) -> Result<Response, OAuthError> {
    let now = state.clock().now().unix_timestamp();
    let code = secret(state.random());
    let grant = Grant {
        id: id(state.random()),
        client_id: client.id.clone(),
        account_id: current.account.id.clone(),
        sid: Some(current.session.sid.clone()),
        scope: request.scope.join(" "),
        auth_time: current.session.auth_time,
        amr: current.session.amr.clone(),
        created_at: now,
        revoked_at: None,
    };
    let store = state.store().identity();
    store
        .create_grant_with_code(
            &grant,
            &digest(&code),
            &request.redirect_uri,
            &request.code_challenge,
            request.nonce.as_deref(),
            now + state.identity().config.lifetimes.code,
        )
        .await?;
    tracing::info!(client = %client.id, "authorization code issued");
    Ok(deliver(az::deliver(
        &request.redirect_uri,
        request.response_mode,
        request.state.as_deref(),
        &state.identity().config.issuer,
        vec![("code".into(), code)],
    )))
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostPage {
    action: String,
    fields: Vec<(String, String)>,
}

/// Sends the response to the client: 303 (never 307, RFC 9700 §4.12) or a form post.
pub fn deliver(delivery: Delivery) -> Response {
    match delivery {
        Delivery::Redirect(url) => {
            let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Delivery::FormPost { action, fields } => {
            let origin = origin_of(&action);
            let page = FormPostPage { action, fields };
            match page.render() {
                Ok(html) => {
                    let mut r = axum::response::Html(html).into_response();
                    let csp = format!(
                        "default-src 'none'; script-src 'self'; style-src 'self'; form-action {origin}; base-uri 'none'; frame-ancestors 'none'"
                    );
                    if let Ok(v) = HeaderValue::from_str(&csp) {
                        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
                    }
                    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    r
                }
                Err(e) => OAuthError::Internal(e.to_string()).into_response(),
            }
        }
    }
}

/// `https://host:port` of a URL, for a CSP source.
pub fn origin_of(url: &str) -> String {
    Url::parse(url).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| "'none'".into())
}

/// An explanatory page for a request that cannot be answered at the client.
pub fn problem_page(lang: &Lang, key: &str, status: StatusCode) -> Response {
    let ctx = Ctx::new(lang, "/oidc/authorize", None);
    let page = crate::pages::MessagePage {
        title: ctx.t.get("oidc.error.title").to_owned(),
        text: ctx.t.get(key).to_owned(),
        ctx,
    };
    render(&page, lang, status)
}

#[derive(Deserialize)]
pub struct Reference {
    anfrage: String,
}

/// After a login: continue the pending request.
pub async fn resume(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(q): Query<Reference>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        let Some((request, client, created)) = load_pending(&state, &q.anfrage).await? else {
            return Ok(problem_page(&lang, "oidc.error.expired", StatusCode::BAD_REQUEST));
        };
        let current = session::current(&state, &headers).await?;
        proceed(&state, &client, request, current, Some((q.anfrage.clone(), created))).await
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
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
    Query(q): Query<Reference>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        let Some((request, client, _)) = load_pending(&state, &q.anfrage).await? else {
            return Ok(problem_page(&lang, "oidc.error.expired", StatusCode::BAD_REQUEST));
        };
        let Some(current) = session::current(&state, &headers).await? else {
            return Ok(Redirect::to(&format!("/anmelden?anfrage={}", q.anfrage)).into_response());
        };
        let ctx = Ctx::new(&lang, "/oidc/zustimmung", None);
        let claims = claim_labels(&ctx, &request.scope);
        let mut r = render_form(&state, &headers, &lang, StatusCode::OK, |csrf| ConsentPage {
            client_name: client.name.clone(),
            client_host: client.sector.clone(),
            claims,
            reference: q.anfrage.clone(),
            csrf,
            email: current.account.email.clone(),
            ctx,
        });
        allow_form_target(&mut r, &request.redirect_uri);
        Ok::<_, OAuthError>(r)
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// The localized names of the claims the scopes release.
pub fn claim_labels(ctx: &Ctx, scope: &[String]) -> Vec<String> {
    scope
        .iter()
        .flat_map(|s| mitsprache_oidc::claims::claims_of_scope(s).iter())
        .map(|c| ctx.t.get(&format!("claim.{c}")).to_owned())
        .chain(scope.iter().filter(|s| *s == "offline_access").map(|_| ctx.t.get("claim.offline_access").to_owned()))
        .collect()
}

/// Pages whose form ends in a redirect to a tool must allow that origin as a form target:
/// browsers apply `form-action` to the redirects after a submission.
pub fn allow_form_target(response: &mut Response, redirect_uri: &str) {
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' {}; base-uri 'none'; frame-ancestors 'none'",
        origin_of(redirect_uri)
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

#[derive(Deserialize)]
pub struct ConsentForm {
    anfrage: String,
    csrf: String,
    decision: String,
}

pub async fn consent_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ConsentForm>,
) -> Response {
    let run = crate::identity::oidc::typed(async {
        if !csrf_ok(&state, &headers, &form.csrf) {
            return Ok(problem_page(&lang, "form.csrf", StatusCode::FORBIDDEN));
        }
        let Some((request, client, created)) = load_pending(&state, &form.anfrage).await? else {
            return Ok(problem_page(&lang, "oidc.error.expired", StatusCode::BAD_REQUEST));
        };
        let Some(current) = session::current(&state, &headers).await? else {
            return Ok(Redirect::to(&format!("/anmelden?anfrage={}", form.anfrage)).into_response());
        };
        let now = state.clock().now().unix_timestamp();
        if form.decision != "allow" {
            state.store().identity().delete_pending(&digest(&form.anfrage)).await?;
            let e = ErrorResponse {
                redirect_uri: request.redirect_uri.clone(),
                response_mode: request.response_mode,
                state: request.state.clone(),
                error: "access_denied",
                description: "the person declined".into(),
            };
            return Ok(deliver(e.deliver(&state.identity().config.issuer)));
        }
        // Consent covers what was asked now plus what was granted before.
        let mut scope = request.scope.clone();
        if let Some(previous) = state.store().identity().consent(&current.account.id, &client.id).await? {
            for s in scope_list(&previous.scope) {
                if !scope.contains(&s) {
                    scope.push(s);
                }
            }
        }
        state.store().identity().put_consent(&current.account.id, &client.id, &scope.join(" "), now).await?;
        proceed(&state, &client, request, Some(current), Some((form.anfrage.clone(), created))).await
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}
