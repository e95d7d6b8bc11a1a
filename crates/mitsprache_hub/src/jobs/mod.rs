//! Durable background jobs (ADR 0009), after crates.io's `BackgroundJob`: a job is a
//! serialisable struct with a kind, queued as a row in the store (often in the same transaction
//! as the change that owes it) and run by whichever instance's [`Worker`] claims it first.
//! Jobs are written to be idempotent: after a crash mid-run the lease expires and another
//! worker runs the job again.
//!
//! Each run ends in the row: done, due again after a backoff with its error, or failed for good
//! after its last attempt; every failure is logged as well. Recurring jobs are rows with a
//! unique key that return to the queue after each run, so one instance runs each at a time.

pub mod deletion;
mod digest;
mod housekeeping;
pub mod logout;
mod mail;

pub use deletion::DeletionEvent;
pub use digest::Digests;
pub use housekeeping::{Housekeeping, KeyCleanup};
pub use mail::SendMail;

use crate::Hub;
use mitsprache_oidc::random::id;
use mitsprache_store::{ClaimedJob, NewJob, Recurring};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Why a run did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt after the backoff (the receiver is down, the store is busy).
    #[error("{0}")]
    Retry(String),
    /// No attempt can succeed (the payload cannot be read); no retry.
    #[error("{0}")]
    Permanent(String),
}

impl From<crate::Error> for JobError {
    fn from(e: crate::Error) -> Self {
        JobError::Retry(e.to_string())
    }
}

pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The kind in the job table; never renamed once released (queued rows carry it).
    const KIND: &'static str;
    /// Runs before the job is given up.
    const MAX_ATTEMPTS: i64 = 8;

    /// The wait before the next attempt after `attempts` failed runs: 20 s, 40 s, 80 s … at
    /// most a day.
    fn backoff(attempts: i64) -> Duration {
        Duration::seconds(10 * (1_i64 << attempts.clamp(1, 13)))
    }

    fn run(self, hub: &Hub) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// A job as a row to queue now.
pub fn new_job<J: Job>(hub: &Hub, job: &J, run_at: OffsetDateTime) -> NewJob {
    NewJob {
        id: id(hub.random()),
        kind: J::KIND,
        // The payload types are plain structs of strings: serialising them cannot fail.
        payload: serde_json::to_string(job).unwrap_or_default(),
        run_at,
        max_attempts: J::MAX_ATTEMPTS,
        created_at: hub.now(),
    }
}

type Run = fn(Hub, String) -> crate::ports::BoxFuture<'static, Result<(), JobError>>;

fn run_payload<J: Job>(hub: Hub, payload: String) -> crate::ports::BoxFuture<'static, Result<(), JobError>> {
    Box::pin(async move {
        let job: J = serde_json::from_str(&payload)
            .map_err(|e| JobError::Permanent(format!("the payload of a {} job cannot be read: {e}", J::KIND)))?;
        job.run(&hub).await
    })
}

struct Kind {
    run: Run,
    backoff: fn(i64) -> Duration,
}

/// Every job kind this build knows. A worker claims only these, so an older instance beside a
/// newer one leaves the newer kinds alone.
fn kinds() -> HashMap<&'static str, Kind> {
    fn kind<J: Job>() -> (&'static str, Kind) {
        (J::KIND, Kind { run: run_payload::<J>, backoff: J::backoff })
    }
    HashMap::from([
        kind::<logout::BackchannelLogout>(),
        kind::<Housekeeping>(),
        kind::<KeyCleanup>(),
        kind::<SendMail>(),
        kind::<DeletionEvent>(),
        kind::<Digests>(),
        kind::<crate::connectors::SyncSource>(),
    ])
}

impl Hub {
    /// Queues a job and wakes this instance's worker.
    pub async fn enqueue<J: Job>(&self, job: &J) -> crate::Result<()> {
        self.store().jobs().enqueue(&new_job(self, job, self.now())).await?;
        self.jobs_queued();
        Ok(())
    }

    /// Tells this instance's worker that jobs were queued (it also polls).
    pub(crate) fn jobs_queued(&self) {
        self.inner.jobs_queued.notify_one();
    }

    /// The jobs of a kind (all when `None`), newest first, for operators.
    pub async fn jobs(&self, kind: Option<&str>, limit: i64) -> crate::Result<Vec<mitsprache_store::JobRecord>> {
        Ok(self.store().jobs().list(kind, limit).await?)
    }

    /// Makes sure the recurring jobs exist (every instance does at start; one row each).
    pub async fn schedule_recurring(&self) -> crate::Result<()> {
        let every = self.config().jobs.housekeeping_every;
        // Digests are looked for hourly: each person's is due a day (or a week) after the last.
        let recurring = [
            ("housekeeping", Housekeeping::KIND, every),
            ("keys.cleanup", KeyCleanup::KIND, every),
            ("notifications.digest", Digests::KIND, Duration::hours(1)),
        ];
        for (key, kind, every) in recurring {
            self.store()
                .jobs()
                .schedule(&Recurring {
                    id: &id(self.random()),
                    key,
                    kind,
                    payload: "null",
                    every,
                    first_run_at: self.now(),
                })
                .await?;
        }
        Ok(())
    }
}

