//! Durable background jobs (ADR 0009): one table on both backends. A job is a kind, a JSON
//! payload and when it is due. Workers of every instance claim due jobs with a lease (owner and
//! expiry): PostgreSQL with `FOR UPDATE SKIP LOCKED`, so instances never wait for each other;
//! SQLite with a single conditional `UPDATE … RETURNING`, which its one writer makes atomic. A
//! job whose worker died is claimed again once its lease has expired. Every outcome is written
//! back by the lease holder only, so a worker that lost its lease cannot overwrite the result
//! of the one that took over. Recurring jobs (housekeeping, later connector syncs) are rows with
//! a unique key and an interval that go back to the queue after each run, so exactly one
//! instance runs each at a time.

use crate::timestamp::{at, at_opt, secs};
use crate::{Backend, Store, StoreError, placeholders};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use time::{Duration, OffsetDateTime};

pub struct Jobs<'a> {
    store: &'a Store,
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub id: String,
    pub kind: &'static str,
    /// JSON; its shape belongs to the job kind.
    pub payload: String,
    pub run_at: OffsetDateTime,
    pub max_attempts: i64,
    pub created_at: OffsetDateTime,
}

/// A recurring job: one row per `key`, run every `every`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurring<'a> {
    pub id: &'a str,
    pub key: &'a str,
    pub kind: &'static str,
    pub payload: &'a str,
    pub every: Duration,
    pub first_run_at: OffsetDateTime,
}

/// A job a worker holds the lease of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: String,
    pub kind: String,
    pub payload: String,
    /// Counting this run.
    pub attempts: i64,
    pub max_attempts: i64,
    /// Set for recurring jobs.
    pub every: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting to run, or running under a lease.
    Queued,
    Done,
    /// Gave up after its last attempt; kept with its last error for the operator.
    Failed,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<JobState> {
        [JobState::Queued, JobState::Done, JobState::Failed].into_iter().find(|j| j.as_str() == s)
    }
}

/// A job as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub state: JobState,
    pub run_at: OffsetDateTime,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

const RECORD_COLUMNS: &str = "id, kind, payload, state, run_at, attempts, max_attempts, last_error, lease_owner, \
     lease_expires_at, created_at, finished_at";

fn record(r: &AnyRow) -> Result<JobRecord, StoreError> {
    let state: String = r.try_get("state")?;
    Ok(JobRecord {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        payload: r.try_get("payload")?,
        state: JobState::parse(&state).ok_or_else(|| StoreError::Corrupt("job state".into(), state))?,
        run_at: at(r, "run_at")?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
        last_error: r.try_get("last_error")?,
        lease_owner: r.try_get("lease_owner")?,
        lease_expires_at: at_opt(r, "lease_expires_at")?,
        created_at: at(r, "created_at")?,
        finished_at: at_opt(r, "finished_at")?,
    })
}

