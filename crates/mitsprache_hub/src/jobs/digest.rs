//! The e-mail digests of "Meine Beteiligung": a recurring job that sends each person whose
//! digest is due one mail of what changed since their last (see `participation`).

use super::{Job, JobError};
use crate::Hub;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests;

impl Job for Digests {
    const KIND: &'static str = "notifications.digest";

    async fn run(self, hub: &Hub) -> Result<(), JobError> {
        let sent = hub.send_digests().await?;
        if sent > 0 {
            tracing::info!(sent, "notification digests queued");
        }
        Ok(())
    }
}
