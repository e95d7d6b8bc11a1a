//! The provider's records of who authorized what: login sessions, grants (one authorization of a
//! client by a person: the family of a code and its refresh tokens), codes, and what presenting
//! a single-use value found. The store keeps them; the rules over them are here and in `token`.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// A list of scope values (RFC 6749 §3.3), in the order they were granted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub struct Scope(Vec<String>);

impl Scope {
    /// Space-separated values; empty ones (double spaces) are dropped.
    pub fn parse(text: &str) -> Scope {
        let mut values: Vec<String> = Vec::new();
        for v in text.split(' ').filter(|s| !s.is_empty()) {
            if !values.iter().any(|x| x == v) {
                values.push(v.to_owned());
            }
        }
        Scope(values)
    }

    pub fn of(values: impl IntoIterator<Item = impl Into<String>>) -> Scope {
        Scope(values.into_iter().map(Into::into).collect())
    }

    pub fn contains(&self, value: &str) -> bool {
        self.0.iter().any(|v| v == value)
    }

    pub fn values(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every value of `other` is in this scope.
    pub fn covers(&self, other: &Scope) -> bool {
        other.0.iter().all(|v| self.contains(v))
    }

    /// This scope with the values of `other` it lacks appended.
    pub fn union(&self, other: &Scope) -> Scope {
        let mut values = self.0.clone();
        for v in &other.0 {
            if !values.contains(v) {
                values.push(v.clone());
            }
        }
        Scope(values)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.to_string()
    }
}

impl From<String> for Scope {
    fn from(s: String) -> Scope {
        Scope::parse(&s)
    }
}

/// How a person logged in, as RFC 8176 names it for the ID token's `amr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Amr {
    /// The hub's own password.
    Pwd,
    /// An upstream identity provider.
    Fed,
}

impl Amr {
    pub fn as_str(self) -> &'static str {
        match self {
            Amr::Pwd => "pwd",
            Amr::Fed => "fed",
        }
    }

    pub fn parse(s: &str) -> Option<Amr> {
        [Amr::Pwd, Amr::Fed].into_iter().find(|a| a.as_str() == s)
    }
}

/// A login session at the hub (the `sid` of ID and logout tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub sid: String,
    pub account_id: String,
    pub auth_time: OffsetDateTime,
    pub amr: Amr,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub user_agent: Option<String>,
}

/// One authorization of a client by an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub account_id: String,
    /// The session it was made in; none for grants that outlive sessions by design.
    pub sid: Option<String>,
    pub scope: Scope,
    pub auth_time: OffsetDateTime,
    pub amr: Amr,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl Grant {
    pub fn is_live(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// An authorization code as stored: the grant it belongs to and what its exchange must repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub grant: Grant,
    pub redirect_uri: String,
    /// None only for confidential clients an admin allowed to log in without PKCE.
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
}

/// What presenting a single-use value found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption<T> {
    Fresh(T),
    /// Used before: the caller revokes the grant it belongs to (RFC 9700 §4.14, RFC 6749 §4.1.2).
    Replayed {
        grant_id: String,
    },
    /// Unknown, expired, or another client's.
    Invalid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_without_duplicates_and_compare_as_sets() {
        let s = Scope::parse("openid  email openid profile");
        assert_eq!(s.to_string(), "openid email profile");
        assert!(s.covers(&Scope::parse("email openid")));
        assert!(!s.covers(&Scope::parse("email offline_access")));
        assert_eq!(s.union(&Scope::parse("offline_access email")).to_string(), "openid email profile offline_access");
        assert_eq!(serde_json::to_value(&s).unwrap(), "openid email profile");
    }
}
