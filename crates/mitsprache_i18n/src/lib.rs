//! User-facing messages in German (default) and English.
//!
//! The format is deliberately small: one `key = text` per line, `#` comments, `{name}`
//! placeholders, and plural forms as two keys `key.one` / `key.other` (German and English both
//! have exactly these two cardinal forms). See docs/adr/0004-templates-and-messages.md for why
//! this is not Fluent. A test checks that both languages have the same keys and placeholders.

use mitsprache_domain::Locale;
use std::collections::HashMap;
use std::sync::LazyLock;

pub struct Messages {
    locale: Locale,
    map: HashMap<&'static str, &'static str>,
}

static DE: LazyLock<Messages> = LazyLock::new(|| Messages::parse(Locale::De, include_str!("../messages/de.txt")));
static EN: LazyLock<Messages> = LazyLock::new(|| Messages::parse(Locale::En, include_str!("../messages/en.txt")));

mod names;
pub use names::{language_name, sort_languages};

/// The message table of a language; built once per process.
pub fn messages(locale: Locale) -> &'static Messages {
    match locale {
        Locale::De => &DE,
        Locale::En => &EN,
    }
}

impl Messages {
    fn parse(locale: Locale, text: &'static str) -> Messages {
        let map = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once(" = ").map(|(k, v)| (k.trim(), v.trim())))
            .collect();
        Messages { locale, map }
    }

    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// The text of a key. A missing key shows the key itself, which the parity test and the
    /// browser tests make visible instead of rendering an empty label.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).copied().unwrap_or(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The text with `{name}` placeholders filled in.
    pub fn fmt(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut out = self.get(key).to_owned();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), &value.to_string());
        }
        out
    }

    /// `key.one` for 1, `key.other` otherwise, with `{count}` filled in.
    pub fn plural(&self, key: &str, count: usize) -> String {
        let form = if count == 1 { "one" } else { "other" };
        self.fmt(&format!("{key}.{form}"), &[("count", &count)])
    }

    pub fn keys(&self) -> impl Iterator<Item = &&'static str> {
        self.map.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn placeholders(text: &str) -> BTreeSet<String> {
        text.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(p, _)| p.to_owned())).collect()
    }

    #[test]
    fn german_and_english_have_the_same_keys_and_placeholders() {
        let de: BTreeSet<&str> = messages(Locale::De).keys().copied().collect();
        let en: BTreeSet<&str> = messages(Locale::En).keys().copied().collect();
        assert_eq!(de.difference(&en).collect::<Vec<_>>(), Vec::<&&str>::new(), "missing in English");
        assert_eq!(en.difference(&de).collect::<Vec<_>>(), Vec::<&&str>::new(), "missing in German");
        for key in de {
            assert_eq!(
                placeholders(messages(Locale::De).get(key)),
                placeholders(messages(Locale::En).get(key)),
                "placeholders of {key}"
            );
        }
    }

    #[test]
    fn plural_forms_are_chosen_by_count() {
        let de = messages(Locale::De);
        assert_eq!(de.plural("marketplace.results", 1), "1 Werkzeug gefunden");
        assert_eq!(de.plural("marketplace.results", 3), "3 Werkzeuge gefunden");
        assert_eq!(messages(Locale::En).plural("marketplace.results", 1), "1 tool found");
    }

    #[test]
    fn every_plural_has_both_forms() {
        let de = messages(Locale::De);
        for key in de.keys() {
            if let Some(stem) = key.strip_suffix(".one") {
                assert!(de.has(&format!("{stem}.other")), "{stem}.other");
            }
        }
    }
}
