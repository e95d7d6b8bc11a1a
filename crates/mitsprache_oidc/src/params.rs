//! The parameters of a protocol request (a form body or a query string) and the credentials it
//! presents in its headers. RFC 6749 §3.1 and §3.2: a parameter may appear at most once.

use crate::error::ProtocolError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Every pair as sent, repeated names included (the authorization endpoint reports repeats
    /// at the client's redirect URI once the client is known).
    pub fn lenient(encoded: &[u8]) -> Params {
        Params(url::form_urlencoded::parse(encoded).into_owned().collect())
    }

    /// The pairs of a back-channel request, refusing repeated names.
    pub fn strict(encoded: &[u8]) -> Result<Params, ProtocolError> {
        let params = Params::lenient(encoded);
        for (i, (k, _)) in params.0.iter().enumerate() {
            if params.0[..i].iter().any(|(p, _)| p == k) {
                return Err(ProtocolError::invalid_request(format!("{k} is repeated")));
            }
        }
        Ok(params)
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &str) -> Result<&str, ProtocolError> {
        self.get(name).ok_or_else(|| ProtocolError::invalid_request(format!("{name} is required")))
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn without(&self, name: &str) -> Vec<(String, String)> {
        self.0.iter().filter(|(k, _)| k != name).cloned().collect()
    }
}

/// The token of an `Authorization: Bearer` header value (RFC 6750 §2.1).
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    let v = authorization?;
    // `get`, not slicing: a header value need not be ASCII, and a cut inside a character panics.
    v.get(..7)
        .filter(|p| p.eq_ignore_ascii_case("bearer "))
        .and_then(|_| v.get(7..))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_header_with_a_character_across_the_scheme_does_not_panic() {
        // "Beare" + "ä" puts a two-byte character across byte 7.
        assert_eq!(super::bearer(Some("Bearerä token")), None);
        assert_eq!(super::bearer(Some("Beareä token")), None);
        assert_eq!(super::bearer(Some("Bearer abc")), Some("abc"));
        let params = super::Params::strict(b"").unwrap();
        for v in ["Basicä x", "Basiä xyz"] {
            // Not Basic, so no Basic credentials were presented (and nothing panicked).
            assert!(crate::client::Presented::read(Some(v), &params).is_ok());
            assert!(!crate::client::Presented::tried_basic(Some(v)));
        }
    }

    use super::*;

    #[test]
    fn repeated_parameters_are_refused_on_the_back_channel() {
        assert!(Params::strict(b"grant_type=a&grant_type=b").is_err());
        let p = Params::strict(b"grant_type=client_credentials&scope=").unwrap();
        assert_eq!(p.get("grant_type"), Some("client_credentials"));
        assert_eq!(p.get("scope"), None, "an empty value counts as absent");
        assert_eq!(Params::lenient(b"a=1&a=2").pairs().len(), 2);
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
    }
}
