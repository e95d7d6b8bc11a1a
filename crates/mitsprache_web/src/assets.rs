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
