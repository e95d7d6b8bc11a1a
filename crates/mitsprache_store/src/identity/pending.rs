//! Authorization requests waiting for a login or a consent, and upstream logins waiting for the
//! provider's answer, under the digest of a random reference.

use crate::timestamp::{at, secs};
use crate::{Store, StoreError};
use time::OffsetDateTime;

pub struct Pending<'a> {
    store: &'a Store,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPending<'a> {
    pub digest: &'a str,
    /// The request as JSON; its shape is the caller's.
    pub request: &'a str,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    pub request: String,
    pub created_at: OffsetDateTime,
}

impl<'a> Pending<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Pending { store }
    }

    pub async fn put(&self, new: &NewPending<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pending_authorizations (digest, request, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(new.digest)
        .bind(new.request)
        .bind(secs(new.created_at))
        .bind(secs(new.expires_at))
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    pub async fn find(&self, digest: &str, now: OffsetDateTime) -> Result<Option<PendingRequest>, StoreError> {
        let row =
            sqlx::query("SELECT request, created_at FROM pending_authorizations WHERE digest = $1 AND expires_at > $2")
                .bind(digest)
                .bind(secs(now))
                .fetch_optional(self.store.pool())
                .await?;
        row.map(|r| {
            Ok(PendingRequest { request: sqlx::Row::try_get(&r, "request")?, created_at: at(&r, "created_at")? })
        })
        .transpose()
    }

    /// Removes a pending request; whether it was there (an upstream answer is used once).
    pub async fn take(&self, digest: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM pending_authorizations WHERE digest = $1")
            .bind(digest)
            .execute(self.store.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
