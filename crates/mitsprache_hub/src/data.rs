//! Standard data in and out: tools push their processes, contributions, events, results and
//! organisations (`data:write`, only their own records), everyone reads them. A record is
//! checked against the standard (`mitsprache_standard`) and the catalogue's vocabulary before
//! the store keeps it; a bulk import keeps every valid line and names every rejected one.

use crate::conformance::rejections;
use crate::{Error, Forbidden, Hub, Result};
use mitsprache_catalogue::ValidationError;
use mitsprache_oidc::random::digest;
use mitsprache_oidc::{DATA_WRITE, grant::Scope};
use mitsprache_standard::{FieldError, Invalid, Line, Record, parse_line};
pub use mitsprache_standard::{Kind, LineError};
pub use mitsprache_store::{Applied, StoredRecord};
use mitsprache_store::{DataQuery, NewRecord, Provenance};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

/// Lines written in one transaction of a bulk import: large enough that the commit's fsync is
/// shared by many records, small enough that a lock is never held for long.
pub(crate) const BATCH: usize = 1_000;

/// What a bulk import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Lines read (blank lines are skipped and not counted).
    pub lines: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
    /// Every rejected line with its number and reasons; the other lines were kept.
    pub rejected: Vec<LineError>,
}

/// A list filter of the read API.
#[derive(Debug, Clone, Default)]
pub struct DataFilter {
    pub source: Option<String>,
    pub municipality: Option<String>,
    pub status: Option<String>,
    pub topic: Option<String>,
    pub q: Option<String>,
    pub process: Option<String>,
    pub modified_since: Option<OffsetDateTime>,
    pub page: u64,
    pub per_page: u64,
    /// Processes closing soonest first (the portal's order) instead of the latest change.
    pub closing_first: bool,
    pub process_type: Option<String>,
    pub near: Option<Near>,
}

/// "Near me": records within `radius_km` of a point (a box around it, as the lists filter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
}

impl Near {
    /// (south, west, north, east) in millionths of a degree: a degree of latitude is 111.2 km,
    /// one of longitude that times the cosine of the latitude.
    pub fn bounds(&self) -> (i64, i64, i64, i64) {
        let dlat = self.radius_km / 111.2;
        let dlon = self.radius_km / (111.2 * self.lat.to_radians().cos().max(0.01));
        let e6 = |v: f64| (v * 1e6).round() as i64;
        (e6(self.lat - dlat), e6(self.lon - dlon), e6(self.lat + dlat), e6(self.lon + dlon))
    }
}

/// The hub's id of a record: the same for the same type, source and external id on every
/// instance, so a re-sent record lands on its row and links stay stable.
pub fn record_id(kind: Kind, source: &str, external_id: &str) -> String {
    digest(&format!("{}\n{source}\n{external_id}", kind.as_str()))[..32].to_owned()
}

impl Hub {
    /// Whether `token` may push data, and as which source: an access token of a machine client
    /// (client_credentials) for the hub's API with the `data:write` scope. The client's id is the
    /// source, so a tool writes only its own records.
    pub async fn authorize_data_write(&self, token: Option<&str>) -> Result<String> {
        let token = token.ok_or(Error::Unauthenticated)?;
        let (at, grant) = self.check_access_token(token).await?;
        if !at.aud.iter().any(|a| *a == self.provider().api_audience()) || !Scope::parse(&at.scope).contains(DATA_WRITE)
        {
            return Err(Error::Forbidden(Forbidden::MissingDataScope));
        }
        if grant.is_some() {
            // A person's token speaks for the person, not for a tool's records.
            return Err(Error::Forbidden(Forbidden::NotMachine));
        }
        Ok(at.client_id)
    }

    /// Creates or replaces one record of `source`. The same request twice leaves the same state.
    pub async fn push(
        &self,
        source: &str,
        kind: Kind,
        external_id: &str,
        body: Value,
    ) -> Result<(Applied, StoredRecord)> {
        let checked = mitsprache_standard::check_external_id(external_id)
            .map_err(|e| vec![e])
            .and_then(|()| Record::parse(kind, body).map_err(|Invalid(e)| e))
            .and_then(|record| self.check_vocabulary(&record).map(|()| record));
        let record = match checked {
            Ok(record) => record,
            Err(errors) => {
                self.note_rejections(source, rejections(external_id.to_owned(), &errors).collect()).await;
                return Err(invalid(external_id, errors));
            }
        };
        let row = new_record(source, external_id, &record);
        let id = row.id.clone();
        let applied = self.store().data().apply(&[row], &self.pushed()).await?;
        self.data_changed();
        let stored = self.store().data().get(&id).await?.ok_or(Error::NotFound)?;
        Ok((applied[0], stored))
    }

