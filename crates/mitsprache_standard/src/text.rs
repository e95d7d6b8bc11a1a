use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Text in one or more languages, keyed by BCP 47 tag: `{"de": "…", "en": "…"}`. Unlike the
/// catalogue's texts, German is not required: a tool's content is in whatever language its
/// people wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(
    value_type = std::collections::BTreeMap<String, String>,
    example = json!({"de": "Radverkehrskonzept", "en": "Cycling plan"})
)]
pub struct Text(pub BTreeMap<String, String>);

impl Text {
    pub fn de(s: impl Into<String>) -> Text {
        Text(BTreeMap::from([("de".to_owned(), s.into())]))
    }

    /// The text in `lang`, else German, else English, else any.
    pub fn get(&self, lang: &str) -> &str {
        [lang, "de", "en"]
            .iter()
            .find_map(|l| self.0.get(*l))
            .or_else(|| self.0.values().next())
            .map_or("", String::as_str)
    }

    /// Every language's text, for full-text search.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(String::as_str)
    }

    /// At least one non-empty text; every key a language tag (`de`, `en`, `de-CH`, `tr`).
    pub(crate) fn check(&self, max_chars: usize) -> Result<(), String> {
        if self.0.values().all(|v| v.trim().is_empty()) {
            return Err("needs a non-empty text in at least one language".into());
        }
        if let Some(k) = self.0.keys().find(|k| !is_language_tag(k)) {
            return Err(format!("`{k}` is not a language tag (e.g. `de`, `en`, `de-CH`)"));
        }
        if self.0.values().any(|v| v.contains('\0')) {
            return Err("must not contain NUL characters".into());
        }
        if self.0.values().any(|v| v.chars().count() > max_chars) {
            return Err(format!("is longer than {max_chars} characters"));
        }
        Ok(())
    }
}

/// A BCP 47 tag of the common shape: a 2–3 letter language, then subtags of 2–8 letters or
/// digits. Enough to keep keys meaningful without a registry.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let lang = parts.next().unwrap_or("");
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        assert!(is_language_tag("de"));
        assert!(is_language_tag("de-CH"));
        assert!(is_language_tag("sr-Latn"));
        assert!(!is_language_tag("German"));
        assert!(!is_language_tag("DE"));
        assert!(!is_language_tag(""));
    }

    #[test]
    fn falls_back_to_german_then_any() {
        let t = Text(BTreeMap::from([("tr".into(), "Bisiklet".into())]));
        assert_eq!(t.get("en"), "Bisiklet");
        let t = Text(BTreeMap::from([("de".into(), "Rad".into()), ("en".into(), "Bike".into())]));
        assert_eq!(t.get("en"), "Bike");
        assert_eq!(t.get("fr"), "Rad");
        assert!(Text::default().check(10).is_err());
    }
}
