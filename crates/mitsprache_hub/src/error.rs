//! The one error taxonomy of the hub. Use cases return [`Error`]; the web crate renders it in
//! the format of the route group the request came through (a localised page, problem+json, or
//! RFC 6749 JSON), so an error means the same everywhere and only its form differs. A 500 is
//! opaque to the client and logged once, by the renderer, with its cause chain.
//!
//! Outcomes a page shows as part of its flow (a wrong password on the login form, an expired
//! authorization request) are return values of their use cases, not errors.

use mitsprache_catalogue::ValidationError;
use mitsprache_oidc::error::ProtocolError;
use mitsprache_store::StoreError;
use time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// A parameter or field with a value the hub does not accept (400).
    #[error("invalid parameter `{field}`: {message}")]
    Invalid { field: String, message: String },
    /// A request the hub cannot read (400): bad syntax, a repeated field.
    #[error("invalid request: {0}")]
    Malformed(String),
    /// Readable but not acceptable (422).
    #[error("{0}")]
    Unprocessable(String),
    /// A record that breaks catalogue rules (422), field by field.
    #[error("the record breaks catalogue rules")]
    Validation(Vec<ValidationError>),
    #[error("the request body is too large")]
    TooLarge,
    #[error("the request's address is too long")]
    UriTooLong,
    #[error("the request's headers are too large")]
    HeadersTooLarge,
    #[error("expected another content type")]
    UnsupportedMediaType,
    #[error("the method is not allowed here")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// No valid credentials (401): a page sends the person to the login.
    #[error("authentication required")]
    Unauthenticated,
    /// A bearer token that is not a live token of this hub (RFC 6750 `invalid_token`).
    #[error("invalid token")]
    InvalidToken,
    /// Client authentication failed (RFC 6749 `invalid_client`); `basic` when HTTP Basic was
    /// tried, which the answer's `WWW-Authenticate` must then name.
    #[error("client authentication failed")]
    InvalidClient { basic: bool },
    #[error("{0}")]
    Forbidden(Forbidden),
    /// A form without this browser's CSRF token, or sent from another site (403).
    #[error("the form is outdated or came from another site")]
    Csrf,
    #[error("too many attempts")]
    RateLimited { retry_after: Duration },
    /// An OAuth error with its registered code.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A dependency cannot be reached or is overloaded: the store, or an upstream login
    /// provider that does not answer sensibly (503, worth a retry).
    #[error("a service the hub depends on is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why a known caller may not do what it asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    #[error("admins only")]
    NotAdmin,
    #[error("the token's holder may not edit the catalogue (editor or admin role needed)")]
    NotEditor,
    #[error("the token lacks the catalogue:write scope for the hub's API")]
    MissingScope,
    #[error("the e-mail address is not confirmed yet")]
    Unverified,
    #[error("the account does not speak for this tool's vendor")]
    NotVendor,
    #[error("the token lacks the data:write scope for the hub's API")]
    MissingDataScope,
    #[error("only a tool's own client (client_credentials) pushes its data")]
    NotMachine,
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound,
            StoreError::Conflict(m) => Error::Conflict(m),
            StoreError::Unavailable(_) => Error::Unavailable(Box::new(e)),
            e => Error::Internal(e.to_string()),
        }
    }
}

/// A store error shared by all the requests of one batch (the refresh-token group commit).
impl From<std::sync::Arc<StoreError>> for Error {
    fn from(e: std::sync::Arc<StoreError>) -> Self {
        match &*e {
            StoreError::NotFound => Error::NotFound,
            StoreError::Conflict(m) => Error::Conflict(m.clone()),
            StoreError::Unavailable(_) => Error::Unavailable(Box::new(e)),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl Error {
    /// Whether this is the hub's fault rather than the caller's: logged as an error, told to
    /// the client without details.
    pub fn is_server_error(&self) -> bool {
        matches!(self, Error::Unavailable(_) | Error::Internal(_))
    }
}

pub type Result<T> = std::result::Result<T, Error>;
