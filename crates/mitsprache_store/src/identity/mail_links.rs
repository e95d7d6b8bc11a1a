//! Single-use links sent by mail (address verification, password reset), by digest.

use crate::timestamp::secs;
use crate::{Store, StoreError};
use sqlx::Row;
use time::OffsetDateTime;

pub struct MailLinks<'a> {
    store: &'a Store,
}

/// What a mailed link is for; a link of one purpose never serves another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Verify,
    Reset,
}

impl LinkPurpose {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Verify => "verify",
            LinkPurpose::Reset => "reset",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMailLink<'a> {
    pub digest: &'a str,
    pub account_id: &'a str,
    pub purpose: LinkPurpose,
    pub expires_at: OffsetDateTime,
}

impl<'a> MailLinks<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        MailLinks { store }
    }

    pub async fn add(&self, link: &NewMailLink<'_>) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO email_tokens (digest, account_id, purpose, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(link.digest)
            .bind(link.account_id)
            .bind(link.purpose.as_str())
            .bind(secs(link.expires_at))
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// Consumes a link; the account id when it was valid, unused and for this purpose.
    pub async fn consume(
        &self,
        digest: &str,
        purpose: LinkPurpose,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "UPDATE email_tokens SET used_at = $1 WHERE digest = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING account_id",
        )
        .bind(secs(now))
        .bind(digest)
        .bind(purpose.as_str())
        .fetch_optional(self.store.pool())
        .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
    }

    /// The account of a valid link, without consuming it (to show the form it leads to).
    pub async fn account_of(
        &self,
        digest: &str,
        purpose: LinkPurpose,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT account_id FROM email_tokens WHERE digest = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(digest)
        .bind(purpose.as_str())
        .bind(secs(now))
        .fetch_optional(self.store.pool())
        .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
    }
}
