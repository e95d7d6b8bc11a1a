//! What every page shares: the request's language, the page context templates get, and the
//! rendering of a template into a response. Handlers of every route group use it; nothing here
//! knows a handler.

use crate::session;
use crate::state::AppState;
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use mitsprache_domain::Locale;
use mitsprache_hub::Operator;
use mitsprache_i18n::{Messages, messages};
use std::sync::Arc;

/// No inline script or style anywhere; pages frame nothing and are framed by nothing.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The language of a request: `?lang=` (remembered in a cookie), then the cookie, then
/// `Accept-Language`, then German.
/// It carries the operator, whom every page's footer names.
#[derive(Debug, Clone)]
pub struct Lang {
    pub locale: Locale,
    remember: bool,
    secure: bool,
    pub operator: Arc<Operator>,
    /// Who is signed in (their name, else their address), for the header.
    pub signed_in: Option<String>,
}

impl Lang {
    pub fn of(parts: &Parts, secure: bool, operator: Arc<Operator>) -> Lang {
        let from_query = parts.uri.query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang").and_then(|(_, v)| Locale::from_tag(&v))
        });
        if let Some(locale) = from_query {
            return Lang { locale, remember: true, secure, operator, signed_in: None };
        }
        if let Some(locale) = session::cookie(&parts.headers, "lang").and_then(|v| Locale::from_tag(&v)) {
            return Lang { locale, remember: false, secure, operator, signed_in: None };
        }
        let accept = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        Lang { locale: Locale::negotiate(accept), remember: false, secure, operator, signed_in: None }
    }

    /// Another language, as a tool's `ui_locales` asks for it.
    pub fn with(self, locale: Locale) -> Lang {
        Lang { locale, ..self }
    }
}

impl FromRequestParts<AppState> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let mut lang = Lang::of(parts, state.config().secure_cookies, state.hub().config().operator.clone());
        // Looked up only with a session cookie, and once per request (MaybeSignedIn caches it);
        // a store error leaves the header without a name rather than failing the page.
        if let Ok(crate::session::MaybeSignedIn(Some(current))) =
            crate::session::MaybeSignedIn::from_request_parts(parts, state).await
        {
            let a = &current.account;
            lang.signed_in =
                Some(a.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| a.email.to_string()));
        }
        Ok(lang)
    }
}

/// `mailto:` for an e-mail address, the URL itself otherwise.
fn link_to(value: &str) -> String {
    if value.contains('@') && !value.contains("://") { format!("mailto:{value}") } else { value.to_owned() }
}

/// What every page template gets: language, messages and the links of the language switch.
pub struct Ctx {
    pub locale: Locale,
    pub t: &'static Messages,
    pub lang_de: String,
    pub lang_en: String,
    /// The path of the page, to mark the current navigation entry.
    pub path: String,
    pub operator: Arc<Operator>,
    pub signed_in: Option<String>,
}

impl Ctx {
    pub fn new(lang: &Lang, path: &str, raw_query: Option<&str>) -> Ctx {
        let keep: Vec<(String, String)> =
            crate::params::pairs(raw_query).into_iter().filter(|(k, _)| k != "lang").collect();
        let switch = |l: Locale| {
            let mut pairs = keep.clone();
            pairs.push(("lang".into(), l.tag().into()));
            crate::pages::view::url(path, &pairs)
        };
        Ctx {
            locale: lang.locale,
            t: messages(lang.locale),
            lang_de: switch(Locale::De),
            lang_en: switch(Locale::En),
            path: path.to_owned(),
            operator: lang.operator.clone(),
            signed_in: lang.signed_in.clone(),
        }
    }

    /// The operator's contact as a link target (`mailto:` for an address).
    pub fn contact_link(&self) -> Option<String> {
        self.operator.contact.as_deref().map(link_to)
    }

    /// Where barriers are reported, as a link target.
    pub fn feedback_link(&self) -> Option<String> {
        self.operator.accessibility_feedback.as_deref().map(link_to)
    }

    pub fn lang(&self) -> &'static str {
        self.locale.tag()
    }

    pub fn is_de(&self) -> bool {
        self.locale == Locale::De
    }

    /// A message with one placeholder filled (for templates).
    pub fn fmt1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.t.fmt(key, &[(name, &value)])
    }

    pub fn fmt2(
        &self,
        key: &str,
        n1: &str,
        v1: impl std::fmt::Display,
        n2: &str,
        v2: impl std::fmt::Display,
    ) -> String {
        self.t.fmt(key, &[(n1, &v1), (n2, &v2)])
    }

    pub fn nav_current(&self, prefix: &str) -> bool {
        if prefix == "/marktplatz" {
            self.path == "/marktplatz"
                || self.path.starts_with("/marktplatz/werkzeuge")
                || self.path.starts_with("/marktplatz/vergleich")
        } else {
            self.path.starts_with(prefix)
        }
    }
}

/// Marks a response a handler rendered itself: the error renderers of the route groups leave
/// it as it is, whatever its status.
#[derive(Debug, Clone, Copy)]
pub struct Rendered;

/// Renders a template as an HTML response and remembers an explicitly chosen language.
pub fn render(template: &impl Template, lang: &Lang, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            if lang.remember {
                let cookie = format!(
                    "lang={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{}",
                    lang.locale.tag(),
                    if lang.secure { "; Secure" } else { "" }
                );
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            if lang.signed_in.is_some() && !response.headers().contains_key(header::CACHE_CONTROL) {
                // The header names the person: no cache may keep this page for anyone else.
                response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            }
            response.extensions_mut().insert(Rendered);
            response
        }
        Err(e) => crate::error::WebError(mitsprache_hub::Error::Internal(format!("template: {e}"))).into_response(),
    }
}

/// Renders a page that holds a form: `page` gets this browser's CSRF token, and a new token's
/// cookie is set on the response.
pub fn render_form<T: Template>(
    state: &AppState,
    headers: &HeaderMap,
    lang: &Lang,
    status: StatusCode,
    page: impl FnOnce(String) -> T,
) -> Response {
    let csrf = session::Csrf::for_page(state, headers);
    let mut response = render(&page(csrf.token.clone()), lang, status);
    csrf.apply(state, &mut response);
    response
}

/// A page with a title and one paragraph (confirmations, explanations).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub ctx: Ctx,
    pub title: String,
    pub text: String,
}

/// A short page with a title and one paragraph, by message keys.
pub fn message(lang: &Lang, title: &str, text: &str, status: StatusCode) -> Response {
    let ctx = Ctx::new(lang, "/konto", None);
    let page = MessagePage { title: ctx.t.get(title).to_owned(), text: ctx.t.get(text).to_owned(), ctx };
    render(&page, lang, status)
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub ctx: Ctx,
    pub status_text: String,
    pub title: String,
    pub detail: Option<String>,
}
