//! The operator's pages: Impressum (§ 5 DDG), privacy notice (Art. 13 DSGVO) and accessibility
//! statement (BITV 2.0) from the configuration, each a page of its own or a redirect to the
//! operator's; and the start page with the three ways in.

use crate::error::WebError;
use crate::render::{Ctx, Lang, render};
use askama::Template;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_hub::LegalText;

#[derive(Template)]
#[template(path = "legal.html")]
pub struct LegalPage {
    pub ctx: Ctx,
    /// imprint, privacy or accessibility.
    pub which: &'static str,
    pub paragraphs: Vec<String>,
}

async fn legal(lang: Lang, raw: Option<String>, which: &'static str, path: &str) -> Result<Response, WebError> {
    let text = match which {
        "imprint" => lang.operator.imprint.clone(),
        "privacy" => lang.operator.privacy.clone(),
        _ => lang.operator.accessibility.clone(),
    };
    let paragraphs = match text {
        // The operator keeps the text on its own site.
        Some(LegalText::Url(url)) => return Ok(Redirect::to(&url).into_response()),
        Some(LegalText::Text(t)) => t
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect(),
        None => Vec::new(),
    };
    let ctx = Ctx::new(&lang, path, raw.as_deref());
    Ok(render(&LegalPage { ctx, which, paragraphs }, &lang, StatusCode::OK))
}

pub async fn imprint(lang: Lang, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    legal(lang, raw, "imprint", "/impressum").await
}

pub async fn privacy(lang: Lang, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    legal(lang, raw, "privacy", "/datenschutz").await
}

pub async fn accessibility(lang: Lang, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    legal(lang, raw, "accessibility", "/barrierefreiheit").await
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub ctx: Ctx,
}

/// `/`: take part, find a tool, connect a tool.
pub async fn home(lang: Lang, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let ctx = Ctx::new(&lang, "/", raw.as_deref());
    Ok(render(&HomePage { ctx }, &lang, StatusCode::OK))
}
