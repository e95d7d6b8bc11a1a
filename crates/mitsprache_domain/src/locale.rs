//! The two languages the hub speaks. German is the default everywhere; English is second.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    De,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::De, Locale::En];

    pub fn tag(self) -> &'static str {
        match self {
            Locale::De => "de",
            Locale::En => "en",
        }
    }

    /// Parses a BCP 47 tag by its primary language ("en-GB" is English).
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "de" => Some(Locale::De),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header (RFC 9110 §12.5.4),
    /// honouring q-values; German when nothing matches.
    pub fn negotiate(accept_language: &str) -> Locale {
        let mut best: Option<(f32, usize, Locale)> = None;
        for (position, part) in accept_language.split(',').enumerate() {
            let mut pieces = part.split(';');
            let Some(tag) = pieces.next() else { continue };
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let Some(locale) = Locale::from_tag(tag) else { continue };
            if q <= 0.0 {
                continue;
            }
            // Higher q wins; on a tie the earlier entry wins.
            let better = match best {
                None => true,
                Some((bq, _, _)) => q > bq,
            };
            if better {
                best = Some((q, position, locale));
            }
        }
        best.map_or(Locale::De, |(_, _, l)| l)
    }
}

impl Locale {
    /// An amount in euros as people of this language write it: `12.500 €`, `EUR 12,500`.
    pub fn format_eur(self, amount: f64) -> String {
        let whole = amount.round() as i64;
        let digits = whole.unsigned_abs().to_string();
        let separator = match self {
            Locale::De => '.',
            Locale::En => ',',
        };
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(separator);
            }
            grouped.push(c);
        }
        let sign = if whole < 0 { "-" } else { "" };
        match self {
            Locale::De => format!("{sign}{grouped} €"),
            Locale::En => format!("{sign}EUR {grouped}"),
        }
    }
}

/// Text in German (required) and English (optional; falls back to German with a marker the UI
/// can show, rather than pretending a translation exists).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LocalizedText {
    pub de: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl LocalizedText {
    pub fn new(de: impl Into<String>, en: impl Into<String>) -> Self {
        LocalizedText { de: de.into(), en: Some(en.into()) }
    }

    pub fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::De => &self.de,
            Locale::En => self.en.as_deref().filter(|s| !s.is_empty()).unwrap_or(&self.de),
        }
    }

    /// Whether the text shown for `locale` is in that language (false when English falls back).
    pub fn has(&self, locale: Locale) -> bool {
        match locale {
            Locale::De => true,
            Locale::En => self.en.as_deref().is_some_and(|s| !s.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_highest_quality() {
        assert_eq!(Locale::negotiate("fr-CH, en;q=0.9, de;q=0.8"), Locale::En);
        assert_eq!(Locale::negotiate("de-DE,de;q=0.9,en;q=0.8"), Locale::De);
        assert_eq!(Locale::negotiate("en-US"), Locale::En);
    }

    #[test]
    fn unknown_or_refused_languages_fall_back_to_german() {
        assert_eq!(Locale::negotiate("fr, it"), Locale::De);
        assert_eq!(Locale::negotiate("en;q=0"), Locale::De);
        assert_eq!(Locale::negotiate(""), Locale::De);
        assert_eq!(Locale::negotiate(";;;,,q="), Locale::De);
    }

    #[test]
    fn money_is_written_per_language() {
        assert_eq!(Locale::De.format_eur(12500.0), "12.500 €");
        assert_eq!(Locale::En.format_eur(12500.0), "EUR 12,500");
        assert_eq!(Locale::De.format_eur(0.0), "0 €");
        assert_eq!(Locale::En.format_eur(1_234_567.4), "EUR 1,234,567");
    }

    #[test]
    fn english_text_falls_back_to_german() {
        let t = LocalizedText { de: "Beteiligung".into(), en: None };
        assert_eq!(t.get(Locale::En), "Beteiligung");
        assert!(!t.has(Locale::En));
    }
}
