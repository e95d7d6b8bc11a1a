//! Pull connectors: the hub fetches the processes and contributions of a tool's installation
//! through the tool's own API and keeps them in the data standard, like pushed records. One
//! module per tool, each a mapping from the tool's real API shape (checked against the tools'
//! repositories, `../shared/research/connectors-verified.md`) to `mitsprache_standard` records.
//!
//! A sync is a full walk of the source: what it shows is written (unchanged records are not),
//! what it no longer shows is deleted where the tool removes things by hiding them (Decidim).
//! A record that cannot be mapped is skipped and reported, never stored half; a walk that fails
//! half-way writes nothing, so the last good state stays.

mod decidim;
mod open311;

use crate::data::{BATCH, new_record, tombstone};
use crate::jobs::{Job, JobError};
use crate::ports::{HttpRequest, HttpResponse};
use crate::{Error, Hub, Result};
use mitsprache_oidc::random::id;
use mitsprache_standard::{Kind, Record, check_ags};
use mitsprache_store::{Applied, Provenance, Recurring, SourceRecord, SyncRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use time::{Duration, OffsetDateTime};

/// How a connected tool's fields become the standard's: the table the standard's page shows,
/// kept beside the code that does it.
#[derive(Debug)]
pub struct Mapping {
    pub tool: &'static str,
    /// The API the connector reads, as the tool documents it.
    pub api: &'static str,
    /// (the tool's field, the standard's field and how).
    pub fields: &'static [(&'static str, &'static str)],
    /// The tool's data the standard does not carry (yet).
    pub unmapped: &'static [&'static str],
    /// What links an author to a hub login, in German and English.
    pub authors: (&'static str, &'static str),
}

/// The mappings of every connector this build has, and of a tool that pushes.
pub fn mappings() -> [&'static Mapping; 2] {
    [&decidim::MAPPING, &open311::MAPPING]
}

/// The tools a source can be, by the name `mitsprache source add --kind` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Decidim,
    Consul,
    Dipas,
    Open311,
    Govocal,
    Meinberlin,
    Limesurvey,
    Oparl,
}

impl SourceKind {
    pub const ALL: [SourceKind; 8] = [
        SourceKind::Decidim,
        SourceKind::Consul,
        SourceKind::Dipas,
        SourceKind::Open311,
        SourceKind::Govocal,
        SourceKind::Meinberlin,
        SourceKind::Limesurvey,
        SourceKind::Oparl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Decidim => "decidim",
            SourceKind::Consul => "consul",
            SourceKind::Dipas => "dipas",
            SourceKind::Open311 => "open311",
            SourceKind::Govocal => "govocal",
            SourceKind::Meinberlin => "meinberlin",
            SourceKind::Limesurvey => "limesurvey",
            SourceKind::Oparl => "oparl",
        }
    }

    pub fn parse(s: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether this build has the connector; the others are named so the CLI can say so.
    pub fn is_built(self) -> bool {
        matches!(self, SourceKind::Decidim | SourceKind::Open311)
    }

    /// The least time between two requests to one source: Decidim allows 100 a minute per IP.
    fn min_interval(self) -> std::time::Duration {
        match self {
            SourceKind::Decidim => std::time::Duration::from_millis(600),
            _ => std::time::Duration::from_millis(100),
        }
    }
}

/// A source as the operator adds it.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub name: String,
    pub kind: SourceKind,
    pub url: String,
    pub municipality: Option<String>,
    /// The contents of the credentials file: a JSON object (e.g. `{"client_id", "client_secret"}`).
    pub credentials: Option<String>,
    pub interval_minutes: i64,
}

/// A record of the source that could not be mapped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub id: String,
    pub reason: String,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncSummary {
    pub source: String,
    pub requests: u64,
    pub fetched: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub rejected: Vec<Rejected>,
}

/// What a connector fetched in one walk.
#[derive(Debug, Default)]
struct Walk {
    records: Vec<(String, Record)>,
    rejected: Vec<Rejected>,
    /// The record types whose every live record the walk saw: the others of these types are
    /// gone at the source.
    complete: Vec<Kind>,
}

