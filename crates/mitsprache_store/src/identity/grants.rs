//! Grants with their authorization codes and refresh tokens.

use super::{GRANT_COLUMNS, JOINED_ACCOUNT_COLUMNS, grant, joined_account, joined_client};
use crate::timestamp::secs;
use crate::{Store, StoreError};
use mitsprache_domain::Account;
use mitsprache_oidc::client::Client;
use mitsprache_oidc::grant::{Code, Grant, Redemption};
use sqlx::Row;
use time::OffsetDateTime;

pub struct Grants<'a> {
    store: &'a Store,
}

/// A new grant with its authorization code. The code itself is never stored, only its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCode<'a> {
    pub grant: &'a Grant,
    pub digest: &'a str,
    pub redirect_uri: &'a str,
    pub code_challenge: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub expires_at: OffsetDateTime,
}

/// A refresh token to store with a grant (its digest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewRefresh<'a> {
    pub digest: &'a str,
    pub expires_at: OffsetDateTime,
}

/// One refresh-token rotation of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub old_digest: String,
    pub new_digest: String,
    pub client_id: String,
    pub now: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A grant with its client, as the data export lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantWithClient {
    pub grant: Grant,
    /// None when the client was removed since.
    pub client: Option<Client>,
}

impl<'a> Grants<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Grants { store }
    }

    /// Records a grant, its authorization code and (for back-channel logout) that its session
    /// used the client, in one transaction: one durable write per login at a tool.
    pub async fn create_with_code(&self, new: &NewCode<'_>) -> Result<(), StoreError> {
        let g = new.grant;
        let mut tx = self.store.write().await?;
        sqlx::query(
            "INSERT INTO grants (id, client_id, account_id, sid, scope, auth_time, amr, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&g.id)
        .bind(&g.client_id)
        .bind(&g.account_id)
        .bind(&g.sid)
        .bind(g.scope.to_string())
        .bind(secs(g.auth_time))
        .bind(g.amr.as_str())
        .bind(secs(g.created_at))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO auth_codes (digest, grant_id, redirect_uri, code_challenge, nonce, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new.digest)
        .bind(&g.id)
        .bind(new.redirect_uri)
        .bind(new.code_challenge)
        .bind(new.nonce)
        .bind(secs(new.expires_at))
        .execute(&mut *tx)
        .await?;
        if let Some(sid) = &g.sid {
            sqlx::query(
                "INSERT INTO session_clients (sid, client_id, account_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (sid, client_id) DO NOTHING",
            )
            .bind(sid)
            .bind(&g.client_id)
            .bind(&g.account_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Consumes a code and, when `accept` passes it (client, redirect URI, PKCE), stores the
    /// grant's first refresh token in the same transaction: one durable write per exchange. A
    /// second presentation by the same client finds the code used and names its grant; one by
    /// another client is `Invalid`, since it may not end someone else's grant. The code is
    /// consumed even when `accept` refuses it, so a stolen code gets one try.
    pub async fn redeem_code(
        &self,
        digest: &str,
        client_id: &str,
        now: OffsetDateTime,
        first_refresh: Option<NewRefresh<'_>>,
        accept: impl FnOnce(&Code) -> bool,
    ) -> Result<Redemption<(Code, Option<Account>)>, StoreError> {
        let mut tx = self.store.write().await?;
        let consumed =
            sqlx::query("UPDATE auth_codes SET used_at = $1 WHERE digest = $2 AND used_at IS NULL AND expires_at > $1")
                .bind(secs(now))
                .bind(digest)
                .execute(&mut *tx)
                .await?;
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS}, c.redirect_uri, c.code_challenge, c.nonce, c.used_at, {JOINED_ACCOUNT_COLUMNS} \
             FROM auth_codes c JOIN grants g ON g.id = c.grant_id LEFT JOIN accounts a ON a.id = g.account_id \
             WHERE c.digest = $1"
        ))
        .bind(digest)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(Redemption::Invalid) };
        let g = grant(&row)?;
        if consumed.rows_affected() == 0 {
            let used: Option<i64> = row.try_get("used_at")?;
            let replayed = used.is_some() && g.client_id == client_id;
            return Ok(if replayed { Redemption::Replayed { grant_id: g.id } } else { Redemption::Invalid });
        }
        let account = joined_account(&row)?;
        let code = Code {
            redirect_uri: row.try_get("redirect_uri")?,
            code_challenge: row.try_get("code_challenge")?,
            nonce: row.try_get("nonce")?,
            grant: g,
        };
        if let Some(refresh) = first_refresh
            && code.grant.is_live()
            && accept(&code)
        {
            sqlx::query("INSERT INTO refresh_tokens (digest, grant_id, expires_at) VALUES ($1, $2, $3)")
                .bind(refresh.digest)
                .bind(&code.grant.id)
                .bind(secs(refresh.expires_at))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Redemption::Fresh((code, account)))
    }

    pub async fn find(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        let row = sqlx::query(&format!("SELECT {GRANT_COLUMNS} FROM grants g WHERE g.id = $1"))
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?;
        row.map(|r| grant(&r)).transpose()
    }

    /// The grants an account has given that are still in force, newest first, with their
    /// clients (one query).
    pub async fn live_of_account(&self, account_id: &str) -> Result<Vec<GrantWithClient>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS}, cl.document AS client_document FROM grants g \
             LEFT JOIN clients cl ON cl.id = g.client_id \
             WHERE g.account_id = $1 AND g.revoked_at IS NULL ORDER BY g.created_at DESC"
        ))
        .bind(account_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(|r| Ok(GrantWithClient { grant: grant(r)?, client: joined_client(r, "client_id")? })).collect()
    }

    /// Revokes a grant: its refresh tokens stop working and its access tokens introspect inactive.
    pub async fn revoke(&self, id: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(secs(now))
            .bind(id)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// Rotates refresh tokens, several in one transaction (group commit: one durable write for
    /// all the rotations that arrived together). For each: the old token is consumed and the new
    /// one stored, and the grant is returned with its account. A consumed token presented again
    /// by its client is reuse: the caller revokes the whole grant. A token of another client (used
    /// or not), of a revoked grant or past its expiry is left untouched (`Invalid`), so nobody
    /// can burn someone else's token or end someone else's grant. The same token twice in one batch is reuse the second time.
    pub async fn rotate_refresh_tokens(
        &self,
        batch: &[Rotation],
    ) -> Result<Vec<Redemption<(Grant, Option<Account>)>>, StoreError> {
        let mut tx = self.store.write().await?;
        let mut out = Vec::with_capacity(batch.len());
        for r in batch {
            let row = sqlx::query(&format!(
                "SELECT {GRANT_COLUMNS}, t.used_at, t.expires_at AS token_expires, {JOINED_ACCOUNT_COLUMNS} \
                 FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id LEFT JOIN accounts a ON a.id = g.account_id \
                 WHERE t.digest = $1"
            ))
            .bind(&r.old_digest)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                out.push(Redemption::Invalid);
                continue;
            };
            let g = grant(&row)?;
            // Another client's token is never its business, used or not: it may not end the grant.
            if g.client_id != r.client_id {
                out.push(Redemption::Invalid);
                continue;
            }
            if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
                out.push(Redemption::Replayed { grant_id: g.id });
                continue;
            }
            if !g.is_live() || row.try_get::<i64, _>("token_expires")? <= secs(r.now) {
                out.push(Redemption::Invalid);
                continue;
            }
            // Another instance may have consumed it since the read (PostgreSQL): the guarded
            // UPDATE decides.
            let consumed = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE digest = $2 AND used_at IS NULL")
                .bind(secs(r.now))
                .bind(&r.old_digest)
                .execute(&mut *tx)
                .await?;
            if consumed.rows_affected() == 0 {
                out.push(Redemption::Replayed { grant_id: g.id });
                continue;
            }
            sqlx::query("INSERT INTO refresh_tokens (digest, grant_id, expires_at) VALUES ($1, $2, $3)")
                .bind(&r.new_digest)
                .bind(&g.id)
                .bind(secs(r.expires_at))
                .execute(&mut *tx)
                .await?;
            let account = joined_account(&row)?;
            out.push(Redemption::Fresh((g, account)));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The grant of a live refresh token (for revocation and introspection).
    pub async fn by_refresh_token(&self, digest: &str, now: OffsetDateTime) -> Result<Option<Grant>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS} FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
             WHERE r.digest = $1 AND r.used_at IS NULL AND r.expires_at > $2"
        ))
        .bind(digest)
        .bind(secs(now))
        .fetch_optional(self.store.pool())
        .await?;
        row.map(|r| grant(&r)).transpose()
    }
}
