//! The sources the hub pulls standard data from, and the log of their syncs.

use crate::timestamp::{at, secs};
use crate::{Store, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

pub struct Sources<'a> {
    store: &'a Store,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    pub name: String,
    /// `decidim`, `open311`, …
    pub kind: String,
    pub url: String,
    pub municipality: Option<String>,
    /// A JSON object as the operator gave it; never logged.
    pub credentials: Option<String>,
    pub interval_minutes: i64,
    pub created_at: OffsetDateTime,
}

/// One sync of a source, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRecord {
    pub id: String,
    pub source: String,
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    pub ok: bool,
    pub requests: i64,
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub deleted: i64,
    /// JSON list of `{"id", "reason"}`.
    pub rejected: String,
    pub message: String,
}

const SOURCE_COLUMNS: &str = "name, kind, url, municipality, credentials, interval_minutes, created_at";
const SYNC_COLUMNS: &str = "id, source, started_at, finished_at, outcome, requests, fetched, created, updated, unchanged, deleted, rejected, message";

fn source(r: &AnyRow) -> Result<SourceRecord, StoreError> {
    Ok(SourceRecord {
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        url: r.try_get("url")?,
        municipality: r.try_get("municipality")?,
        credentials: r.try_get("credentials")?,
        interval_minutes: r.try_get("interval_minutes")?,
        created_at: at(r, "created_at")?,
    })
}

fn sync(r: &AnyRow) -> Result<SyncRecord, StoreError> {
    Ok(SyncRecord {
        id: r.try_get("id")?,
        source: r.try_get("source")?,
        started_at: at(r, "started_at")?,
        finished_at: at(r, "finished_at")?,
        ok: r.try_get::<String, _>("outcome")? == "ok",
        requests: r.try_get("requests")?,
        fetched: r.try_get("fetched")?,
        created: r.try_get("created")?,
        updated: r.try_get("updated")?,
        unchanged: r.try_get("unchanged")?,
        deleted: r.try_get("deleted")?,
        rejected: r.try_get("rejected")?,
        message: r.try_get("message")?,
    })
}

impl<'a> Sources<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Sources { store }
    }

    /// Adds a source; `Conflict` when the name is taken.
    pub async fn add(&self, s: &SourceRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO data_sources (name, kind, url, municipality, credentials, interval_minutes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.name)
        .bind(&s.kind)
        .bind(&s.url)
        .bind(&s.municipality)
        .bind(&s.credentials)
        .bind(s.interval_minutes)
        .bind(secs(s.created_at))
        .execute(self.store.pool())
        .await
        .map_err(|e| {
            if crate::identity::is_unique_violation(&e) {
                StoreError::Conflict(format!("a source named {} exists already", s.name))
            } else {
                e.into()
            }
        })?;
        Ok(())
    }

    pub async fn find(&self, name: &str) -> Result<Option<SourceRecord>, StoreError> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM data_sources WHERE name = $1");
        sqlx::query(&sql).bind(name).fetch_optional(self.store.pool()).await?.as_ref().map(source).transpose()
    }

    pub async fn all(&self) -> Result<Vec<SourceRecord>, StoreError> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM data_sources ORDER BY name");
        sqlx::query(&sql).fetch_all(self.store.pool()).await?.iter().map(source).collect()
    }

    /// Takes the source's sync lease until `until` if no live one is held; false otherwise.
    pub async fn lease(&self, name: &str, now: OffsetDateTime, until: OffsetDateTime) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE data_sources SET sync_lease_until = $3 WHERE name = $1 \
             AND (sync_lease_until IS NULL OR sync_lease_until <= $2)",
        )
        .bind(name)
        .bind(secs(now))
        .bind(secs(until))
        .execute(self.store.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn release(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE data_sources SET sync_lease_until = NULL WHERE name = $1")
            .bind(name)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    pub async fn log_sync(&self, s: &SyncRecord) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO data_syncs ({SYNC_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        sqlx::query(&sql)
            .bind(&s.id)
            .bind(&s.source)
            .bind(secs(s.started_at))
            .bind(secs(s.finished_at))
            .bind(if s.ok { "ok" } else { "failed" })
            .bind(s.requests)
            .bind(s.fetched)
            .bind(s.created)
            .bind(s.updated)
            .bind(s.unchanged)
            .bind(s.deleted)
            .bind(&s.rejected)
            .bind(&s.message)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// When the latest sync that completed began.
    pub async fn last_good_sync(&self, name: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        let row = sqlx::query("SELECT MAX(started_at) AS at FROM data_syncs WHERE source = $1 AND outcome = 'ok'")
            .bind(name)
            .fetch_one(self.store.pool())
            .await?;
        Ok(row.try_get::<Option<i64>, _>("at")?.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()))
    }

    /// The latest syncs of a source, newest first.
    pub async fn syncs(&self, name: &str, limit: i64) -> Result<Vec<SyncRecord>, StoreError> {
        let sql =
            format!("SELECT {SYNC_COLUMNS} FROM data_syncs WHERE source = $1 ORDER BY started_at DESC, id LIMIT $2");
        sqlx::query(&sql).bind(name).bind(limit).fetch_all(self.store.pool()).await?.iter().map(sync).collect()
    }
}