    /// Deletes one record of `source`, keeping a tombstone. `NotFound` when it never existed;
    /// deleting twice is no error.
    pub async fn push_delete(&self, source: &str, kind: Kind, external_id: &str) -> Result<()> {
        let row = tombstone(kind, source, external_id);
        let applied = self.store().data().apply(&[row], &self.pushed()).await?;
        self.data_changed();
        match applied[0] {
            Applied::Missing => Err(Error::NotFound),
            _ => Ok(()),
        }
    }

    /// A bulk import (NDJSON, one record or deletion per line). Valid lines are kept in
    /// transactions of [`BATCH`] lines; rejected lines are reported by number.
    pub async fn import(&self, source: &str, ndjson: &str) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        let mut batch: Vec<NewRecord> = Vec::with_capacity(BATCH);
        for (n, text) in ndjson.lines().enumerate() {
            if text.trim().is_empty() {
                continue;
            }
            report.lines += 1;
            let row = match parse_line(text) {
                Ok(Line::Put { id, record }) => match self.check_vocabulary(&record) {
                    Ok(()) => new_record(source, &id, &record),
                    Err(errors) => {
                        report.rejected.push(LineError { line: n + 1, errors });
                        continue;
                    }
                },
                Ok(Line::Delete { kind, id }) => tombstone(kind, source, &id),
                Err(Invalid(errors)) => {
                    report.rejected.push(LineError { line: n + 1, errors });
                    continue;
                }
            };
            batch.push(row);
            if batch.len() == BATCH {
                self.write_batch(&mut batch, &mut report).await?;
            }
        }
        self.write_batch(&mut batch, &mut report).await?;
        let refused = report.rejected.iter().flat_map(|l| rejections(format!("line {}", l.line), &l.errors)).collect();
        self.note_rejections(source, refused).await;
        Ok(report)
    }

    async fn write_batch(&self, batch: &mut Vec<NewRecord>, report: &mut ImportReport) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let applied = self.store().data().apply(batch, &self.pushed()).await?;
        self.data_changed();
        for applied in applied {
            match applied {
                Applied::Created => report.created += 1,
                Applied::Updated => report.updated += 1,
                // A deletion of something never sent leaves the same state as one of a deleted record.
                Applied::Unchanged | Applied::Missing => report.unchanged += 1,
                Applied::Deleted => report.deleted += 1,
            }
        }
        batch.clear();
        Ok(())
    }

    /// A page of records of `kind` and the number of all that match.
    pub async fn data_list(&self, kind: Kind, f: &DataFilter) -> Result<(u64, Vec<StoredRecord>)> {
        let per_page = f.per_page.clamp(1, 100);
        let query = DataQuery {
            kind: kind.as_str(),
            source: f.source.clone(),
            municipality: f.municipality.clone(),
            // Every process has one of the three statuses: naming them all lets the store walk
            // a topic's (topic, status, order) index instead of sorting every match. (The other
            // filters have indexes of their own, which a list of statuses would only split.)
            status: f.status.clone().or_else(|| {
                (kind == Kind::Process && f.modified_since.is_none() && (f.topic.is_some() || f.q.is_some()))
                    .then(|| mitsprache_standard::ProcessStatus::ALL.map(|s| s.as_str()).join(","))
            }),
            topic: f.topic.clone(),
            words: f
                .q
                .as_deref()
                .map(|q| q.to_lowercase().split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            process: f.process.clone(),
            modified_since: f.modified_since,
            offset: f.page.saturating_sub(1).saturating_mul(per_page),
            limit: per_page,
            closing_first: f.closing_first,
            process_type: f.process_type.clone(),
            within: f.near.map(|n| n.bounds()),
        };
        Ok(self.store().data().list(&query).await?)
    }

    /// One record of `kind` by the hub's id; tombstones are not found.
    pub async fn data_get(&self, kind: Kind, id: &str) -> Result<StoredRecord> {
        if id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(Error::NotFound);
        }
        match self.store().data().get(id).await? {
            Some(r) if r.kind == kind.as_str() && !r.deleted => Ok(r),
            _ => Err(Error::NotFound),
        }
    }

    fn pushed(&self) -> Provenance {
        Provenance { via: "push".into(), fetched_at: self.now() }
    }

    /// The rules beyond the record itself: a process type must be one of the catalogue's.
    fn check_vocabulary(&self, record: &Record) -> std::result::Result<(), Vec<FieldError>> {
        let catalogue = self.catalogue();
        if let Record::Process(p) = record
            && let Some(t) = &p.process_type
            && catalogue.taxonomy.process_type(t).is_none()
        {
            let known: Vec<&str> = catalogue.taxonomy.process_types.iter().map(|t| t.key.as_str()).collect();
            return Err(vec![FieldError::new(
                "process_type",
                format!("`{t}` is not a process type of the catalogue ({})", known.join(", ")),
            )]);
        }
        Ok(())
    }
}