/// Runs due jobs of this instance until told to stop.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts the worker; `owner` names this instance in the leases it takes.
    pub fn start(hub: Hub) -> Worker {
        let (stop, stopped) = watch::channel(false);
        let owner = format!("worker-{}", &id(hub.random())[..12]);
        let task = tokio::spawn(work(hub, owner, stopped));
        Worker { stop, task }
    }

    /// Stops claiming and waits up to `grace` for the jobs that run; those still running after
    /// it are left to their leases (another instance runs them again).
    pub async fn stop(self, grace: std::time::Duration) {
        // Fails only when the worker has ended already.
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!("background jobs still running at shutdown; their leases will expire");
        }
    }
}

async fn work(hub: Hub, owner: String, mut stopped: watch::Receiver<bool>) {
    let kinds = Arc::new(kinds());
    let names: Vec<&'static str> = kinds.keys().copied().collect();
    let config = hub.config().jobs;
    let mut running: JoinSet<()> = JoinSet::new();
    loop {
        if *stopped.borrow() {
            break;
        }
        let free = config.concurrency.saturating_sub(running.len());
        if free > 0 {
            // Each claim is its own lease holder (see `Jobs::claim`).
            let lease = format!("{owner}/{}", &id(hub.random())[..8]);
            match claim(&hub, &lease, &names, free).await {
                Ok(claimed) => {
                    for job in claimed {
                        running.spawn(execute(hub.clone(), lease.clone(), kinds.clone(), job));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot claim background jobs; trying again"),
            }
        }
        tokio::select! {
            _ = stopped.changed() => {}
            _ = hub.inner.jobs_queued.notified() => {}
            Some(_) = running.join_next(), if !running.is_empty() => {}
            _ = tokio::time::sleep(config.poll) => {}
        }
    }
    while running.join_next().await.is_some() {}
}

async fn claim(hub: &Hub, owner: &str, kinds: &[&str], free: usize) -> crate::Result<Vec<ClaimedJob>> {
    let now = hub.now();
    let jobs = hub.store().jobs();
    if !jobs.any_due(kinds, now).await? {
        return Ok(Vec::new());
    }
    Ok(jobs.claim(owner, kinds, i64::try_from(free).unwrap_or(1), now, now + hub.config().jobs.lease).await?)
}

/// Runs one claimed job with a heartbeat on its lease, and records the outcome. A run whose
/// lease is lost (taken over by another claim, or not renewed before it expired) is stopped:
/// the claim that holds the lease runs the job, and two runs at once would do its work twice.
async fn execute(hub: Hub, owner: String, kinds: Arc<HashMap<&'static str, Kind>>, job: ClaimedJob) {
    let lease = hub.config().jobs.lease;
    let outcome = match kinds.get(job.kind.as_str()) {
        // The claim asked for known kinds only; a row that changed its kind meanwhile is failed
        // for the operator to see rather than claimed again every lease period.
        None => Err(JobError::Permanent(format!("no job kind {} in this build", job.kind))),
        Some(_) if job.every.is_none() && job.attempts > job.max_attempts => {
            // Earlier runs ended without an outcome (their instance died each time).
            Err(JobError::Permanent(format!("gave up after {} runs that ended without an outcome", job.attempts - 1)))
        }
        Some(kind) => {
            let run = (kind.run)(hub.clone(), job.payload.clone());
            tokio::pin!(run);
            let beat = std::time::Duration::try_from(lease / 3).unwrap_or(std::time::Duration::from_secs(10));
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
            let mut held_until = hub.now() + lease;
            loop {
                tokio::select! {
                    result = &mut run => break result,
                    _ = ticks.tick() => {
                        let until = hub.now() + lease;
                        match hub.store().jobs().heartbeat(&job.id, &owner, until).await {
                            Ok(true) => held_until = until,
                            Ok(false) => {
                                tracing::warn!(job = %job.id, kind = %job.kind, "lost the lease of a running job; stopping it");
                                return;
                            }
                            Err(e) if hub.now() >= held_until => {
                                tracing::warn!(job = %job.id, error = %e, "the lease ran out without a heartbeat; stopping the job");
                                return;
                            }
                            Err(e) => tracing::warn!(job = %job.id, error = %e, "cannot extend a job's lease"),
                        }
                    }
                }
            }
        }
    };
    let now = hub.now();
    let jobs = hub.store().jobs();
    let recorded = match &outcome {
        Ok(()) => {
            tracing::debug!(job = %job.id, kind = %job.kind, attempts = job.attempts, "background job done");
            jobs.succeed(&job.id, &owner, now, job.every.map(|every| now + every)).await
        }
        Err(error) => {
            // A kind this build does not know waits an hour: a newer instance may know it.
            let backoff = kinds.get(job.kind.as_str()).map_or(Duration::hours(1), |k| (k.backoff)(job.attempts));
            let retry_at = match (error, job.every) {
                (_, Some(every)) => Some(now + backoff.min(every)),
                (JobError::Retry(_), None) if job.attempts < job.max_attempts => Some(now + backoff),
                _ => None,
            };
            tracing::warn!(
                job = %job.id, kind = %job.kind, attempts = job.attempts, %error,
                retry_at = ?retry_at.map(|t| t.unix_timestamp()),
                "background job failed{}", if retry_at.is_none() { "; giving up" } else { "" }
            );
            jobs.fail(&job.id, &owner, &error.to_string(), now, retry_at).await
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(job = %job.id, "the job's outcome was not recorded: its lease had passed to another worker")
        }
        Err(e) => tracing::error!(job = %job.id, error = %e, "cannot record a job's outcome; it will run again"),
    }
}
