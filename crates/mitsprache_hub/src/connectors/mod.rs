//! Pull connectors: the hub fetches the processes and contributions of a tool's installation
//! through the tool's own API and keeps them in the data standard, like pushed records. One
//! module per tool, each a mapping from the tool's real API shape (checked against the tools'
//! repositories, `../shared/research/connectors-verified.md`) to `mitsprache_standard` records.
//!
//! A sync walks the source: what it shows is written (unchanged records are not), what it no
//! longer shows is deleted where the tool removes things by hiding them (Decidim, CONSUL, …).
//! Where the tool can say what changed (Go Vocal, OParl, Klarschiff's Open311), a sync after the
//! first good one asks only for that, from the start of the last good sync.
//! A record that cannot be mapped is skipped and reported, never stored half; a walk that fails
//! half-way writes nothing, so the last good state stays.

mod consul;
mod decidim;
mod dipas;
mod govocal;
mod limesurvey;
mod meinberlin;
mod oparl;
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
pub fn mappings() -> [&'static Mapping; 8] {
    [
        &decidim::MAPPING,
        &consul::MAPPING,
        &dipas::MAPPING,
        &govocal::MAPPING,
        &limesurvey::MAPPING,
        &meinberlin::MAPPING,
        &open311::MAPPING,
        &oparl::MAPPING,
    ]
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

    /// The tool's entry in the marketplace's catalogue; none for protocols that many tools
    /// speak (Open311, OParl).
    pub fn catalogue_slug(self) -> Option<&'static str> {
        match self {
            SourceKind::Decidim => Some("decidim"),
            SourceKind::Consul => Some("consul-democracy"),
            SourceKind::Dipas => Some("dipas"),
            SourceKind::Govocal => Some("go-vocal"),
            SourceKind::Meinberlin => Some("meinberlin"),
            SourceKind::Limesurvey => Some("limesurvey"),
            SourceKind::Open311 | SourceKind::Oparl => None,
        }
    }

    /// The least time between two requests to one source: Decidim allows 100 a minute per IP.
    fn min_interval(self) -> std::time::Duration {
        match self {
            SourceKind::Decidim => std::time::Duration::from_millis(600),
            _ => std::time::Duration::from_millis(100),
        }
    }
}

/// Whether a client may push records of the standard (and so be a data source).
pub(crate) fn pushes_data(c: &mitsprache_oidc::client::Client) -> bool {
    c.scopes.iter().any(|s| s == mitsprache_oidc::DATA_WRITE)
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
    /// The fields of the standard it failed on, for the conformance report; none when the
    /// source's record could not be read at all.
    #[serde(skip)]
    pub errors: Vec<mitsprache_standard::FieldError>,
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
    /// Records the source says it deleted (an incremental walk of a tool that lists deletions).
    deleted: Vec<(Kind, String)>,
}

impl Walk {
    /// Maps a record of the source: checked by the standard's own rules, or reported.
    fn add(&mut self, kind: Kind, id: String, value: Value) {
        match Record::parse(kind, value) {
            Ok(record) => self.records.push((id, record)),
            Err(e) => {
                tracing::warn!(record = %id, error = %e, "skipping a record the standard does not accept");
                self.rejected.push(Rejected { id, reason: e.to_string(), errors: e.0 });
            }
        }
    }

