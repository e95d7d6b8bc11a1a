//! Links from an upstream provider's subject to a hub account.

use super::accounts::insert_account;
use crate::timestamp::{at, secs};
use crate::{Store, StoreError};
use mitsprache_domain::Account;
use sqlx::{Any, Row, Transaction};
use time::OffsetDateTime;

pub struct UpstreamLinks<'a> {
    store: &'a Store,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamLink {
    /// The provider's id in the configuration.
    pub provider: String,
    pub subject: String,
    pub account_id: String,
    pub created_at: OffsetDateTime,
}

async fn insert_link(tx: &mut Transaction<'static, Any>, link: &UpstreamLink) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO upstream_links (provider, subject, account_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (provider, subject) DO NOTHING",
    )
    .bind(&link.provider)
    .bind(&link.subject)
    .bind(&link.account_id)
    .bind(secs(link.created_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl<'a> UpstreamLinks<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        UpstreamLinks { store }
    }

    /// The account linked to a provider's subject.
    pub async fn account_of(&self, provider: &str, subject: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT account_id FROM upstream_links WHERE provider = $1 AND subject = $2")
            .bind(provider)
            .bind(subject)
            .fetch_optional(self.store.pool())
            .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
    }

    /// Creates the account a first upstream login brings, with its link, in one transaction:
    /// an account without its link would lock its owner out (the address would be taken).
    /// `Conflict` when the address has an account already.
    pub async fn create_account(&self, account: &Account, link: &UpstreamLink) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        insert_account(&mut tx, account).await?;
        insert_link(&mut tx, link).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn of_account(&self, account_id: &str) -> Result<Vec<UpstreamLink>, StoreError> {
        let rows = sqlx::query(
            "SELECT provider, subject, account_id, created_at FROM upstream_links WHERE account_id = $1 ORDER BY provider",
        )
        .bind(account_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UpstreamLink {
                    provider: r.try_get("provider")?,
                    subject: r.try_get("subject")?,
                    account_id: r.try_get("account_id")?,
                    created_at: at(r, "created_at")?,
                })
            })
            .collect()
    }
}
