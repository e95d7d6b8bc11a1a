//! Registered clients (the tools), kept as JSON documents of `mitsprache_oidc::client::Client`.

use super::{found, parse_client};
use crate::timestamp::secs;
use crate::{Store, StoreError};
use mitsprache_oidc::client::Client;
use sqlx::Row;
use time::OffsetDateTime;

pub struct Clients<'a> {
    store: &'a Store,
}

impl<'a> Clients<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Clients { store }
    }

    /// Stores a client, new or changed. `registration_digest` is the digest of the RFC 7592
    /// registration access token of a dynamically registered client; a change keeps it.
    pub async fn put(
        &self,
        client: &Client,
        registration_digest: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let document =
            serde_json::to_string(client).map_err(|e| StoreError::Corrupt(client.id.clone(), e.to_string()))?;
        sqlx::query(
            "INSERT INTO clients (id, document, registration_digest, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
        )
        .bind(&client.id)
        .bind(document)
        .bind(registration_digest)
        .bind(secs(now))
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    pub async fn find(&self, id: &str) -> Result<Option<Client>, StoreError> {
        let row = sqlx::query("SELECT document FROM clients WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?;
        row.map(|r| parse_client(id, &r.try_get::<String, _>(0)?)).transpose()
    }

    /// The client a registration access token (RFC 7592) belongs to.
    pub async fn by_registration(&self, digest: &str) -> Result<Option<Client>, StoreError> {
        let row = sqlx::query("SELECT id, document FROM clients WHERE registration_digest = $1")
            .bind(digest)
            .fetch_optional(self.store.pool())
            .await?;
        row.map(|r| parse_client(&r.try_get::<String, _>(0)?, &r.try_get::<String, _>(1)?)).transpose()
    }

    pub async fn list(&self) -> Result<Vec<Client>, StoreError> {
        let rows = sqlx::query("SELECT id, document FROM clients ORDER BY created_at, id")
            .fetch_all(self.store.pool())
            .await?;
        rows.iter().map(|r| parse_client(&r.try_get::<String, _>(0)?, &r.try_get::<String, _>(1)?)).collect()
    }

    /// Removes a client; its grants end and its consents go, in one transaction.
    pub async fn delete(&self, id: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        let done = sqlx::query("DELETE FROM clients WHERE id = $1").bind(id).execute(&mut *tx).await?;
        found(done.rows_affected())?;
        sqlx::query("UPDATE grants SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL")
            .bind(secs(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM consents WHERE client_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