/// Enqueues a job inside a transaction, so it is committed with the change that owes it.
pub(crate) async fn insert_job(tx: &mut Transaction<'static, Any>, job: &NewJob) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, state, run_at, attempts, max_attempts, created_at) \
         VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6)",
    )
    .bind(&job.id)
    .bind(job.kind)
    .bind(&job.payload)
    .bind(secs(job.run_at))
    .bind(job.max_attempts)
    .bind(secs(job.created_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl<'a> Jobs<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Jobs { store }
    }

    pub async fn enqueue(&self, job: &NewJob) -> Result<(), StoreError> {
        self.enqueue_all(std::slice::from_ref(job)).await
    }

    /// Queues several jobs in one transaction: all of them or none.
    pub async fn enqueue_all(&self, jobs: &[NewJob]) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        for job in jobs {
            insert_job(&mut tx, job).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Makes sure a recurring job exists; an existing one keeps its schedule and takes the new
    /// interval. Every instance calls this at start, one row results.
    pub async fn schedule(&self, r: &Recurring<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO jobs (id, kind, payload, unique_key, every_seconds, state, run_at, attempts, max_attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'queued', $6, 0, 0, $6) \
             ON CONFLICT (unique_key) DO UPDATE SET every_seconds = excluded.every_seconds, kind = excluded.kind",
        )
        .bind(r.id)
        .bind(r.kind)
        .bind(r.payload)
        .bind(r.key)
        .bind(r.every.whole_seconds())
        .bind(secs(r.first_run_at))
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Makes a recurring job due now, unless it is due already (or running); true when it moved.
    pub async fn run_now(&self, key: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE jobs SET run_at = $2 WHERE unique_key = $1 AND state = 'queued' AND run_at > $2")
                .bind(key)
                .bind(secs(now))
                .execute(self.store.pool())
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether any job of `kinds` is due: a read, so idle workers do not take SQLite's write
    /// lock every time they look.
    pub async fn any_due(&self, kinds: &[&str], now: OffsetDateTime) -> Result<bool, StoreError> {
        let sql = format!(
            "SELECT 1 FROM jobs WHERE state = 'queued' AND run_at <= $1 \
             AND (lease_expires_at IS NULL OR lease_expires_at <= $1) AND kind IN ({}) LIMIT 1",
            placeholders(2, kinds.len())
        );
        let mut q = sqlx::query(&sql).bind(secs(now));
        for k in kinds {
            q = q.bind(*k);
        }
        Ok(q.fetch_optional(self.store.pool()).await?.is_some())
    }

    /// Claims up to `limit` due jobs of `kinds` for `owner` until `lease_until`, oldest due
    /// first, and counts the attempt. `owner` names this one claim, not just the worker, so a
    /// worker that claims its own expired job again does not mistake the old run's lease for
    /// the new one.
    pub async fn claim(
        &self,
        owner: &str,
        kinds: &[&str],
        limit: i64,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        if kinds.is_empty() || limit <= 0 {
            return Ok(Vec::new());
        }
        let due = format!(
            "SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $3 \
             AND (lease_expires_at IS NULL OR lease_expires_at <= $3) AND kind IN ({}) ORDER BY run_at, id LIMIT $4",
            placeholders(5, kinds.len())
        );
        let set = "UPDATE jobs SET lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1";
        let returning = "RETURNING id, kind, payload, attempts, max_attempts, every_seconds";
        let sql = match self.store.backend() {
            // The locked rows are picked once (MATERIALIZED): a subquery under `IN` may be run
            // again by the planner and then lock and claim more rows than LIMIT allows.
            Backend::Postgres => format!(
                "WITH picked AS MATERIALIZED ({due} FOR UPDATE SKIP LOCKED) \
                 {set} WHERE id IN (SELECT id FROM picked) {returning}"
            ),
            // One writer at a time: the statement is atomic as it stands.
            Backend::Sqlite => format!("{set} WHERE id IN ({due}) {returning}"),
        };
        let mut q = sqlx::query(&sql).bind(owner).bind(secs(lease_until)).bind(secs(now)).bind(limit);
        for k in kinds {
            q = q.bind(*k);
        }
        let mut tx = self.store.write().await?;
        let rows = q.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(ClaimedJob {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    payload: r.try_get("payload")?,
                    attempts: r.try_get("attempts")?,
                    max_attempts: r.try_get("max_attempts")?,
                    every: r.try_get::<Option<i64>, _>("every_seconds")?.map(Duration::seconds),
                })
            })
            .collect()
    }

    /// Extends a running job's lease; false when the lease was lost to another claim.
    pub async fn heartbeat(&self, id: &str, owner: &str, lease_until: OffsetDateTime) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'queued'",
        )
        .bind(secs(lease_until))
        .bind(id)
        .bind(owner)
        .execute(self.store.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a successful run: done, or for a recurring job due again at `next`. False when
    /// the lease was lost (the outcome of the worker that took over counts).
    pub async fn succeed(
        &self,
        id: &str,
        owner: &str,
        now: OffsetDateTime,
        next: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let q = match next {
            None => sqlx::query(
                "UPDATE jobs SET state = 'done', finished_at = $1, last_error = NULL, lease_owner = NULL, \
                 lease_expires_at = NULL WHERE id = $2 AND lease_owner = $3",
            )
            .bind(secs(now)),
            Some(next) => sqlx::query(
                "UPDATE jobs SET run_at = $1, attempts = 0, last_error = NULL, lease_owner = NULL, \
                 lease_expires_at = NULL WHERE id = $2 AND lease_owner = $3",
            )
            .bind(secs(next)),
        };
        Ok(q.bind(id).bind(owner).execute(self.store.pool()).await?.rows_affected() == 1)
    }

    /// Records a failed run with its error: due again at `retry_at`, or failed for good.
    pub async fn fail(
        &self,
        id: &str,
        owner: &str,
        error: &str,
        now: OffsetDateTime,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let q = match retry_at {
            Some(retry_at) => sqlx::query(
                "UPDATE jobs SET run_at = $1, last_error = $2, lease_owner = NULL, lease_expires_at = NULL \
                 WHERE id = $3 AND lease_owner = $4",
            )
            .bind(secs(retry_at)),
            None => sqlx::query(
                "UPDATE jobs SET state = 'failed', finished_at = $1, last_error = $2, lease_owner = NULL, \
                 lease_expires_at = NULL WHERE id = $3 AND lease_owner = $4",
            )
            .bind(secs(now)),
        };
        Ok(q.bind(error).bind(id).bind(owner).execute(self.store.pool()).await?.rows_affected() == 1)
    }

    /// Jobs of a kind (all kinds when `None`), newest first.
    pub async fn list(&self, kind: Option<&str>, limit: i64) -> Result<Vec<JobRecord>, StoreError> {
        let rows = match kind {
            Some(kind) => {
                sqlx::query(&format!(
                    "SELECT {RECORD_COLUMNS} FROM jobs WHERE kind = $1 ORDER BY created_at DESC, id LIMIT $2"
                ))
                .bind(kind)
                .bind(limit)
                .fetch_all(self.store.pool())
                .await?
            }
            None => {
                sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM jobs ORDER BY created_at DESC, id LIMIT $1"))
                    .bind(limit)
                    .fetch_all(self.store.pool())
                    .await?
            }
        };
        rows.iter().map(record).collect()
    }
}