    fn reject(&mut self, id: impl Into<String>, reason: impl Into<String>) {
        let (id, reason) = (id.into(), reason.into());
        tracing::warn!(record = %id, reason = %reason, "skipping a record of the source");
        self.rejected.push(Rejected {
            errors: vec![mitsprache_standard::FieldError::new("", reason.clone())],
            id,
            reason,
        });
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

/// How far back before the last good sync an incremental walk asks again.
const SINCE_MARGIN: Duration = Duration::minutes(5);

/// How often a refused request (429, 503) is tried again within one sync.
const RETRIES: u32 = 4;
/// How often a request without an answer (a timeout, a dropped connection) is tried again.
pub const TRANSPORT_RETRIES: u32 = 2;
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
            let request = request.clone().timeout(self.hub.config().source_timeout);
            let response = match self.hub.http().send(request).await {
                Ok(r) => r,
                // A timeout or a dropped connection is tried again, like a refusal.
                Err(e) if attempt < TRANSPORT_RETRIES => {
                    let wait = std::time::Duration::from_secs(2 << attempt);
                    tracing::info!(error = %e, wait_s = wait.as_secs(), "no answer from the source; trying again");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(e.to_string()),
            };
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

    /// A webhook of the source's tool (Go Vocal's, signed with `X-GoVocal-Signature`) says
    /// something changed: the source's next sync is brought forward to now. Webhooks that come
    /// together move it once; a replayed one costs at most one incremental sync.
    /// `NotFound` for no such Go Vocal source, `Unauthenticated` for a missing or wrong signature.
    pub async fn source_webhook(&self, name: &str, signature: Option<&str>, body: &[u8]) -> Result<()> {
        let source = self.store().sources().find(name).await?.ok_or(Error::NotFound)?;
        if source.kind != SourceKind::Govocal.as_str() {
            return Err(Error::NotFound);
        }
        let secret = govocal::webhook_secret(source.credentials.as_deref()).ok_or(Error::Unauthenticated)?;
        if !signature.is_some_and(|s| govocal::signed(&secret, body, s)) {
            return Err(Error::Unauthenticated);
        }
        if self.store().jobs().run_now(&format!("source.sync:{name}"), self.now()).await? {
            self.jobs_queued();
        }
        Ok(())
    }

    /// Every source of data, pulled or pushing, as (the `source` of its records, a name for
    /// people): a pulled source by its name, a pushing tool by its client's name.
    pub async fn data_sources(&self) -> Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> =
            self.store().sources().all().await?.into_iter().map(|s| (s.name.clone(), s.name)).collect();
        for c in self.clients().await? {
            if pushes_data(&c) {
                out.push((c.id, c.name));
            }
        }
        out.sort_by_key(|(_, name)| name.to_lowercase());
        Ok(out)
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
        // An incremental walk asks for what changed since the last good sync began (less a margin
        // for clocks that differ); a failed sync moves nothing forward.
        let since = self.store().sources().last_good_sync(&source.name).await?.map(|t| t - SINCE_MARGIN);
        let walked = match kind {
            SourceKind::Decidim => decidim::walk(&mut client, &source, started).await,
            SourceKind::Consul => consul::walk(&mut client, &source, started).await,
            SourceKind::Dipas => dipas::walk(&mut client, &source, started).await,
            SourceKind::Govocal => govocal::walk(&mut client, &source, started, since).await,
            SourceKind::Limesurvey => limesurvey::walk(&mut client, &source, started).await,
            SourceKind::Meinberlin => meinberlin::walk(&mut client, &source).await,
            SourceKind::Open311 => open311::walk(&mut client, &source, started, since).await,
            SourceKind::Oparl => oparl::walk(&mut client, &source, since).await,
        };
        let mut summary = SyncSummary { source: source.name.clone(), requests: client.requests, ..Default::default() };
        let mut walk = match walked {
            Ok(w) => w,
            Err(message) => {
                tracing::warn!(source = %source.name, error = %message, "sync failed; the last good state stays");
                self.log_sync(&source, started, false, &summary, &message).await?;
                return Err(Error::Unavailable(message.into()));
            }
        };
        // Paging by offset shows a record twice when the source changes during the walk: the
        // later copy counts.
        let mut once = std::collections::HashSet::new();
        walk.records.reverse();
        walk.records.retain(|(id, r)| once.insert((r.kind(), id.clone())));
        walk.records.reverse();
        summary.fetched = walk.records.len() as u64;
        let refused =
            walk.rejected.iter().flat_map(|r| crate::conformance::rejections(r.id.clone(), &r.errors)).collect();
        self.note_rejections(&source.name, refused).await;
        summary.rejected = walk.rejected;
        let mut rows: Vec<_> = walk.records.iter().map(|(id, r)| new_record(&source.name, id, r)).collect();
        // What the walk saw, live or deleted: a record deleted explicitly is not deleted twice.
        let seen: BTreeMap<Kind, BTreeSet<&str>> =
            walk.records.iter().map(|(id, r)| (r.kind(), id)).chain(walk.deleted.iter().map(|(k, id)| (*k, id))).fold(
                BTreeMap::new(),
                |mut m, (kind, id)| {
                    m.entry(kind).or_default().insert(id.as_str());
                    m
                },
            );
        for (kind, gone) in &walk.deleted {
            rows.push(tombstone(*kind, &source.name, gone));
        }
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
            let applied = self.store().data().apply(batch, &provenance).await?;
            self.data_changed();
            for applied in applied {
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

/// One GraphQL query (Decidim, CONSUL): its `data`, or the first of its `errors`. CONSUL's
/// older controllers take `variables` only as a JSON-encoded string (`JSON.parse`), newer ones
/// take both; Decidim takes an object.
async fn graphql(
    client: &mut Client<'_>,
    url: &str,
    query: &str,
    variables: Value,
) -> std::result::Result<Value, String> {
    let response = client
        .send(
            HttpRequest::post_json(url, serde_json::json!({"query": query, "variables": variables}))
                .max_body(16 * 1024 * 1024),
        )
        .await?;
    let body: Value = response.json().map_err(|e| e.to_string())?;
    if let Some(errors) = body.get("errors").and_then(Value::as_array).filter(|e| !e.is_empty()) {
        let first = errors[0].get("message").and_then(Value::as_str).unwrap_or("unknown error");
        return Err(format!("the GraphQL API refused the query: {first}"));
    }
    body.get("data").cloned().ok_or_else(|| "the GraphQL answer has no data".to_owned())
}

/// `{"de": …}` from a tool's text in the source's language, when it has any text.
fn text(lang: &str, s: Option<&str>) -> Option<Value> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(|s| serde_json::json!({ lang: s }))
}

/// A tool's time as RFC 3339: RFC 3339 itself, Rails' `2025-05-02 14:00:00 +0200`, or a date
/// and time without offset (LimeSurvey's, in the server's zone, read as UTC: off by the zone's
/// offset at most, which no status or order here depends on).
fn datetime(s: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    // Rails renders a UTC time as `… UTC`.
    let utc = s.trim().strip_suffix(" UTC").map(|t| format!("{t} +0000"));
    let s = utc.as_deref().unwrap_or(s.trim());
    let t = OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| {
            OffsetDateTime::parse(
                s,
                format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
                ),
            )
        })
        .or_else(|_| {
            time::PrimitiveDateTime::parse(s, format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"))
                .map(time::PrimitiveDateTime::assume_utc)
        })
        .ok()?;
    t.format(&Rfc3339).ok()
}

/// A tool's id: a string, or a number in the tools (and versions) that write one.
fn id_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A time, or a bare day (`2025-05-01`) taken at its start or, for an end, its last second.
fn day_or_time(s: &str, end: bool) -> Option<String> {
    if s.len() == 10 {
        return datetime(&format!("{s}T{}Z", if end { "23:59:59" } else { "00:00:00" }));
    }
    datetime(s)
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
    fn tool_times_become_rfc3339() {
        assert_eq!(datetime("2025-05-02 14:00:00 +0200").as_deref(), Some("2025-05-02T14:00:00+02:00"));
        assert_eq!(datetime("2025-05-02T14:00:00Z").as_deref(), Some("2025-05-02T14:00:00Z"));
        assert_eq!(datetime("2025-03-01 00:00:00").as_deref(), Some("2025-03-01T00:00:00Z"));
        assert_eq!(datetime("2025-05-02 14:00:00 UTC").as_deref(), Some("2025-05-02T14:00:00Z"));
        assert_eq!(datetime("12.05.2025"), None);
    }

    #[test]
    fn source_names() {
        assert!(valid_name("decidim-koeln"));
        assert!(!valid_name("Decidim Köln"));
        assert!(!valid_name("-x"));
        assert!(SourceKind::ALL.into_iter().all(|k| SourceKind::parse(k.as_str()) == Some(k)));
        assert_eq!(SourceKind::parse("Decidim"), None);
    }
}