impl Walk {
    /// Maps a record of the source: checked by the standard's own rules, or reported.
    fn add(&mut self, kind: Kind, id: String, value: Value) {
        match Record::parse(kind, value) {
            Ok(record) => self.records.push((id, record)),
            Err(e) => {
                tracing::warn!(record = %id, error = %e, "skipping a record the standard does not accept");
                self.rejected.push(Rejected { id, reason: e.to_string() });
            }
        }
    }

    fn reject(&mut self, id: impl Into<String>, reason: impl Into<String>) {
        let (id, reason) = (id.into(), reason.into());
        tracing::warn!(record = %id, reason = %reason, "skipping a record of the source");
        self.rejected.push(Rejected { id, reason });
    }
}

/// Outbound requests of one sync: paced to the source's limit, `Retry-After` honoured.
struct Client<'a> {
    hub: &'a Hub,
    min_interval: std::time::Duration,
    last: Option<tokio::time::Instant>,
    requests: u64,
    progress: &'a (dyn Fn(u64, u64) + Send + Sync),
    fetched: u64,
}

/// How long a sync may hold its source before another may start: longer than any walk takes
/// (a crashed instance's lease runs out after it).
const SYNC_LEASE: Duration = Duration::hours(2);

/// How often a refused request (429, 503) is tried again within one sync.
const RETRIES: u32 = 4;
/// The longest `Retry-After` a sync waits for; a source that asks for more fails this sync.
const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

impl Client<'_> {
    async fn send(&mut self, request: HttpRequest) -> std::result::Result<HttpResponse, String> {
        let mut attempt = 0;
        loop {
            if let Some(last) = self.last {
                tokio::time::sleep_until(last + self.min_interval).await;
            }
            self.last = Some(tokio::time::Instant::now());
            self.requests += 1;
            (self.progress)(self.requests, self.fetched);
            let response = self.hub.http().send(request.clone()).await.map_err(|e| e.to_string())?;
            if response.is_success() {
                return Ok(response);
            }
            if matches!(response.status, 429 | 503) && attempt < RETRIES {
                let wait = std::time::Duration::from_secs(response.retry_after.unwrap_or(2 << attempt));
                if wait > MAX_WAIT {
                    return Err(format!("the source asks to wait {} s", wait.as_secs()));
                }
                tracing::info!(status = response.status, wait_s = wait.as_secs(), "the source asks to slow down");
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return Err(format!("the source answered {}", response.status));
        }
    }

    fn counted(&mut self, n: usize) {
        self.fetched += n as u64;
        (self.progress)(self.requests, self.fetched);
    }
}

/// Recurring sync of one source, scheduled when the source is added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSource {
    pub source: String,
}

impl Job for SyncSource {
    const KIND: &'static str = "source.sync";

