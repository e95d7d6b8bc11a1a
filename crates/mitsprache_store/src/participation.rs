//! A person's participation across tools: the contributions pushed in their name (found by the
//! pairwise subjects the hub issued), status changes, follows and notification settings; and
//! the deletion events owed to the tools a deleted person used.

use crate::data::{COLUMNS, stored};
use crate::jobs::{NewJob, insert_job};
use crate::timestamp::{at, secs};
use crate::{Store, StoreError, StoredRecord, placeholders};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

pub struct Participation<'a> {
    store: &'a Store,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub record_id: String,
    pub old_status: Option<String>,
    pub new_status: Option<String>,
    pub changed_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    pub record_id: String,
    pub created_at: OffsetDateTime,
}

/// How often a person gets the e-mail digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Daily,
    Weekly,
    None,
}

impl Digest {
    pub fn as_str(self) -> &'static str {
        match self {
            Digest::Daily => "daily",
            Digest::Weekly => "weekly",
            Digest::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Digest> {
        [Digest::Daily, Digest::Weekly, Digest::None].into_iter().find(|d| d.as_str() == s)
    }

    /// The time between two digests.
    pub fn period(self) -> Option<time::Duration> {
        match self {
            Digest::Daily => Some(time::Duration::days(1)),
            Digest::Weekly => Some(time::Duration::weeks(1)),
            Digest::None => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettings {
    pub account_id: String,
    pub digest: Digest,
    /// What the last digest covered up to (or when the settings began).
    pub digest_until: OffsetDateTime,
    pub seen_at: OffsetDateTime,
}

/// A deletion event for one tool, as the receipt and the admin log show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionDelivery {
    pub id: String,
    pub receipt: String,
    pub client_id: String,
    /// `push` or `scim`.
    pub method: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// What deleting an account owes the tools, written in the transaction that deletes it.
#[derive(Debug, Clone)]
pub struct Purge {
    pub now: OffsetDateTime,
    /// Delivery rows with their jobs.
    pub deliveries: Vec<(DeletionDelivery, NewJob)>,
    /// (source, author) pairs whose contributions lose their link to the person.
    pub authors: Vec<(String, String)>,
}

fn settings(r: &AnyRow) -> Result<NotificationSettings, StoreError> {
    let digest: String = r.try_get("digest")?;
    Ok(NotificationSettings {
        account_id: r.try_get("account_id")?,
        digest: Digest::parse(&digest).unwrap_or(Digest::None),
        digest_until: at(r, "digest_until")?,
        seen_at: at(r, "seen_at")?,
    })
}

fn delivery(r: &AnyRow) -> Result<DeletionDelivery, StoreError> {
    Ok(DeletionDelivery {
        id: r.try_get("id")?,
        receipt: r.try_get("receipt")?,
        client_id: r.try_get("client_id")?,
        method: r.try_get("method")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        created_at: at(r, "created_at")?,
        updated_at: at(r, "updated_at")?,
    })
}

const DELIVERY_COLUMNS: &str = "id, receipt, client_id, method, state, attempts, last_error, created_at, updated_at";
const SETTINGS_COLUMNS: &str = "account_id, digest, digest_until, seen_at";
/// Pairs or ids per statement.
const CHUNK: usize = 400;

impl<'a> Participation<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Participation { store }
    }

    /// The live contributions whose (source, author) is one of `pairs`, newest first.
    pub async fn authored(&self, pairs: &[(String, String)], limit: u64) -> Result<Vec<StoredRecord>, StoreError> {
        let mut out = Vec::new();
        for chunk in pairs.chunks(CHUNK) {
            let any: Vec<String> =
                (0..chunk.len()).map(|i| format!("(source = ${} AND author = ${})", 2 * i + 1, 2 * i + 2)).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM data_records WHERE kind = 'contribution' AND deleted = 0 AND ({}) \
                 ORDER BY created DESC LIMIT {limit}",
                any.join(" OR ")
            );
            let mut q = sqlx::query(&sql);
            for (source, author) in chunk {
                q = q.bind(source).bind(author);
            }
            for row in q.fetch_all(self.store.pool()).await? {
                out.push(stored(&row)?);
            }
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(out)
    }

    /// Records by the hub's ids, tombstones included, in no particular order.
    pub async fn records(&self, ids: &[String]) -> Result<Vec<StoredRecord>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!("SELECT {COLUMNS} FROM data_records WHERE id IN ({})", placeholders(1, chunk.len()));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(self.store.pool()).await? {
                out.push(stored(&row)?);
            }
        }
        Ok(out)
    }

