//! The conformance report of a source (a connected tool the hub pulls from, or a tool that
//! pushes, named by its client id), for its vendor and the operator: which fields of the
//! standard its records fill, what the hub refused and why, and when it last synced or pushed.
//! Public like the data itself; it names records by their external ids, never their content.

use crate::{Error, Hub, Result};
use mitsprache_oidc::random::id;
use mitsprache_standard::{FieldError, Kind};
use mitsprache_store::Rejection;
use serde::Serialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

/// How far back the refusals are counted.
pub const WINDOW_DAYS: i64 = 30;
/// The fill of fields is measured on this many of a type's latest records: enough for a share
/// in whole percent, cheap enough for a public page.
pub const SAMPLE: i64 = 1_000;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConformanceReport {
    pub source: String,
    /// `push`, or the connector's kind (`decidim`, …).
    pub via: String,
    /// The latest sync of a pulled source.
    pub last_sync: Option<LastSync>,
    /// When the source last wrote a record (by push or sync).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_write: Option<OffsetDateTime>,
    pub types: Vec<TypeFill>,
    /// Refusals of the last 30 days by reason (the field of the standard), most first.
    pub rejected: Vec<ReasonCount>,
    /// The latest refused records, newest first.
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastSync {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub ok: bool,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TypeFill {
    #[serde(rename = "type")]
    pub kind: String,
    /// Live records of this type.
    pub records: i64,
    /// How many of them the fill was measured on (the latest, at most 1,000).
    pub measured: i64,
    pub fields: Vec<FieldFill>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldFill {
    pub field: String,
    pub filled: i64,
    /// Share of the measured records, 0–100.
    pub percent: u8,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReasonCount {
    pub reason: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Example {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// The external id, or `line N` of a bulk import.
    pub record: String,
    pub reason: String,
    pub message: String,
}

/// A field path as a reason: list positions folded (`phases[3].end` → `phases[].end`), the
/// record itself as `record`.
pub(crate) fn reason(field: &str) -> String {
    if field.is_empty() {
        return "record".into();
    }
    let mut out = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            c if in_index && c.is_ascii_digit() => {}
            c => out.push(c),
        }
    }
    out
}

/// One rejection per invalid field of `record` (an external id, or `line N`).
pub(crate) fn rejections(record: String, errors: &[FieldError]) -> impl Iterator<Item = Rejection> + '_ {
    errors.iter().map(move |e| Rejection {
        record: record.clone(),
        reason: reason(&e.field),
        message: e.message.clone(),
    })
}

/// Whether a field holds something: present, not null, not an empty text, list or object.
fn filled(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

impl Hub {
    /// Counts what was refused of `source`'s data and keeps the latest examples. A failure to
    /// note it is logged: it must not turn a refused record into a server error.
    pub(crate) async fn note_rejections(&self, source: &str, rejected: Vec<Rejection>) {
        if rejected.is_empty() {
            return;
        }
        if let Err(e) = self.store().conformance().record(source, &id(self.random()), self.now(), &rejected).await {
            tracing::warn!(source, error = %e, "cannot count the rejected records");
        }
    }

    /// The conformance report of a source; `NotFound` for a source the hub has heard nothing of.
    pub async fn conformance(&self, source: &str) -> Result<ConformanceReport> {
        let store = self.store();
        let pulled = store.sources().find(source).await?;
        let last_sync = match &pulled {
            Some(_) => store.sources().syncs(source, 1).await?.into_iter().next().map(|s| LastSync {
                at: s.started_at,
                ok: s.ok,
                message: s.message,
            }),
            None => None,
        };
        let mut kept = Vec::new();
        for kind in Kind::ALL {
            let (records, last) = store.conformance().kept(source, kind.as_str()).await?;
            if records > 0 || last.is_some() {
                kept.push((kind, records, last));
            }
        }
        let rejected: Vec<ReasonCount> = store
            .conformance()
            .counts(source, self.now() - Duration::days(WINDOW_DAYS))
            .await?
            .into_iter()
            .map(|(reason, count)| ReasonCount { reason, count })
            .collect();
        let examples: Vec<Example> = store
            .conformance()
            .examples(source)
            .await?
            .into_iter()
            .map(|e| Example { at: e.at, record: e.record, reason: e.reason, message: e.message })
            .collect();
        if pulled.is_none() && kept.is_empty() && rejected.is_empty() && examples.is_empty() {
            return Err(Error::NotFound);
        }
        let base = format!("{}/standard/v1", self.config().issuer);
        let mut types = Vec::new();
        for &(kind, records, _) in kept.iter().filter(|(_, records, _)| *records > 0) {
            let schema = mitsprache_standard::json_schema(kind, &base);
            let names: Vec<String> = schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            let docs = store.conformance().sample(source, kind.as_str(), SAMPLE).await?;
            let docs: Vec<Value> = docs.iter().filter_map(|d| serde_json::from_str(d).ok()).collect();
            let measured = docs.len() as i64;
            let fields = names
                .into_iter()
                .map(|field| {
                    let n = docs.iter().filter(|d| filled(d.get(&field))).count() as i64;
                    let percent = if measured == 0 { 0 } else { (n * 100 / measured) as u8 };
                    FieldFill { field, filled: n, percent }
                })
                .collect();
            types.push(TypeFill { kind: kind.as_str().to_owned(), records, measured, fields });
        }
        Ok(ConformanceReport {
            source: source.to_owned(),
            via: pulled.map(|s| s.kind).unwrap_or_else(|| "push".into()),
            last_sync,
            last_write: kept.iter().filter_map(|(_, _, t)| *t).max(),
            types,
            rejected,
            examples,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_positions_are_folded() {
        assert_eq!(reason("phases[3].end"), "phases[].end");
        assert_eq!(reason("phases[12].title.de"), "phases[].title.de");
        assert_eq!(reason(""), "record");
        assert_eq!(reason("title"), "title");
    }

    #[test]
    fn empty_is_not_filled() {
        assert!(!filled(Some(&serde_json::json!([]))));
        assert!(!filled(Some(&serde_json::json!(""))));
        assert!(!filled(Some(&Value::Null)));
        assert!(filled(Some(&serde_json::json!(0))));
        assert!(filled(Some(&serde_json::json!({"de": "x"}))));
    }
}
