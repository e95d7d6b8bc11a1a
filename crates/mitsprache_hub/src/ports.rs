//! What the application layer needs from the world, as traits the binary implements: mail and
//! outbound HTTP here, time (`mitsprache_domain::Clock`) and randomness
//! (`mitsprache_oidc::random::Random`) from the pure crates. Tests fill them with the real
//! implementations against local servers (an SMTP sink, HTTP servers of their own).

use std::future::Future;
use std::pin::Pin;

pub use mitsprache_domain::Clock;
pub use mitsprache_oidc::random::Random;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Where answers go, when not to the hub (an enquiry to a vendor goes back to the person
    /// who asked, with that person's consent).
    pub reply_to: Option<String>,
    /// The one-click unsubscribe URL of a list mail (a digest), sent as RFC 8058's
    /// `List-Unsubscribe` and `List-Unsubscribe-Post` headers.
    pub list_unsubscribe: Option<String>,
}

pub trait Mailer: Send + Sync + 'static {
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<(), String>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

/// An outbound request: to a tool (back-channel logout), an upstream provider, a sector
/// identifier document, and soon the connectors' sources. No redirect is followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    /// `application/x-www-form-urlencoded` pairs.
    pub form: Option<Vec<(String, String)>>,
    /// A JSON body (`application/json`), e.g. a GraphQL query.
    pub json: Option<serde_json::Value>,
    /// Any other body, with its content type (a Security Event Token).
    pub body: Option<(String, Vec<u8>)>,
    pub basic_auth: Option<(String, String)>,
    pub bearer: Option<String>,
    /// An `Authorization` header as the receiver registered it (SSF `authorization_header`).
    pub authorization: Option<String>,
    pub accept: Option<String>,
    pub timeout: std::time::Duration,
    /// Larger bodies are an error, not truncated.
    pub max_body: usize,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url: url.into(),
            form: None,
            json: None,
            body: None,
            basic_auth: None,
            bearer: None,
            authorization: None,
            accept: None,
            timeout: std::time::Duration::from_secs(10),
            max_body: 1024 * 1024,
        }
    }

    pub fn post_form(url: impl Into<String>, form: Vec<(String, String)>) -> HttpRequest {
        HttpRequest { method: Method::Post, form: Some(form), ..HttpRequest::get(url) }
    }

    pub fn post_json(url: impl Into<String>, body: serde_json::Value) -> HttpRequest {
        HttpRequest { method: Method::Post, json: Some(body), ..HttpRequest::get(url) }
    }

    pub fn post_body(url: impl Into<String>, content_type: &str, body: Vec<u8>) -> HttpRequest {
        HttpRequest { method: Method::Post, body: Some((content_type.to_owned(), body)), ..HttpRequest::get(url) }
    }

    pub fn delete(url: impl Into<String>) -> HttpRequest {
        HttpRequest { method: Method::Delete, ..HttpRequest::get(url) }
    }

    pub fn authorization(mut self, value: Option<&str>) -> HttpRequest {
        self.authorization = value.map(str::to_owned);
        self
    }

    pub fn accept(mut self, value: &str) -> HttpRequest {
        self.accept = Some(value.to_owned());
        self
    }

    pub fn basic_auth(mut self, id: &str, secret: &str) -> HttpRequest {
        self.basic_auth = Some((id.to_owned(), secret.to_owned()));
        self
    }

    pub fn bearer(mut self, token: &str) -> HttpRequest {
        self.bearer = Some(token.to_owned());
        self
    }

    pub fn timeout(mut self, timeout: std::time::Duration) -> HttpRequest {
        self.timeout = timeout;
        self
    }

    pub fn max_body(mut self, bytes: usize) -> HttpRequest {
        self.max_body = bytes;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
    /// `Retry-After` in seconds, when the answer gives one (429, 503).
    pub retry_after: Option<u64>,
}

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| HttpError(format!("the answer is not the expected JSON: {e}")))
    }
}

/// A transport failure (no answer, timeout, body too large); never contains the URL's query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(pub String);

pub trait Http: Send + Sync + 'static {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, HttpError>>;
}
