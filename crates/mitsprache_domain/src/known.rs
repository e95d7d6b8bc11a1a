//! `Known<T>`: the catalogue's rule that what is not known stays `unknown` and is never filled
//! with a guess. In JSON an unknown value is the string `"unknown"`, so that a record author has
//! to write it down on purpose instead of leaving a field out by accident.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Known<T> {
    #[default]
    Unknown,
    Known(T),
}

impl<T> Known<T> {
    pub fn as_option(&self) -> Option<&T> {
        match self {
            Known::Unknown => None,
            Known::Known(v) => Some(v),
        }
    }

    pub fn is_known(&self) -> bool {
        matches!(self, Known::Known(_))
    }

    pub fn map<U>(&self, f: impl FnOnce(&T) -> U) -> Known<U> {
        match self {
            Known::Unknown => Known::Unknown,
            Known::Known(v) => Known::Known(f(v)),
        }
    }
}

impl<T> From<Option<T>> for Known<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Known::Unknown, Known::Known)
    }
}

impl<T: Serialize> Serialize for Known<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Known::Unknown => serializer.serialize_str("unknown"),
            Known::Known(v) => v.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Known<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Buffer the value once: "unknown" is a marker only where T itself is not a string that
        // could legitimately say "unknown"; no catalogue field has such a value.
        let value = serde_value::Value::deserialize(deserializer)?;
        if let serde_value::Value::String(s) = &value
            && s == "unknown"
        {
            return Ok(Known::Unknown);
        }
        T::deserialize(value).map(Known::Known).map_err(serde::de::Error::custom)
    }
}

/// Where a group of facts comes from and when it was read. Every fact group in the catalogue
/// carries one, so an administration can check the claim and see how old it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sourced {
    /// URL of the public page or file the facts were taken from.
    #[schema(pattern = r"^https?://\S+$")]
    pub source: String,
    /// The day the source was read (YYYY-MM-DD).
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    /// `vendor` when the facts are the vendor's own statement ("Angabe des Anbieters"),
    /// published after an editor's review; absent for facts found in public sources.
    #[serde(default, skip_serializing_if = "Origin::is_research")]
    pub origin: Origin,
}

impl Sourced {
    /// Facts read from a public source on `as_of`.
    pub fn research(source: impl Into<String>, as_of: Date) -> Sourced {
        Sourced { source: source.into(), as_of, origin: Origin::Research }
    }
}

/// Who stated a fact: found in a public source, or stated by the vendor itself. A page shows the
/// difference, because a Vergabestelle weighs the two differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    #[default]
    Research,
    Vendor,
}

impl Origin {
    pub fn is_research(&self) -> bool {
        *self == Origin::Research
    }
}

pub mod iso_date {
    //! `YYYY-MM-DD` (de)serialisation for [`time::Date`].
    use serde::{Deserialize, Deserializer, Serializer};
    use time::{Date, format_description::BorrowedFormatItem, macros::format_description};

    const FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
        let text = date.format(FORMAT).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text, FORMAT)
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a date of the form YYYY-MM-DD")))
    }

    pub fn format(date: Date) -> String {
        date.format(FORMAT).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_is_written_as_the_word_unknown() {
        let v: Known<u32> = Known::Unknown;
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"unknown\"");
    }

    #[test]
    fn a_known_value_round_trips() {
        let v: Known<u32> = serde_json::from_str("42").unwrap();
        assert_eq!(v, Known::Known(42));
        let u: Known<u32> = serde_json::from_str("\"unknown\"").unwrap();
        assert_eq!(u, Known::Unknown);
    }

    #[test]
    fn a_missing_value_is_not_silently_unknown() {
        // `null` is not "unknown": record authors must say so explicitly.
        assert!(serde_json::from_str::<Known<u32>>("null").is_err());
    }

    #[test]
    fn dates_must_be_iso() {
        let s: Result<Sourced, _> = serde_json::from_str(r#"{"source":"https://x.example","as_of":"26.11.2026"}"#);
        assert!(s.is_err());
        let s: Sourced = serde_json::from_str(r#"{"source":"https://x.example","as_of":"2026-11-26"}"#).unwrap();
        assert_eq!(iso_date::format(s.as_of), "2026-11-26");
    }
}
