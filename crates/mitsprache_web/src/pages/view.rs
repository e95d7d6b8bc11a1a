//! Formatting of values for people: URLs with query strings, money, dates, yes/no, and the
//! "keine Angabe" of unknown facts.

use mitsprache_catalogue::{EuroRange, Known, Sourced};
use mitsprache_domain::{Locale, iso_date};
use mitsprache_i18n::Messages;

pub fn url(path: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    format!("{path}?{}", s.finish())
}

/// A language tag as a name people read (CLDR names in the page language).
pub fn language_name(locale: Locale, tag: &str) -> String {
    mitsprache_i18n::language_name(locale, tag)
}

pub fn date(locale: Locale, d: time::Date) -> String {
    match locale {
        Locale::De => format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year()),
        Locale::En => iso_date::format(d),
    }
}

pub fn range(locale: Locale, r: &EuroRange) -> String {
    if (r.min - r.max).abs() < f64::EPSILON {
        locale.format_eur(r.min)
    } else {
        format!("{} – {}", locale.format_eur(r.min), locale.format_eur(r.max))
    }
}

pub fn yes_no(t: &Messages, b: bool) -> String {
    t.get(if b { "value.yes" } else { "value.no" }).to_owned()
}

/// A displayed value: either text or the marked "not published".
pub struct Value {
    pub text: String,
    pub unknown: bool,
}

impl Value {
    pub fn text(s: impl Into<String>) -> Value {
        Value { text: s.into(), unknown: false }
    }

    pub fn unknown(t: &Messages) -> Value {
        Value { text: t.get("value.unknown").to_owned(), unknown: true }
    }

    pub fn of<T>(t: &Messages, k: &Known<T>, f: impl FnOnce(&T) -> String) -> Value {
        match k.as_option() {
            Some(v) => Value::text(f(v)),
            None => Value::unknown(t),
        }
    }
}

/// The source line under a fact group.
pub struct Source {
    pub url: String,
    pub as_of: String,
}

impl Source {
    /// `as_of` is the whole localized phrase ("Stand: 26.11.2026").
    pub fn of(t: &Messages, s: &Sourced) -> Source {
        Source { url: s.source.clone(), as_of: t.fmt("source.as-of", &[("date", &date(t.locale(), s.as_of))]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_formatted_per_language() {
        let d = time::macros::date!(2026 - 11 - 26);
        assert_eq!(date(Locale::De, d), "26.11.2026");
        assert_eq!(date(Locale::En, d), "2026-11-26");
    }

    #[test]
    fn urls_encode_their_query() {
        assert_eq!(url("/m", &[("q".into(), "Bürger haushalt".into())]), "/m?q=B%C3%BCrger+haushalt");
    }
}
