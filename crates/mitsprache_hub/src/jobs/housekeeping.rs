//! The recurring jobs of every hub: removing what has expired, and the signing keys no live
//! token can need any more.

use super::{Job, JobError};
use crate::Hub;
use serde::{Deserialize, Serialize};

/// Deletes expired sessions, codes, tokens, mail links, rate-limit windows, and old ended
/// grants and finished jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Housekeeping;

impl Job for Housekeeping {
    const KIND: &'static str = "housekeeping";

    async fn run(self, hub: &Hub) -> Result<(), JobError> {
        let removed = hub.store().purge_expired(hub.now()).await.map_err(|e| JobError::Retry(e.to_string()))?;
        if removed > 0 {
            tracing::info!(removed, "removed expired sessions, codes, tokens and finished jobs");
        }
        hub.store().optimize().await.map_err(|e| JobError::Retry(e.to_string()))?;
        Ok(())
    }
}

/// Deletes retired signing keys once every token they signed has expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCleanup;

impl Job for KeyCleanup {
    const KIND: &'static str = "keys.cleanup";

    async fn run(self, hub: &Hub) -> Result<(), JobError> {
        let before = hub.now() - hub.config().keep_retired();
        let dropped = hub.store().keys().drop_retired(before).await.map_err(|e| JobError::Retry(e.to_string()))?;
        if dropped > 0 {
            tracing::info!(dropped, "removed retired signing keys");
        }
        Ok(())
    }
}
