//! The mitsprache data standard, version 1: how participation tools describe their processes,
//! contributions, events, results and organisations, so that a hub (and anyone else) can show
//! them side by side. Pure: types, validation and JSON Schemas; no I/O.
//!
//! The shape borrows from the best parts of what exists (ADR 0011): PDS for geometry, OParl for
//! the sync contract (`created`/`modified`/`deleted`, `modified_since`, soft deletes),
//! XBeteiligung's status codes for formal statements, Open311 for defect reports.
//!
//! Parsing is field by field, so every rejection names the field (`phases[1].start`), and
//! fields this version does not know are kept (a newer minor version adds fields; an older
//! reader must not lose them).

mod feeds;
mod fields;
mod geo;
mod ndjson;
mod records;
mod schema;
mod text;

pub use feeds::{FeedItem, atom, geojson, icalendar};
pub use geo::{check_geometry, check_point, point_position, representative_point};
pub use ndjson::{Line, LineError, parse_line};
pub use records::{
    Budget, Contribution, ContributionKind, ContributionStatus, Event, ImplementationStatus, Organisation, Paper,
    Phase, Place, Process, ProcessResult, ProcessStatus, Record, Votes, XBeteiligung,
};
pub use schema::{json_schema, schemas};
pub use text::Text;

use serde::Serialize;

/// The version of the standard these types implement. A minor version only adds optional
/// fields; a major version gets new schema URLs (`/standard/v2/…`).
pub const VERSION: &str = "1.1";

/// The record types of the standard, by their name in NDJSON lines (`"type"`), in schema file
/// names and (plural) in API paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Process,
    Contribution,
    Event,
    Result,
    Organisation,
    Paper,
}

impl Kind {
    pub const ALL: [Kind; 6] =
        [Kind::Process, Kind::Contribution, Kind::Event, Kind::Result, Kind::Organisation, Kind::Paper];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Process => "process",
            Kind::Contribution => "contribution",
            Kind::Event => "event",
            Kind::Result => "result",
            Kind::Organisation => "organisation",
            Kind::Paper => "paper",
        }
    }

    /// The collection's name in API paths (`/api/v1/data/processes/…`).
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Process => "processes",
            Kind::Contribution => "contributions",
            Kind::Event => "events",
            Kind::Result => "results",
            Kind::Organisation => "organisations",
            Kind::Paper => "papers",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn from_plural(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.plural() == s)
    }
}

/// One reason a record was rejected: the field (a JSON path like `phases[0].end`, or empty for
/// the record itself) and what is wrong with it, in English for the machine reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// A record that failed validation, with every reason (not only the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s), first {}: {}", .0.len(), .0[0].field, .0[0].message)]
pub struct Invalid(pub Vec<FieldError>);

/// An external id as a source gives it: what the tool calls the record. Non-empty, at most 200
/// characters, no control characters; `/` is allowed (it is percent-encoded in paths).
pub fn check_external_id(id: &str) -> Result<(), FieldError> {
    if id.is_empty() || id.chars().count() > 200 || id.chars().any(char::is_control) {
        return Err(FieldError::new("id", "must be 1 to 200 characters without control characters"));
    }
    Ok(())
}

/// The Amtlicher Gemeindeschlüssel: eight digits, the first two a Land (01–16).
pub fn check_ags(ags: &str) -> bool {
    ags.len() == 8 && ags.bytes().all(|b| b.is_ascii_digit()) && matches!(ags[..2].parse::<u8>(), Ok(1..=16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ags_is_eight_digits_of_a_land() {
        assert!(check_ags("05315000"));
        assert!(check_ags("16055000"));
        assert!(!check_ags("17000000"));
        assert!(!check_ags("0531500"));
        assert!(!check_ags("05315ABC"));
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(Kind::from_plural(k.plural()), Some(k));
        }
    }
}

#[cfg(test)]
mod examples {
    use super::*;

    /// The examples published with the standard are records the standard accepts.
    #[test]
    fn the_published_examples_are_valid() {
        let examples = [
            (Kind::Process, include_str!("../../../docs/standard/examples/process.json")),
            (Kind::Contribution, include_str!("../../../docs/standard/examples/contribution.json")),
            (Kind::Event, include_str!("../../../docs/standard/examples/event.json")),
            (Kind::Result, include_str!("../../../docs/standard/examples/result.json")),
            (Kind::Organisation, include_str!("../../../docs/standard/examples/organisation.json")),
            (Kind::Paper, include_str!("../../../docs/standard/examples/paper.json")),
        ];
        for (kind, text) in examples {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let record = Record::parse(kind, value).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert_eq!(record.kind(), kind);
        }
    }
}
