//! Group commit for refresh-token rotation. Every rotation must be durable before its answer
//! leaves (a lost rotation would log the tool out or, worse, accept a used token after a
//! crash), and on SQLite each commit costs an fsync. Rotations that arrive while one is being
//! written wait and then share the next transaction, so under load many rotations cost one
//! durable write; a lone rotation goes out at once.

use mitsprache_domain::Account;
use mitsprache_oidc::grant::{Grant, Redemption};
use mitsprache_store::{Rotation, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most rotations one transaction carries.
const BATCH: usize = 64;

type Answer = Result<Redemption<(Grant, Option<Account>)>, Arc<StoreError>>;

struct Job {
    rotation: Rotation,
    reply: oneshot::Sender<Answer>,
}

pub struct Rotator {
    jobs: mpsc::Sender<Job>,
}

impl Rotator {
    /// Starts the writer task of this instance. It lives as long as the channel: when the last
    /// `Rotator` is dropped, the task ends after its current batch.
    pub fn start(store: Store) -> Rotator {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < BATCH {
                    match rx.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                let batch: Vec<Rotation> = jobs.iter().map(|j| j.rotation.clone()).collect();
                match store.grants().rotate_refresh_tokens(&batch).await {
                    Ok(results) => {
                        for (job, result) in jobs.into_iter().zip(results) {
                            // A requester that gave up waiting has nothing to be told.
                            let _ = job.reply.send(Ok(result));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, rotations = jobs.len(), "refresh-token rotation failed; nothing was changed");
                        let e = Arc::new(e);
                        for job in jobs {
                            // A requester that gave up waiting has nothing to be told.
                            let _ = job.reply.send(Err(e.clone()));
                        }
                    }
                }
            }
        });
        Rotator { jobs: tx }
    }

    /// Rotates one refresh token, in the next transaction the writer commits. `None` when the
    /// writer has stopped (the instance is shutting down).
    pub async fn rotate(&self, rotation: Rotation) -> Option<Answer> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { rotation, reply }).await.ok()?;
        answer.await.ok()
    }
}