    async fn run(self, hub: &Hub) -> std::result::Result<(), JobError> {
        match hub.sync_source(&self.source, &|_, _| {}).await {
            Ok(_) => Ok(()),
            Err(Error::NotFound) => Err(JobError::Permanent(format!("no source named {}", self.source))),
            // Another instance (or an operator) syncs it right now: this run has nothing to do.
            Err(Error::Conflict(_)) => Ok(()),
            Err(e) => Err(JobError::Retry(e.to_string())),
        }
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

impl Hub {
    /// Adds a source and schedules its sync. The name is how the records' `source` reads.
    pub async fn add_source(&self, new: NewSource) -> Result<SourceRecord> {
        let invalid = |field: &str, message: &str| Error::Invalid { field: field.into(), message: message.into() };
        if !valid_name(&new.name) {
            return Err(invalid("name", "1 to 64 lower-case letters, digits and hyphens"));
        }
        if !new.kind.is_built() {
            return Err(Error::Unprocessable(format!(
                "this build has no {} connector yet (built: decidim, open311)",
                new.kind.as_str()
            )));
        }
        let url = new.url.trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&url).map_err(|_| invalid("url", "must be an absolute http(s) URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            return Err(invalid("url", "must be an http(s) base URL without a query"));
        }
        if new.municipality.as_deref().is_some_and(|m| !check_ags(m)) {
            return Err(invalid("municipality", "must be an Amtlicher Gemeindeschlüssel (8 digits)"));
        }
        if let Some(c) = &new.credentials
            && !serde_json::from_str::<Value>(c).is_ok_and(|v| v.is_object())
        {
            return Err(invalid("credentials", "the credentials file must hold a JSON object"));
        }
        if !(5..=10_080).contains(&new.interval_minutes) {
            return Err(invalid("interval", "from 5 minutes to a week (10080)"));
        }
        let record = SourceRecord {
            name: new.name,
            kind: new.kind.as_str().to_owned(),
            url,
            municipality: new.municipality,
            credentials: new.credentials,
            interval_minutes: new.interval_minutes,
            created_at: self.now(),
        };
        self.store().sources().add(&record).await?;
        let payload = serde_json::to_string(&SyncSource { source: record.name.clone() }).unwrap_or_default();
        self.store()
            .jobs()
            .schedule(&Recurring {
                id: &id(self.random()),
                key: &format!("source.sync:{}", record.name),
                kind: SyncSource::KIND,
                payload: &payload,
                every: Duration::minutes(record.interval_minutes),
                // The operator syncs a new source at once with `mitsprache sync`; the schedule
                // takes over after the first interval.
                first_run_at: self.now() + Duration::minutes(record.interval_minutes),
            })
            .await?;
        self.jobs_queued();
        Ok(record)
    }

    /// Every source with its latest sync.
    pub async fn sources(&self) -> Result<Vec<(SourceRecord, Option<SyncRecord>)>> {
        let mut out = Vec::new();
        for s in self.store().sources().all().await? {
            let last = self.store().sources().syncs(&s.name, 1).await?.into_iter().next();
            out.push((s, last));
        }
        Ok(out)
    }

    /// The sync log of a source, newest first.
    pub async fn source_syncs(&self, name: &str, limit: i64) -> Result<Vec<SyncRecord>> {
        Ok(self.store().sources().syncs(name, limit).await?)
    }

    /// Walks a source once and brings the hub's copy up to date. `progress` hears the requests
    /// sent and the records fetched so far.
    /// `Conflict` when a sync of the source runs already (here or on another instance).
    pub async fn sync_source(&self, name: &str, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<SyncSummary> {
        let source = self.store().sources().find(name).await?.ok_or(Error::NotFound)?;
        if !self.store().sources().lease(name, self.now(), self.now() + SYNC_LEASE).await? {
            return Err(Error::Conflict(format!("a sync of {name} is running")));
        }
        let result = self.sync_leased(source, progress).await;
        if let Err(e) = self.store().sources().release(name).await {
            // The lease runs out on its own; the next sync waits at most that long.
            tracing::warn!(source = %name, error = %e, "cannot release the sync lease");
        }
        result
    }

    async fn sync_leased(
        &self,
        source: SourceRecord,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<SyncSummary> {
        let kind = SourceKind::parse(&source.kind)
            .ok_or_else(|| Error::Internal(format!("unknown source kind {}", source.kind)))?;
        let started = self.now();
        let mut client =
            Client { hub: self, min_interval: kind.min_interval(), last: None, requests: 0, progress, fetched: 0 };
        let walked = match kind {
            SourceKind::Decidim => decidim::walk(&mut client, &source, started).await,
            SourceKind::Open311 => open311::walk(&mut client, &source, started).await,
            other => Err(format!("this build has no {} connector", other.as_str())),
        };
        let mut summary = SyncSummary { source: source.name.clone(), requests: client.requests, ..Default::default() };
        let walk = match walked {
            Ok(w) => w,
            Err(message) => {
                tracing::warn!(source = %source.name, error = %message, "sync failed; the last good state stays");
                self.log_sync(&source, started, false, &summary, &message).await?;
                return Err(Error::Unavailable(message.into()));
            }
        };
        summary.fetched = walk.records.len() as u64;
        summary.rejected = walk.rejected;
        let mut rows: Vec<_> = walk.records.iter().map(|(id, r)| new_record(&source.name, id, r)).collect();
        let seen: BTreeMap<Kind, BTreeSet<&str>> = walk.records.iter().fold(BTreeMap::new(), |mut m, (id, r)| {
            m.entry(r.kind()).or_default().insert(id.as_str());
            m
        });
        for kind in walk.complete {
            let empty = BTreeSet::new();
            let seen = seen.get(&kind).unwrap_or(&empty);
            for gone in self.store().data().live_ids(&source.name, kind.as_str()).await? {
                if !seen.contains(gone.as_str()) {
                    rows.push(tombstone(kind, &source.name, &gone));
                }
            }
        }
        let provenance = Provenance { via: kind.as_str().to_owned(), fetched_at: self.now() };
        for batch in rows.chunks(BATCH) {
            for applied in self.store().data().apply(batch, &provenance).await? {
                match applied {
                    Applied::Created => summary.created += 1,
                    Applied::Updated => summary.updated += 1,
                    Applied::Unchanged | Applied::Missing => summary.unchanged += 1,
                    Applied::Deleted => summary.deleted += 1,
                }
            }
        }
        self.log_sync(&source, started, true, &summary, "").await?;
        tracing::info!(source = %source.name, requests = summary.requests, fetched = summary.fetched,
            created = summary.created, updated = summary.updated, deleted = summary.deleted,
            rejected = summary.rejected.len(), "source synced");
        Ok(summary)
    }

    async fn log_sync(
        &self,
        source: &SourceRecord,
        started: OffsetDateTime,
        ok: bool,
        s: &SyncSummary,
        message: &str,
    ) -> Result<()> {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        // The log keeps the latest examples, not every rejected record of a large source.
        let rejected: Vec<&Rejected> = s.rejected.iter().take(20).collect();
        self.store()
            .sources()
            .log_sync(&SyncRecord {
                id: id(self.random()),
                source: source.name.clone(),
                started_at: started,
                finished_at: self.now(),
                ok,
                requests: n(s.requests),
                fetched: n(s.fetched),
                created: n(s.created),
                updated: n(s.updated),
                unchanged: n(s.unchanged),
                deleted: n(s.deleted),
                rejected: serde_json::to_string(&rejected).unwrap_or_else(|_| "[]".into()),
                message: message.to_owned(),
            })
            .await?;
        Ok(())
    }
}

/// `{"de": …}` from a tool's text in the source's language, when it has any text.
fn text(lang: &str, s: Option<&str>) -> Option<Value> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(|s| serde_json::json!({ lang: s }))
}

/// Tools write HTML into texts; the standard carries plain text. Block elements become a space,
/// inline ones (`<b>`, `<a>`) vanish without one, so "Rad<b>wege</b>?" stays one word.
fn plain(html: &str) -> String {
    const BLOCKS: [&str; 14] = ["p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td"];
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = &rest[open..];
            break;
        };
        let tag = rest[open + 1..open + close].trim_start_matches('/');
        let name: String = tag.chars().take_while(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
        if BLOCKS.contains(&name.as_str()) {
            out.push(' ');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(
            plain("<p>Mehr&nbsp;Bügel</p><p>am <b>Bahnhof</b> &amp; Markt</p>"),
            "Mehr Bügel am Bahnhof & Markt"
        );
        assert_eq!(plain("Wo fehlen <b>Radwege</b>?<br/>Sagen Sie es"), "Wo fehlen Radwege? Sagen Sie es");
    }

    #[test]
    fn source_names() {
        assert!(valid_name("decidim-koeln"));
        assert!(!valid_name("Decidim Köln"));
        assert!(!valid_name("-x"));
        assert!(SourceKind::parse("govocal").is_some_and(|k| !k.is_built()));
    }
}