    /// The status changes of these records after `since`, oldest first.
    pub async fn status_changes(&self, ids: &[String], since: OffsetDateTime) -> Result<Vec<StatusChange>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT record_id, old_status, new_status, changed_at FROM data_status_changes \
                 WHERE changed_at > $1 AND record_id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(secs(since));
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(self.store.pool()).await? {
                out.push(StatusChange {
                    record_id: r.try_get("record_id")?,
                    old_status: r.try_get("old_status")?,
                    new_status: r.try_get("new_status")?,
                    changed_at: at(&r, "changed_at")?,
                });
            }
        }
        out.sort_by(|a, b| a.changed_at.cmp(&b.changed_at).then_with(|| a.record_id.cmp(&b.record_id)));
        Ok(out)
    }

    /// Follows a record. The first follow starts the person's notification settings with a
    /// daily digest: following is asking to hear of changes, and every digest can be stopped
    /// with one click.
    pub async fn follow(&self, account_id: &str, record_id: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        sqlx::query(
            "INSERT INTO follows (account_id, record_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id, record_id) DO NOTHING",
        )
        .bind(account_id)
        .bind(record_id)
        .bind(secs(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO notification_settings (account_id, digest, digest_until, seen_at) VALUES ($1, 'daily', $2, $2) \
             ON CONFLICT (account_id) DO NOTHING",
        )
        .bind(account_id)
        .bind(secs(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn unfollow(&self, account_id: &str, record_id: &str) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        sqlx::query("DELETE FROM follows WHERE account_id = $1 AND record_id = $2")
            .bind(account_id)
            .bind(record_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn follows(&self, account_id: &str) -> Result<Vec<Follow>, StoreError> {
        let rows =
            sqlx::query("SELECT record_id, created_at FROM follows WHERE account_id = $1 ORDER BY created_at DESC")
                .bind(account_id)
                .fetch_all(self.store.pool())
                .await?;
        rows.iter()
            .map(|r| Ok(Follow { record_id: r.try_get("record_id")?, created_at: at(r, "created_at")? }))
            .collect()
    }

    pub async fn settings(&self, account_id: &str) -> Result<Option<NotificationSettings>, StoreError> {
        let sql = format!("SELECT {SETTINGS_COLUMNS} FROM notification_settings WHERE account_id = $1");
        sqlx::query(&sql).bind(account_id).fetch_optional(self.store.pool()).await?.as_ref().map(settings).transpose()
    }

    pub async fn set_digest(&self, account_id: &str, digest: Digest, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        sqlx::query(
            "INSERT INTO notification_settings (account_id, digest, digest_until, seen_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (account_id) DO UPDATE SET digest = excluded.digest",
        )
        .bind(account_id)
        .bind(digest.as_str())
        .bind(secs(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The person has seen the portal's notifications up to `at`.
    pub async fn mark_seen(&self, account_id: &str, seen: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        sqlx::query("UPDATE notification_settings SET seen_at = $2 WHERE account_id = $1 AND seen_at < $2")
            .bind(account_id)
            .bind(secs(seen))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Settings whose digest is due at `now`: at most `limit`, the longest waiting first.
    pub async fn due_digests(&self, now: OffsetDateTime, limit: i64) -> Result<Vec<NotificationSettings>, StoreError> {
        let sql = format!(
            "SELECT {SETTINGS_COLUMNS} FROM notification_settings \
             WHERE (digest = 'daily' AND digest_until <= $1) OR (digest = 'weekly' AND digest_until <= $2) \
             ORDER BY digest_until ASC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(secs(now - time::Duration::days(1)))
            .bind(secs(now - time::Duration::weeks(1)))
            .bind(limit)
            .fetch_all(self.store.pool())
            .await?;
        rows.iter().map(settings).collect()
    }

    /// Notes a digest as covering up to `until`, with its mail queued in the same transaction
    /// (none when nothing changed): a crash sends it once or not at all, never twice.
    pub async fn digest_done(
        &self,
        account_id: &str,
        covered: OffsetDateTime,
        until: OffsetDateTime,
        mail: Option<&NewJob>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.store.write().await?;
        // Only the run that read `covered` moves it on: a second instance's run of the same
        // digest finds it moved and queues nothing.
        let done = sqlx::query(
            "UPDATE notification_settings SET digest_until = $2 WHERE account_id = $1 AND digest_until = $3",
        )
        .bind(account_id)
        .bind(secs(until))
        .bind(secs(covered))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(job) = mail {
            insert_job(&mut tx, job).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The deliveries of one receipt, by tool.
    pub async fn deliveries(&self, receipt: &str) -> Result<Vec<DeletionDelivery>, StoreError> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deletion_deliveries WHERE receipt = $1 ORDER BY client_id");
        let rows = sqlx::query(&sql).bind(receipt).fetch_all(self.store.pool()).await?;
        rows.iter().map(delivery).collect()
    }

    /// The latest deliveries, for the admin log.
    pub async fn recent_deliveries(&self, limit: i64) -> Result<Vec<DeletionDelivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deletion_deliveries ORDER BY created_at DESC, receipt, client_id LIMIT $1"
        );
        let rows = sqlx::query(&sql).bind(limit).fetch_all(self.store.pool()).await?;
        rows.iter().map(delivery).collect()
    }

    /// Records one attempt of a delivery: `delivered`, `failed` (for good), or `retry`, which
    /// stays `pending` until the attempt that is the job's last.
    pub async fn delivery_attempt(
        &self,
        id: &str,
        outcome: &str,
        error: Option<&str>,
        max_attempts: i64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        sqlx::query(
            "UPDATE deletion_deliveries SET attempts = attempts + 1, last_error = $3, updated_at = $4, \
             state = CASE WHEN $2 <> 'retry' THEN $2 WHEN attempts + 1 >= $5 THEN 'failed' ELSE 'pending' END \
             WHERE id = $1",
        )
        .bind(id)
        .bind(outcome)
        .bind(error)
        .bind(secs(now))
        .bind(max_attempts)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every client an account has used: granted, consented to, or logged into.
    pub async fn clients_of_account(&self, account_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT client_id FROM grants WHERE account_id = $1 UNION SELECT client_id FROM consents WHERE account_id = $1 \
             UNION SELECT client_id FROM session_clients WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("client_id")?)).collect()
    }
}

impl<'a> Participation<'a> {
    /// Every municipality with a live process, by key.
    pub async fn municipalities(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT municipality FROM data_records WHERE kind = 'process' AND deleted = 0 \
             AND municipality IS NOT NULL ORDER BY municipality LIMIT 1000",
        )
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("municipality")?)).collect()
    }

    /// Contributions to the processes of a municipality per month (`YYYY-MM` of the record's
    /// `created_at`, as the tool wrote it), oldest first; and per source, the number of its
    /// processes there.
    pub async fn municipality_activity(
        &self,
        municipality: &str,
    ) -> Result<(Vec<(String, i64)>, Vec<(String, i64)>), StoreError> {
        let month = match self.store.backend() {
            crate::Backend::Sqlite => "substr(json_extract(c.doc, '$.created_at'), 1, 7)",
            crate::Backend::Postgres => "substr((c.doc::jsonb) ->> 'created_at', 1, 7)",
        };
        let sql = format!(
            "SELECT {month} AS month, COUNT(*) AS n FROM data_records c \
             JOIN data_records p ON p.kind = 'process' AND p.source = c.source AND p.external_id = c.process \
             WHERE c.kind = 'contribution' AND c.deleted = 0 AND p.deleted = 0 AND p.municipality = $1 \
             GROUP BY month ORDER BY month"
        );
        let rows = sqlx::query(&sql).bind(municipality).fetch_all(self.store.pool()).await?;
        let months = rows
            .iter()
            .map(|r| Ok((r.try_get::<Option<String>, _>("month")?.unwrap_or_default(), r.try_get("n")?)))
            .collect::<Result<Vec<(String, i64)>, StoreError>>()?
            .into_iter()
            .filter(|(m, _)| m.len() == 7)
            .collect();
        let rows = sqlx::query(
            "SELECT source, COUNT(*) AS n FROM data_records WHERE kind = 'process' AND deleted = 0 AND municipality = $1 \
             GROUP BY source ORDER BY source",
        )
        .bind(municipality)
        .fetch_all(self.store.pool())
        .await?;
        let sources =
            rows.iter().map(|r| Ok((r.try_get("source")?, r.try_get("n")?))).collect::<Result<_, StoreError>>()?;
        Ok((months, sources))
    }
}

/// Writes what an account's deletion owes, inside the deleting transaction: the deliveries and
/// their jobs, and contributions without their author.
pub(crate) async fn write_purge(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    purge: &Purge,
) -> Result<(), StoreError> {
    for (d, job) in &purge.deliveries {
        sqlx::query(&format!(
            "INSERT INTO deletion_deliveries ({DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&d.id)
        .bind(&d.receipt)
        .bind(&d.client_id)
        .bind(&d.method)
        .bind(&d.state)
        .bind(d.attempts)
        .bind(&d.last_error)
        .bind(secs(d.created_at))
        .bind(secs(d.updated_at))
        .execute(&mut **tx)
        .await?;
        insert_job(tx, job).await?;
    }
    for (source, author) in &purge.authors {
        let rows = sqlx::query("SELECT id, doc FROM data_records WHERE source = $1 AND author = $2")
            .bind(source)
            .bind(author)
            .fetch_all(&mut **tx)
            .await?;
        for r in rows {
            let id: String = r.try_get("id")?;
            let doc: Option<String> = r.try_get("doc")?;
            // The record stays as the tool published it, only without the pairwise subject.
            let doc = doc.map(|d| match serde_json::from_str::<serde_json::Value>(&d) {
                Ok(serde_json::Value::Object(mut m)) => {
                    m.remove("author");
                    serde_json::Value::Object(m).to_string()
                }
                _ => d,
            });
            // A new `modified`, so that mirrors syncing with modified_since drop the link too.
            sqlx::query("UPDATE data_records SET author = NULL, doc = $2, modified = $3 WHERE id = $1")
                .bind(&id)
                .bind(doc)
                .bind(secs(purge.now))
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}