/// The record as the API shows it: the hub's id, its source and external id, the record's
/// fields, and where it came from. A tombstone carries only the identifiers and `deleted`.
pub fn record_json(r: &StoredRecord) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(r.id));
    out.insert("source".into(), json!(r.source));
    out.insert("external_id".into(), json!(r.external_id));
    if let Some(Value::Object(fields)) = r.doc.as_deref().and_then(|d| serde_json::from_str(d).ok()) {
        for (k, v) in fields {
            // The envelope's names win: a record's own field of that name would be a newer
            // version's, and is still in the stored document.
            out.entry(k).or_insert(v);
        }
    }
    out.insert("deleted".into(), json!(r.deleted));
    out.insert("provenance".into(), json!({"via": r.via, "fetched_at": rfc3339(r.fetched_at)}));
    out.insert("created".into(), json!(rfc3339(r.created)));
    out.insert("modified".into(), json!(rfc3339(r.modified)));
    Value::Object(out)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn invalid(external_id: &str, errors: Vec<FieldError>) -> Error {
    Error::Validation(
        errors
            .into_iter()
            .map(|e| ValidationError { record: external_id.to_owned(), field: e.field, message: e.message })
            .collect(),
    )
}

pub(crate) fn new_record(source: &str, external_id: &str, record: &Record) -> NewRecord {
    let kind = record.kind();
    let (status, municipality, topics) = match record {
        Record::Process(p) => (
            Some(p.status.as_str().to_owned()),
            p.municipality.clone(),
            if p.topics.is_empty() {
                String::new()
            } else {
                format!("|{}|", p.topics.iter().map(|t| t.to_lowercase()).collect::<Vec<_>>().join("|"))
            },
        ),
        Record::Organisation(o) => (None, Some(o.municipality.clone()), String::new()),
        Record::Paper(p) => (None, p.municipality.clone(), String::new()),
        Record::Contribution(c) => {
            (c.status.and_then(|s| serde_json::to_value(s).ok()?.as_str().map(str::to_owned)), None, String::new())
        }
        Record::Result(r) => (
            r.implementation_status.and_then(|s| serde_json::to_value(s).ok()?.as_str().map(str::to_owned)),
            None,
            String::new(),
        ),
        Record::Event(_) => (None, None, String::new()),
    };
    NewRecord {
        id: record_id(kind, source, external_id),
        kind: kind.as_str(),
        source: source.to_owned(),
        external_id: external_id.to_owned(),
        doc: Some(record.to_json().to_string()),
        process: record.process().map(str::to_owned),
        status,
        municipality,
        topics,
        search: record.search_text(),
        updated_at: Some(record.updated_at()),
        closes_at: match record {
            Record::Process(p) => p.phases.iter().filter_map(|ph| ph.end).max(),
            _ => None,
        },
        author: match record {
            Record::Contribution(c) => c.author.clone(),
            _ => None,
        },
        process_type: match record {
            Record::Process(p) => p.process_type.clone(),
            _ => None,
        },
        position: match record {
            Record::Process(p) => p.geometry.as_ref(),
            Record::Contribution(c) => c.location.as_ref(),
            _ => None,
        }
        .and_then(mitsprache_standard::representative_point)
        .map(|(lon, lat)| ((lat * 1e6).round() as i64, (lon * 1e6).round() as i64)),
    }
}

pub(crate) fn tombstone(kind: Kind, source: &str, external_id: &str) -> NewRecord {
    NewRecord {
        id: record_id(kind, source, external_id),
        kind: kind.as_str(),
        source: source.to_owned(),
        external_id: external_id.to_owned(),
        doc: None,
        process: None,
        status: None,
        municipality: None,
        topics: String::new(),
        search: String::new(),
        updated_at: None,
        closes_at: None,
        author: None,
        process_type: None,
        position: None,
    }
}
