//! The OpenID Connect endpoints, as adapters over the hub's use cases. Back-channel endpoints
//! (token, userinfo, introspection, revocation, registration) are in the OAuth route group and
//! answer errors as RFC 6749 JSON; front-channel ones (authorize, consent, logout) are pages.

pub mod authorize;
pub mod logout;
pub mod register;
pub mod token;

use crate::render::{Ctx, Lang, MessagePage, Rendered, render};
use crate::state::AppState;
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mitsprache_oidc::authorize::Delivery;
use mitsprache_oidc::discovery;
use url::Url;

/// The discovery document.
pub async fn discovery(State(state): State<AppState>) -> Response {
    public_json(Json(discovery::metadata(&state.hub().config().issuer)).into_response())
}

pub async fn jwks(State(state): State<AppState>) -> Response {
    public_json(Json(serde_json::json!({ "keys": state.hub().keys().published })).into_response())
}

/// Public metadata any site may read; short-lived so a key rotation reaches relying parties
/// within minutes.
fn public_json(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

/// `https://host:port` of a URL, for a CSP source or an origin check.
pub fn origin_of(url: &str) -> String {
    Url::parse(url).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| "'none'".into())
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
            match (FormPostPage { action, fields }).render() {
                Ok(html) => {
                    let mut r = axum::response::Html(html).into_response();
                    let csp = format!(
                        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action {origin}; base-uri 'none'; frame-ancestors 'none'"
                    );
                    if let Ok(v) = HeaderValue::from_str(&csp) {
                        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
                    }
                    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    r.extensions_mut().insert(Rendered);
                    r
                }
                Err(e) => crate::error::WebError(mitsprache_hub::Error::Internal(e.to_string())).into_response(),
            }
        }
    }
}

/// Pages whose form ends in a redirect to a tool must allow that origin as a form target:
/// browsers apply `form-action` to the redirects after a submission.
pub fn allow_form_target(response: &mut Response, redirect_uri: &str) {
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self' {}; base-uri 'none'; frame-ancestors 'none'",
        origin_of(redirect_uri)
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// An explanatory page for a sign-in request that cannot be answered at the tool.
pub fn problem_page(lang: &Lang, key: &str, status: StatusCode) -> Response {
    let ctx = Ctx::new(lang, "/oidc/authorize", None);
    let page = MessagePage { title: ctx.t.get("oidc.error.title").to_owned(), text: ctx.t.get(key).to_owned(), ctx };
    render(&page, lang, status)
}

/// The localised names of the claims the scopes release.
pub fn claim_labels(ctx: &Ctx, scope: &[String]) -> Vec<String> {
    scope
        .iter()
        .flat_map(|s| mitsprache_oidc::claims::claims_of_scope(s).iter())
        .map(|c| ctx.t.get(&format!("claim.{c}")).to_owned())
        .chain(
            scope
                .iter()
                .filter(|s| *s == "offline_access" || *s == mitsprache_oidc::CATALOGUE_WRITE)
                .map(|s| ctx.t.get(&format!("claim.{s}")).to_owned()),
        )
        .collect()
}
