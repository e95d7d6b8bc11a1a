//! Server-rendered pages (German by default, English on request). Templates are compiled and
//! auto-escaped by askama; handlers build plain view models so templates stay free of logic.
//! Every page works without JavaScript.

pub mod account;
pub mod admin;
pub mod assistant;
pub mod marketplace;
mod view;

use crate::error::ApiError;
use askama::Template;
use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use mitsprache_domain::Locale;
use mitsprache_i18n::{Messages, messages};

/// The language of a request: `?lang=` (remembered in a cookie), then the cookie, then
/// `Accept-Language`, then German.
pub struct Lang {
    pub locale: Locale,
    remember: bool,
    secure: bool,
}

impl FromRequestParts<crate::AppState> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &crate::AppState) -> Result<Self, Self::Rejection> {
        let secure = state.config().secure_cookies;
        let from_query = parts.uri.query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang").and_then(|(_, v)| Locale::from_tag(&v))
        });
        if let Some(locale) = from_query {
            return Ok(Lang { locale, remember: true, secure });
        }
        let from_cookie = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().strip_prefix("lang="))
            .find_map(Locale::from_tag);
        if let Some(locale) = from_cookie {
            return Ok(Lang { locale, remember: false, secure });
        }
        let accept = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        Ok(Lang { locale: Locale::negotiate(accept), remember: false, secure })
    }
}

/// What every page template gets: language, messages and the links of the language switch.
pub struct Ctx {
    pub locale: Locale,
    pub t: &'static Messages,
    pub lang_de: String,
    pub lang_en: String,
    /// The path of the page, to mark the current navigation entry.
    pub path: String,
}

impl Ctx {
    pub fn new(lang: &Lang, path: &str, raw_query: Option<&str>) -> Ctx {
        let keep: Vec<(String, String)> =
            crate::params::pairs(raw_query).into_iter().filter(|(k, _)| k != "lang").collect();
        let switch = |l: Locale| {
            let mut pairs = keep.clone();
            pairs.push(("lang".into(), l.tag().into()));
            view::url(path, &pairs)
        };
        Ctx {
            locale: lang.locale,
            t: messages(lang.locale),
            lang_de: switch(Locale::De),
            lang_en: switch(Locale::En),
            path: path.to_owned(),
        }
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
            response
        }
        Err(e) => ApiError::Internal(Box::new(e)).into_response(),
    }
}

/// A page with a title and one paragraph (confirmations, explanations).
/// Renders a page that holds a form: `page` gets this browser's CSRF token, and a new token's
/// cookie is set on the response.
pub fn render_form<T: Template>(
    state: &crate::AppState,
    headers: &axum::http::HeaderMap,
    lang: &Lang,
    status: StatusCode,
    page: impl FnOnce(String) -> T,
) -> Response {
    let csrf = crate::identity::session::Csrf::for_page(state, headers);
    let mut response = render(&page(csrf.token.clone()), lang, status);
    csrf.apply(state, &mut response);
    response
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub ctx: Ctx,
    pub title: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub ctx: Ctx,
    pub status_text: String,
    pub title: String,
    pub detail: Option<String>,
}

/// An error shown to a person: the localized page for the error's stable code.
pub fn error_page(lang: &Lang, path: &str, raw_query: Option<&str>, error: &ApiError) -> Response {
    error.log();
    let ctx = Ctx::new(lang, path, raw_query);
    let title = ctx.t.get(&format!("error.{}", error.code())).to_owned();
    let detail = match error {
        ApiError::InvalidParameter { name, message } => Some(format!("{name}: {message}")),
        _ => None,
    };
    let status_text = ctx.t.fmt("error.status", &[("status", &error.status().as_u16())]);
    render(&ErrorPage { status_text, title, detail, ctx }, lang, error.status())
}

/// The fallback for unknown paths: a page for people, problem+json under /api.
pub async fn not_found(lang: Lang, uri: axum::http::Uri, RawQuery(raw): RawQuery) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::NotFound.into_response();
    }
    error_page(&lang, uri.path(), raw.as_deref(), &ApiError::NotFound)
}
