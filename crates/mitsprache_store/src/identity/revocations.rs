//! Access tokens revoked before their expiry (RFC 7009) and client assertions already used.

use crate::timestamp::secs;
use crate::{Store, StoreError};
use sqlx::Row;
use time::OffsetDateTime;

pub struct Revocations<'a> {
    store: &'a Store,
}

impl<'a> Revocations<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Revocations { store }
    }

    pub async fn revoke_token(&self, jti: &str, expires_at: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
            .bind(jti)
            .bind(secs(expires_at))
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// Whether an access token was revoked, directly or through its grant.
    pub async fn is_revoked(&self, jti: &str, grant_id: Option<&str>) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1) + \
             (SELECT COUNT(*) FROM grants WHERE id = $2 AND revoked_at IS NOT NULL)",
        )
        .bind(jti)
        .bind(grant_id.unwrap_or(""))
        .fetch_one(self.store.pool())
        .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }

    /// Records a client assertion's `jti`; false when it was used before (replay).
    pub async fn use_assertion(&self, jti: &str, expires_at: OffsetDateTime) -> Result<bool, StoreError> {
        let done =
            sqlx::query("INSERT INTO used_assertions (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
                .bind(jti)
                .bind(secs(expires_at))
                .execute(self.store.pool())
                .await?;
        Ok(done.rows_affected() == 1)
    }
}
