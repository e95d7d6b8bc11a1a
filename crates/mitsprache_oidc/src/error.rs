//! Protocol errors with the codes of RFC 6749 §5.2, RFC 6750 §3.1 and RFC 8707: what the token,
//! userinfo, introspection and revocation endpoints answer, and what an authorization response
//! carries to the client.

/// An OAuth error: a registered code and a description for the client's developer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct ProtocolError {
    pub code: &'static str,
    pub description: String,
}

impl ProtocolError {
    pub fn new(code: &'static str, description: impl Into<String>) -> ProtocolError {
        ProtocolError { code, description: description.into() }
    }

    pub fn invalid_request(description: impl Into<String>) -> ProtocolError {
        ProtocolError::new("invalid_request", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> ProtocolError {
        ProtocolError::new("invalid_grant", description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> ProtocolError {
        ProtocolError::new("invalid_scope", description)
    }

    pub fn invalid_target(description: impl Into<String>) -> ProtocolError {
        ProtocolError::new("invalid_target", description)
    }

    /// RFC 6750 §3.1: the token is valid but lacks what the resource needs.
    pub fn insufficient_scope(description: impl Into<String>) -> ProtocolError {
        ProtocolError::new("insufficient_scope", description)
    }

    /// The HTTP status the code goes with.
    pub fn status(&self) -> u16 {
        match self.code {
            "insufficient_scope" | "access_denied" => 403,
            _ => 400,
        }
    }
}
