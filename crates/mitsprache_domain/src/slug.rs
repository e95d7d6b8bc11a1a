//! URL-safe identifiers of catalogue records (`decidim`, `open311-georeport-v2`).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("a slug must have 1 to 64 characters")]
    Length,
    #[error("a slug may contain only a-z, 0-9 and single hyphens between them")]
    Characters,
}

impl Slug {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Slug, SlugError> {
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(SlugError::Length);
        }
        let valid_chars = s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_chars || s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return Err(SlugError::Characters);
        }
        Ok(Slug(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Slug::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercase_words_joined_by_hyphens_are_slugs() {
        assert!(Slug::parse("decidim").is_ok());
        assert!(Slug::parse("open311-georeport-v2").is_ok());
    }

    #[test]
    fn anything_else_is_rejected() {
        for bad in ["", "Decidim", "a b", "-a", "a-", "a--b", "ä", "../etc", &"a".repeat(65)] {
            assert!(Slug::parse(bad).is_err(), "{bad} must be rejected");
        }
    }
}
