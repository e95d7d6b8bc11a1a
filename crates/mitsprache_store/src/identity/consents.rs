//! What a person agreed to share with each tool.

use super::joined_client;
use crate::timestamp::{at, secs};
use crate::{Store, StoreError};
use mitsprache_oidc::client::Client;
use mitsprache_oidc::grant::Scope;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

pub struct Consents<'a> {
    store: &'a Store,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub account_id: String,
    pub client_id: String,
    pub scope: Scope,
    pub granted_at: OffsetDateTime,
}

/// A consent with its client, as the account page lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentWithClient {
    pub consent: Consent,
    /// None when the client was removed since.
    pub client: Option<Client>,
}

fn consent(r: &AnyRow) -> Result<Consent, StoreError> {
    Ok(Consent {
        account_id: r.try_get("account_id")?,
        client_id: r.try_get("client_id")?,
        scope: Scope::parse(&r.try_get::<String, _>("scope")?),
        granted_at: at(r, "granted_at")?,
    })
}

impl<'a> Consents<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Consents { store }
    }

    pub async fn find(&self, account_id: &str, client_id: &str) -> Result<Option<Consent>, StoreError> {
        let row = sqlx::query(
            "SELECT account_id, client_id, scope, granted_at FROM consents WHERE account_id = $1 AND client_id = $2",
        )
        .bind(account_id)
        .bind(client_id)
        .fetch_optional(self.store.pool())
        .await?;
        row.map(|r| consent(&r)).transpose()
    }

    /// An account's consents, newest first, with their clients (one query).
    pub async fn of_account(&self, account_id: &str) -> Result<Vec<ConsentWithClient>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.account_id, c.client_id, c.scope, c.granted_at, cl.document AS client_document \
             FROM consents c LEFT JOIN clients cl ON cl.id = c.client_id \
             WHERE c.account_id = $1 ORDER BY c.granted_at DESC",
        )
        .bind(account_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| Ok(ConsentWithClient { consent: consent(r)?, client: joined_client(r, "client_id")? }))
            .collect()
    }

    /// Records (or replaces) a consent.
    pub async fn put(&self, c: &Consent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consents (account_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
        )
        .bind(&c.account_id)
        .bind(&c.client_id)
        .bind(c.scope.to_string())
        .bind(secs(c.granted_at))
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Withdraws consent for a tool and revokes every grant the account gave it, in one
    /// transaction.
    pub async fn withdraw(&self, account_id: &str, client_id: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        sqlx::query("DELETE FROM consents WHERE account_id = $1 AND client_id = $2")
            .bind(account_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE grants SET revoked_at = $1 WHERE account_id = $2 AND client_id = $3 AND revoked_at IS NULL",
        )
        .bind(secs(now))
        .bind(account_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
