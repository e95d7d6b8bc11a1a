//! Static assets, compiled into the binary so a page never needs another host or a file tree.

use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;

const STYLE: &str = include_str!("../assets/style.css");

pub async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        STYLE,
    )
}

const FORM_POST: &str = include_str!("../assets/form-post.js");

/// Submits the form-post response page on load (OAuth 2.0 Form Post Response Mode); the page's
/// button does the same without JavaScript.
pub async fn form_post_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        FORM_POST,
    )
}

const MAP: &str = include_str!("../assets/map.js");
/// Leaflet 1.9.4 from npm, unchanged (see `assets/vendor/leaflet/README.md`).
const LEAFLET_JS: &str = include_str!("../assets/vendor/leaflet/leaflet.js");
const LEAFLET_CSS: &str = include_str!("../assets/vendor/leaflet/leaflet.css");

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        body,
    )
}

pub async fn map_script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", MAP)
}

pub async fn leaflet_script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", LEAFLET_JS)
}

pub async fn leaflet_style() -> impl IntoResponse {
    asset("text/css; charset=utf-8", LEAFLET_CSS)
}
