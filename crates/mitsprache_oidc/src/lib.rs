//! The OpenID Connect provider's protocol, free of HTTP and SQL (ADR 0006).
//!
//! Each module is one protocol step or building block: [`random`] secrets and digests, [`jose`]
//! signing keys and JWS, [`keys`] the provider's key set, [`pkce`], [`params`] request
//! parameters, [`client`] registration and authentication, [`authorize`] request validation,
//! [`grant`] sessions, grants and codes, [`token`] the token endpoint's rules and the tokens it
//! issues, [`claims`], [`subject`] identifiers, [`password`] hashing, [`error`] protocol errors
//! and [`discovery`] metadata. Time and randomness are passed in; the application crate runs
//! these steps with the store's state, and the web crate maps them to endpoints.

pub mod authorize;
pub mod claims;
pub mod client;
pub mod discovery;
pub mod error;
pub mod grant;
pub mod jose;
pub mod keys;
pub mod params;
pub mod password;
pub mod pkce;
pub mod random;
pub mod subject;
pub mod token;

/// How long what the provider hands out stays valid, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub code: i64,
    pub access_token: i64,
    pub id_token: i64,
    pub refresh_token: i64,
    pub session: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        // Codes are exchanged within seconds by a working client; a minute covers slow networks.
        // Access tokens are short because JWTs cannot be recalled from resource servers that
        // do not introspect. Sessions last a working day; refresh tokens a month of inactivity.
        Lifetimes { code: 60, access_token: 900, id_token: 900, refresh_token: 30 * 86_400, session: 12 * 3600 }
    }
}

/// The OpenID Connect scopes the provider understands; others are ignored as RFC 6749 §3.3 allows.
pub const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The hub's own API scope: writing the marketplace catalogue. Only clients registered for it
/// may ask for it, and only editors' and admins' tokens carrying it may write.
pub const CATALOGUE_WRITE: &str = "catalogue:write";

/// The hub's data API scope: a tool pushing its own processes and contributions in the data
/// standard. Only machine clients registered for it get it.
pub const DATA_WRITE: &str = "data:write";

/// Scopes beyond OpenID Connect's, granted per client.
pub const EXTRA_SCOPES: [&str; 2] = [CATALOGUE_WRITE, DATA_WRITE];

/// Whether a token with this scope is for the hub's own API (its audience is `ISSUER/api`).
pub fn is_api_scope(scope: &str) -> bool {
    scope == CATALOGUE_WRITE || scope == DATA_WRITE
}
