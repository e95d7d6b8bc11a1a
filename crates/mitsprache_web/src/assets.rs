//! Static assets, compiled into the binary so a page never needs another host or a file tree.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

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

/// KERN UX 2.7.2 from npm, unchanged, with the Fira Sans faces its font sheet names (see
/// `assets/vendor/kern/README.md`); the paths are the package's own below `dist/`, so the font
/// sheet's relative URLs resolve.
const KERN: &[(&str, &str, &[u8])] = &[
    ("kern.min.css", "text/css; charset=utf-8", include_bytes!("../assets/vendor/kern/kern.min.css")),
    ("fonts/fira-sans.css", "text/css; charset=utf-8", include_bytes!("../assets/vendor/kern/fonts/fira-sans.css")),
    (
        "fonts/fira-sans/FiraSans-Light.woff2",
        "font/woff2",
        include_bytes!("../assets/vendor/kern/fonts/fira-sans/FiraSans-Light.woff2"),
    ),
    (
        "fonts/fira-sans/FiraSans-LightItalic.woff2",
        "font/woff2",
        include_bytes!("../assets/vendor/kern/fonts/fira-sans/FiraSans-LightItalic.woff2"),
    ),
    (
        "fonts/fira-sans/FiraSans-Regular.woff2",
        "font/woff2",
        include_bytes!("../assets/vendor/kern/fonts/fira-sans/FiraSans-Regular.woff2"),
    ),
    (
        "fonts/fira-sans/FiraSans-Italic.woff2",
        "font/woff2",
        include_bytes!("../assets/vendor/kern/fonts/fira-sans/FiraSans-Italic.woff2"),
    ),
    (
        "fonts/fira-sans/FiraSans-Medium.woff2",
        "font/woff2",
        include_bytes!("../assets/vendor/kern/fonts/fira-sans/FiraSans-Medium.woff2"),
    ),
    (
        "fonts/fira-sans/FiraSans-MediumItalic.woff2",
        "font/woff2",
        include_bytes!("../assets/vendor/kern/fonts/fira-sans/FiraSans-MediumItalic.woff2"),
    ),
    (
        "fonts/fira-sans/FiraSans-SemiBold.woff2",
        "font/woff2",
        include_bytes!("../assets/vendor/kern/fonts/fira-sans/FiraSans-SemiBold.woff2"),
    ),
    (
        "fonts/fira-sans/FiraSans-SemiBoldItalic.woff2",
        "font/woff2",
        include_bytes!("../assets/vendor/kern/fonts/fira-sans/FiraSans-SemiBoldItalic.woff2"),
    ),
    (
        "fonts/fira-sans/FiraSans-Bold.woff2",
        "font/woff2",
        include_bytes!("../assets/vendor/kern/fonts/fira-sans/FiraSans-Bold.woff2"),
    ),
    (
        "fonts/fira-sans/FiraSans-BoldItalic.woff2",
        "font/woff2",
        include_bytes!("../assets/vendor/kern/fonts/fira-sans/FiraSans-BoldItalic.woff2"),
    ),
];

pub async fn kern(Path(file): Path<String>) -> Response {
    match KERN.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                // A release changes the files only with the hub's version; a day is safe.
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The operator's logo (`operator.logo_file`). An SVG opened on its own must not run anything
/// it holds, so the answer forbids every script and subresource.
pub async fn operator_logo(State(state): State<AppState>) -> Response {
    match &state.hub().config().operator.logo {
        Some(logo) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(logo.content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
                ),
            ],
            // Shared with the configuration, not copied per request.
            axum::body::Bytes::from_owner(logo.bytes.clone()),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
