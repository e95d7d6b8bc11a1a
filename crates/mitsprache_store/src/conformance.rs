//! What the hub refused of each source's data, for the conformance report (counts per day and
//! reason, the latest examples), and the figures of what it kept.

use crate::timestamp::{at, secs};
use crate::{Store, StoreError};
use sqlx::Row;
use std::collections::BTreeMap;
use time::OffsetDateTime;

pub struct Conformance<'a> {
    store: &'a Store,
}

/// One refused record (or line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub record: String,
    /// The field of the standard, list positions folded (`phases[].start`); `record` for a
    /// record as a whole.
    pub reason: String,
    pub message: String,
}

/// A refused record as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionRecord {
    pub at: OffsetDateTime,
    pub record: String,
    pub reason: String,
    pub message: String,
}

/// How many examples a source keeps: the latest.
pub const EXAMPLES: i64 = 20;

impl<'a> Conformance<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Conformance { store }
    }

    /// Counts the rejections of one request or sync and keeps the latest as examples, in one
    /// transaction. `batch` is a random id of this request; the examples' ids derive from it.
    pub async fn record(
        &self,
        source: &str,
        batch: &str,
        now: OffsetDateTime,
        rejected: &[Rejection],
    ) -> Result<(), StoreError> {
        if rejected.is_empty() {
            return Ok(());
        }
        let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
        for r in rejected {
            *counts.entry(r.reason.as_str()).or_default() += 1;
        }
        let day = secs(now).div_euclid(86_400);
        let mut tx = self.store.write().await?;
        for (reason, n) in counts {
            sqlx::query(
                "INSERT INTO data_rejection_counts (source, day, reason, count) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (source, day, reason) DO UPDATE SET count = data_rejection_counts.count + excluded.count",
            )
            .bind(source)
            .bind(day)
            .bind(reason)
            .bind(n)
            .execute(&mut *tx)
            .await?;
        }
        let start = rejected.len().saturating_sub(EXAMPLES as usize);
        for (i, r) in rejected[start..].iter().enumerate() {
            // The ids order the examples of one request as they came.
            sqlx::query(
                "INSERT INTO data_rejections (id, source, at, record, reason, message) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(format!("{batch}-{i:05}"))
            .bind(source)
            .bind(secs(now))
            .bind(&r.record)
            .bind(&r.reason)
            .bind(&r.message)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "DELETE FROM data_rejections WHERE source = $1 AND id NOT IN \
             (SELECT id FROM data_rejections WHERE source = $1 ORDER BY at DESC, id DESC LIMIT $2)",
        )
        .bind(source)
        .bind(EXAMPLES)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rejections per reason since `since`, most first.
    pub async fn counts(&self, source: &str, since: OffsetDateTime) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT reason, CAST(SUM(count) AS BIGINT) AS n FROM data_rejection_counts WHERE source = $1 AND day >= $2 \
             GROUP BY reason ORDER BY n DESC, reason",
        )
        .bind(source)
        .bind(secs(since).div_euclid(86_400))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(|r| Ok((r.try_get("reason")?, r.try_get::<i64, _>("n")?))).collect()
    }

    /// The latest examples, newest first.
    pub async fn examples(&self, source: &str) -> Result<Vec<RejectionRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, record, reason, message FROM data_rejections WHERE source = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(source)
        .bind(EXAMPLES)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RejectionRecord {
                    at: at(r, "at")?,
                    record: r.try_get("record")?,
                    reason: r.try_get("reason")?,
                    message: r.try_get("message")?,
                })
            })
            .collect()
    }

    /// The live records of a source and type, and when the source last wrote (or deleted) one.
    /// Asked per type, so that the unique key (kind, source, external id) finds the rows: the
    /// report is public, and a name that matches nothing must not scan every record.
    pub async fn kept(&self, source: &str, kind: &str) -> Result<(i64, Option<OffsetDateTime>), StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN deleted = 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS live, \
             MAX(fetched_at) AS last FROM data_records WHERE kind = $1 AND source = $2",
        )
        .bind(kind)
        .bind(source)
        .fetch_one(self.store.pool())
        .await?;
        let last: Option<i64> = row.try_get("last")?;
        Ok((row.try_get("live")?, last.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())))
    }

    /// The documents of the latest `limit` live records of a source and type.
    pub async fn sample(&self, source: &str, kind: &str, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT doc FROM data_records WHERE kind = $1 AND source = $2 AND deleted = 0 ORDER BY modified DESC LIMIT $3",
        )
        .bind(kind)
        .bind(source)
        .bind(limit)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get::<Option<String>, _>("doc")?.unwrap_or_default())).collect()
    }
}
