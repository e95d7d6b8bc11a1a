//! HTTP for the hub, as adapters over the application layer (`mitsprache_hub`): the JSON API
//! with its OpenAPI document, the server-rendered pages, the OpenID Connect endpoints, the
//! rendering of errors per route group, and the HTTP server itself. A handler extracts, calls a
//! use case of the hub, and renders or serialises; the decisions are the hub's.
//!
//! Not here: use cases, background work, outbound HTTP (mitsprache_hub); SQL (mitsprache_store);
//! configuration and process concerns (the binary).

pub mod api;
mod assets;
pub mod error;
mod oidc;
mod pages;
mod params;
mod render;
mod routes;
pub mod serve;
mod session;
mod state;

pub use routes::{MAX_BODY_BYTES, openapi, router};
pub use state::{AppState, WebConfig};
