//! Signing keys and hub-wide secrets.

use crate::timestamp::{at, at_opt, secs};
use crate::{Store, StoreError};
use mitsprache_oidc::jose::Alg;
use mitsprache_oidc::keys::StoredKey;
use sqlx::Row;
use time::OffsetDateTime;

pub struct Keys<'a> {
    store: &'a Store,
}

impl<'a> Keys<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Keys { store }
    }

    /// Every stored key, oldest first.
    pub async fn list(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, alg, private_key, public_jwk, created_at, retired_at FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let alg: String = r.try_get("alg")?;
                Ok(StoredKey {
                    kid: r.try_get("kid")?,
                    alg: Alg::parse(&alg).ok_or_else(|| StoreError::Corrupt("signing key algorithm".into(), alg))?,
                    private_key: r.try_get("private_key")?,
                    public_jwk: r.try_get("public_jwk")?,
                    created_at: at(r, "created_at")?,
                    retired_at: at_opt(r, "retired_at")?,
                })
            })
            .collect()
    }

    /// Adds new keys and retires the previous active ones, in one transaction.
    pub async fn rotate(&self, new: &[StoredKey], now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(secs(now))
            .execute(&mut *tx)
            .await?;
        for k in new {
            sqlx::query(
                "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&k.kid)
            .bind(k.alg.as_str())
            .bind(&k.private_key)
            .bind(&k.public_jwk)
            .bind(secs(k.created_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes keys retired before `retired_before`: no token they signed can still be live.
    pub async fn drop_retired(&self, retired_before: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1")
            .bind(secs(retired_before))
            .execute(self.store.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// A hub-wide secret, created once by whichever instance asks first.
    pub async fn hub_secret(&self, name: &str, candidate: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO hub_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(candidate)
            .execute(self.store.pool())
            .await?;
        let row = sqlx::query("SELECT value FROM hub_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(self.store.pool())
            .await?;
        Ok(row.try_get(0)?)
    }
}
