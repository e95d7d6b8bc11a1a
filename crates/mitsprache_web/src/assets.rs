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
