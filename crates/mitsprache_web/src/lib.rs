//! HTTP for the hub: the JSON API with its OpenAPI document, the server-rendered pages and the
//! single mapping of errors to responses. The only crate that knows HTTP.
//!
//! Not here: SQL (mitsprache_store), catalogue rules and search (mitsprache_catalogue),
//! configuration and process concerns (the binary).

pub mod api;
mod assets;
pub mod error;
pub mod identity;
mod pages;
mod params;
mod routes;
mod state;

pub use routes::{MAX_BODY_BYTES, openapi, router};
pub use state::{AppState, Services, WebConfig};
