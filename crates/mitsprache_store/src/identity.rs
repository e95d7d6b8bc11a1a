//! Persistence of accounts, sessions, clients and the OpenID provider's state. Everything an
//! instance needs to answer any request lives here, so several instances on one PostgreSQL
//! serve the same people (ADR 0006). Single-use values (codes, refresh tokens, mail links) are
//! consumed with one conditional UPDATE, so two instances can never both accept the same one.

use crate::StoreError;
use mitsprache_domain::Role;
use mitsprache_oidc::client::Client;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub password_hash: Option<String>,
    pub name: Option<String>,
    pub locale: String,
    pub role: Role,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub sid: String,
    pub account_id: String,
    pub auth_time: i64,
    pub amr: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub account_id: String,
    pub sid: Option<String>,
    pub scope: String,
    pub auth_time: i64,
    /// How the person logged in (`pwd`, `fed`), for the ID token's `amr`.
    pub amr: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub grant: Grant,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
}

/// What presenting a single-use value found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption<T> {
    Fresh(T),
    /// Used before: the caller revokes the grant it belongs to (RFC 9700 §4.14, RFC 6749 §4.1.2).
    Replayed {
        grant_id: String,
    },
    /// Unknown or expired.
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub private_key: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub client_id: String,
    pub scope: String,
    pub granted_at: i64,
}

/// One refresh-token rotation of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub old_digest: String,
    pub new_digest: String,
    pub client_id: String,
    pub now: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub client_id: String,
    pub uri: String,
    pub logout_token: String,
    pub attempts: i64,
}

pub struct IdentityStore<'a> {
    pool: &'a AnyPool,
}

const ACCOUNT_COLUMNS: &str = "id, email, email_verified, password_hash, name, locale, role, created_at, updated_at";
const SESSION_COLUMNS: &str = "sid, account_id, auth_time, amr, created_at, expires_at, user_agent";
const GRANT_COLUMNS: &str =
    "g.id, g.client_id, g.account_id, g.sid, g.scope, g.auth_time, g.amr, g.created_at, g.revoked_at";

fn account(row: &AnyRow) -> Result<Account, StoreError> {
    account_columns(row, row.try_get("id")?, "created_at")
}

/// An account from a row that may join it to another table: the id and the account's
/// `created_at` then come under other names.
fn account_columns(row: &AnyRow, id: String, created_at: &str) -> Result<Account, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(Account {
        id,
        email: row.try_get("email")?,
        email_verified: row.try_get::<i64, _>("email_verified")? != 0,
        password_hash: row.try_get("password_hash")?,
        name: row.try_get("name")?,
        locale: row.try_get("locale")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt("account role".into(), role))?,
        created_at: row.try_get(created_at)?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn session(row: &AnyRow) -> Result<Session, StoreError> {
    Ok(Session {
        sid: row.try_get("sid")?,
        account_id: row.try_get("account_id")?,
        auth_time: row.try_get("auth_time")?,
        amr: row.try_get("amr")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        user_agent: row.try_get("user_agent")?,
    })
}

fn grant(row: &AnyRow) -> Result<Grant, StoreError> {
    Ok(Grant {
        id: row.try_get("id")?,
        client_id: row.try_get("client_id")?,
        account_id: row.try_get("account_id")?,
        sid: row.try_get("sid")?,
        scope: row.try_get("scope")?,
        auth_time: row.try_get("auth_time")?,
        amr: row.try_get("amr")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl<'a> IdentityStore<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        IdentityStore { pool }
    }

    // ---- accounts ------------------------------------------------------------------------

    /// Creates an account; `Conflict` when the e-mail address is taken.
    pub async fn create_account(&self, a: &Account) -> Result<(), StoreError> {
        sqlx::query(&format!("INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
            .bind(&a.id)
            .bind(&a.email)
            .bind(i64::from(a.email_verified))
            .bind(&a.password_hash)
            .bind(&a.name)
            .bind(&a.locale)
            .bind(a.role.as_str())
            .bind(a.created_at)
            .bind(a.updated_at)
            .execute(self.pool)
            .await
            .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("email".into()) } else { e.into() })?;
        Ok(())
    }

    pub async fn account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool)
            .await?;
        row.as_ref().map(account).transpose()
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email = $1"))
            .bind(email)
            .fetch_optional(self.pool)
            .await?;
        row.as_ref().map(account).transpose()
    }

    pub async fn accounts(&self, limit: i64) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY email LIMIT $1"))
            .bind(limit)
            .fetch_all(self.pool)
            .await?;
        rows.iter().map(account).collect()
    }

    pub async fn set_password(&self, id: &str, hash: &str, now: i64) -> Result<(), StoreError> {
        self.update(id, "UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3", hash, now).await
    }

    pub async fn set_role(&self, id: &str, role: Role, now: i64) -> Result<(), StoreError> {
        self.update(id, "UPDATE accounts SET role = $1, updated_at = $2 WHERE id = $3", role.as_str(), now).await
    }

    pub async fn mark_verified(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE accounts SET email_verified = 1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(self.pool)
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn set_profile(&self, id: &str, name: Option<&str>, locale: &str, now: i64) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE accounts SET name = $1, locale = $2, updated_at = $3 WHERE id = $4")
            .bind(name)
            .bind(locale)
            .bind(now)
            .bind(id)
            .execute(self.pool)
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn update(&self, id: &str, sql: &str, value: &str, now: i64) -> Result<(), StoreError> {
        let done = sqlx::query(sql).bind(value).bind(now).bind(id).execute(self.pool).await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// Deletes an account with everything that hangs on it (sessions, grants, consents, links);
    /// returns the (session id, client id) pairs that still need a back-channel logout.
    pub async fn delete_account(&self, id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let pairs = sqlx::query("SELECT sid, client_id FROM session_clients WHERE account_id = $1")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        sqlx::query("DELETE FROM session_clients WHERE account_id = $1").bind(id).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM accounts WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(pairs)
    }

    // ---- sessions ------------------------------------------------------------------------

    pub async fn create_session(&self, digest: &str, s: &Session) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO sessions (digest, {SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(digest)
        .bind(&s.sid)
        .bind(&s.account_id)
        .bind(s.auth_time)
        .bind(&s.amr)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(&s.user_agent)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The live session behind a cookie, with its account.
    pub async fn session(&self, digest: &str, now: i64) -> Result<Option<(Session, Account)>, StoreError> {
        let row = sqlx::query(
            "SELECT s.sid, s.account_id, s.auth_time, s.amr, s.created_at, s.expires_at, s.user_agent, \
             a.id, a.email, a.email_verified, a.password_hash, a.name, a.locale, a.role, a.created_at AS a_created, a.updated_at \
             FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.digest = $1 AND s.expires_at > $2",
        )
        .bind(digest)
        .bind(now)
        .fetch_optional(self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let s = session(&row)?;
        let a = account_columns(&row, row.try_get("id")?, "a_created")?;
        Ok(Some((s, a)))
    }

    pub async fn sessions_of(&self, account_id: &str, now: i64) -> Result<Vec<Session>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE account_id = $1 AND expires_at > $2 ORDER BY created_at DESC"
        ))
        .bind(account_id)
        .bind(now)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(session).collect()
    }

    /// Ends sessions: the one with `digest`, or all of an account. Grants made
    /// in them without `offline_access` end too. Returns the (sid, client id) pairs to notify.
    pub async fn end_sessions(
        &self,
        which: SessionSelector<'_>,
        now: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (filter, value) = match which {
            SessionSelector::Digest(d) => ("digest = $1", d),
            SessionSelector::Account(a) => ("account_id = $1", a),
        };
        let sids: Vec<String> = sqlx::query(&format!("DELETE FROM sessions WHERE {filter} RETURNING sid"))
            .bind(value)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut pairs = Vec::new();
        for sid in &sids {
            for row in sqlx::query("DELETE FROM session_clients WHERE sid = $1 RETURNING client_id")
                .bind(sid)
                .fetch_all(&mut *tx)
                .await?
            {
                pairs.push((sid.clone(), row.try_get(0)?));
            }
            sqlx::query(
                "UPDATE grants SET revoked_at = $1 WHERE sid = $2 AND revoked_at IS NULL AND ' ' || scope || ' ' NOT LIKE '% offline_access %'",
            )
            .bind(now)
            .bind(sid)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(pairs)
    }

    // ---- clients -------------------------------------------------------------------------

    pub async fn put_client(
        &self,
        client: &Client,
        registration_digest: Option<&str>,
        now: i64,
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
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        let row = sqlx::query("SELECT document FROM clients WHERE id = $1").bind(id).fetch_optional(self.pool).await?;
        row.map(|r| parse_client(id, &r.try_get::<String, _>(0)?)).transpose()
    }

    /// The client a registration access token (RFC 7592) belongs to.
    pub async fn client_by_registration(&self, digest: &str) -> Result<Option<Client>, StoreError> {
        let row = sqlx::query("SELECT id, document FROM clients WHERE registration_digest = $1")
            .bind(digest)
            .fetch_optional(self.pool)
            .await?;
        row.map(|r| parse_client(&r.try_get::<String, _>(0)?, &r.try_get::<String, _>(1)?)).transpose()
    }

    pub async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        let rows = sqlx::query("SELECT id, document FROM clients ORDER BY created_at, id").fetch_all(self.pool).await?;
        rows.iter().map(|r| parse_client(&r.try_get::<String, _>(0)?, &r.try_get::<String, _>(1)?)).collect()
    }

    pub async fn delete_client(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM clients WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE grants SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM consents WHERE client_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- authorization requests, grants, codes, refresh tokens ---------------------------

    pub async fn put_pending(&self, digest: &str, request: &str, now: i64, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pending_authorizations (digest, request, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(digest)
        .bind(request)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn pending(&self, digest: &str, now: i64) -> Result<Option<(String, i64)>, StoreError> {
        let row =
            sqlx::query("SELECT request, created_at FROM pending_authorizations WHERE digest = $1 AND expires_at > $2")
                .bind(digest)
                .bind(now)
                .fetch_optional(self.pool)
                .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    pub async fn delete_pending(&self, digest: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pending_authorizations WHERE digest = $1").bind(digest).execute(self.pool).await?;
        Ok(())
    }

    /// Records a grant, its authorization code and (for back-channel logout) that its session
    /// used the client, in one transaction: one durable write per login at a tool.
    pub async fn create_grant_with_code(
        &self,
        g: &Grant,
        code_digest: &str,
        redirect_uri: &str,
        code_challenge: &str,
        nonce: Option<&str>,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO grants (id, client_id, account_id, sid, scope, auth_time, amr, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&g.id)
        .bind(&g.client_id)
        .bind(&g.account_id)
        .bind(&g.sid)
        .bind(&g.scope)
        .bind(g.auth_time)
        .bind(&g.amr)
        .bind(g.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO auth_codes (digest, grant_id, redirect_uri, code_challenge, nonce, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(code_digest)
        .bind(&g.id)
        .bind(redirect_uri)
        .bind(code_challenge)
        .bind(nonce)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        if let Some(sid) = &g.sid {
            sqlx::query(
                "INSERT INTO session_clients (sid, client_id, account_id) VALUES ($1, $2, $3) ON CONFLICT (sid, client_id) DO NOTHING",
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
    /// second presentation finds the code used and names its grant. The code is consumed even
    /// when `accept` refuses it, so a stolen code gets one try.
    pub async fn redeem_code(
        &self,
        digest: &str,
        now: i64,
        first_refresh: Option<(&str, i64)>,
        accept: impl FnOnce(&Code) -> bool,
    ) -> Result<Redemption<(Code, Option<Account>)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let consumed =
            sqlx::query("UPDATE auth_codes SET used_at = $1 WHERE digest = $2 AND used_at IS NULL AND expires_at > $1")
                .bind(now)
                .bind(digest)
                .execute(&mut *tx)
                .await?;
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS}, c.redirect_uri, c.code_challenge, c.nonce, c.used_at, \
             a.email, a.email_verified, a.password_hash, a.name, a.locale, a.role, a.created_at AS a_created, a.updated_at \
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
            return Ok(if used.is_some() { Redemption::Replayed { grant_id: g.id } } else { Redemption::Invalid });
        }
        let account = match row.try_get::<Option<String>, _>("email")? {
            Some(_) => Some(account_columns(&row, g.account_id.clone(), "a_created")?),
            None => None,
        };
        let code = Code {
            redirect_uri: row.try_get("redirect_uri")?,
            code_challenge: row.try_get("code_challenge")?,
            nonce: row.try_get("nonce")?,
            grant: g,
        };
        if let Some((refresh_digest, expires_at)) = first_refresh
            && code.grant.revoked_at.is_none()
            && accept(&code)
        {
            sqlx::query("INSERT INTO refresh_tokens (digest, grant_id, expires_at) VALUES ($1, $2, $3)")
                .bind(refresh_digest)
                .bind(&code.grant.id)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Redemption::Fresh((code, account)))
    }

    pub async fn grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        let row = sqlx::query(&format!("SELECT {GRANT_COLUMNS} FROM grants g WHERE g.id = $1"))
            .bind(id)
            .fetch_optional(self.pool)
            .await?;
        row.as_ref().map(grant).transpose()
    }

    /// The grants an account has given that are still in force, newest first.
    pub async fn grants_of(&self, account_id: &str) -> Result<Vec<Grant>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS} FROM grants g WHERE g.account_id = $1 AND g.revoked_at IS NULL ORDER BY g.created_at DESC"
        ))
        .bind(account_id)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(grant).collect()
    }

    /// Revokes a grant: its refresh tokens stop working and its access tokens introspect inactive.
    pub async fn revoke_grant(&self, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Rotates refresh tokens, several in one transaction (group commit: one durable write for
    /// all the rotations that arrived together). For each: the old token is consumed and the new
    /// one stored, and the grant is returned with its account. A consumed token presented again
    /// is reuse: the caller revokes the whole grant. A token of another client, of a revoked
    /// grant or past its expiry is left untouched (`Invalid`), so nobody can burn someone
    /// else's token. The same token twice in one batch is reuse the second time.
    pub async fn rotate_refresh_tokens(
        &self,
        batch: &[Rotation],
    ) -> Result<Vec<Redemption<(Grant, Option<Account>)>>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(batch.len());
        for r in batch {
            let row = sqlx::query(&format!(
                "SELECT {GRANT_COLUMNS}, t.used_at, t.expires_at AS token_expires, a.email, a.email_verified, a.password_hash, \
                 a.name, a.locale, a.role, a.created_at AS a_created, a.updated_at \
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
            if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
                out.push(Redemption::Replayed { grant_id: g.id });
                continue;
            }
            if g.client_id != r.client_id || g.revoked_at.is_some() || row.try_get::<i64, _>("token_expires")? <= r.now
            {
                out.push(Redemption::Invalid);
                continue;
            }
            // Another instance may have consumed it since the read (PostgreSQL): the guarded
            // UPDATE decides.
            let consumed = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE digest = $2 AND used_at IS NULL")
                .bind(r.now)
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
                .bind(r.expires_at)
                .execute(&mut *tx)
                .await?;
            let account = match row.try_get::<Option<String>, _>("email")? {
                Some(_) => Some(account_columns(&row, g.account_id.clone(), "a_created")?),
                None => None,
            };
            out.push(Redemption::Fresh((g, account)));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The grant of a live refresh token (for revocation and introspection).
    pub async fn refresh_token_grant(&self, digest: &str, now: i64) -> Result<Option<Grant>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS} FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
             WHERE r.digest = $1 AND r.used_at IS NULL AND r.expires_at > $2"
        ))
        .bind(digest)
        .bind(now)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(grant).transpose()
    }

    // ---- consents ------------------------------------------------------------------------

    pub async fn consent(&self, account_id: &str, client_id: &str) -> Result<Option<Consent>, StoreError> {
        let row =
            sqlx::query("SELECT client_id, scope, granted_at FROM consents WHERE account_id = $1 AND client_id = $2")
                .bind(account_id)
                .bind(client_id)
                .fetch_optional(self.pool)
                .await?;
        row.map(|r| Ok(Consent { client_id: r.try_get(0)?, scope: r.try_get(1)?, granted_at: r.try_get(2)? }))
            .transpose()
    }

    pub async fn consents_of(&self, account_id: &str) -> Result<Vec<Consent>, StoreError> {
        let rows = sqlx::query(
            "SELECT client_id, scope, granted_at FROM consents WHERE account_id = $1 ORDER BY granted_at DESC",
        )
        .bind(account_id)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(Consent { client_id: r.try_get(0)?, scope: r.try_get(1)?, granted_at: r.try_get(2)? }))
            .collect()
    }

    pub async fn put_consent(
        &self,
        account_id: &str,
        client_id: &str,
        scope: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consents (account_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
        )
        .bind(account_id)
        .bind(client_id)
        .bind(scope)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Withdraws consent for a tool and revokes every grant the account gave it.
    pub async fn revoke_consent(&self, account_id: &str, client_id: &str, now: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM consents WHERE account_id = $1 AND client_id = $2")
            .bind(account_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE grants SET revoked_at = $1 WHERE account_id = $2 AND client_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- keys and hub secrets ------------------------------------------------------------

    pub async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, alg, private_key, public_jwk, created_at, retired_at FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredKey {
                    kid: r.try_get(0)?,
                    alg: r.try_get(1)?,
                    private_key: r.try_get(2)?,
                    public_jwk: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    retired_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Adds new keys and retires the previous active ones, in one transaction.
    pub async fn rotate_keys(&self, new: &[StoredKey], now: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        for k in new {
            sqlx::query(
                "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&k.kid)
            .bind(&k.alg)
            .bind(&k.private_key)
            .bind(&k.public_jwk)
            .bind(k.created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes retired keys no token signed by them can still need.
    pub async fn drop_retired_keys(&self, retired_before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1")
            .bind(retired_before)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// A hub-wide secret, created once by whichever instance asks first.
    pub async fn hub_secret(&self, name: &str, candidate: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO hub_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(candidate)
            .execute(self.pool)
            .await?;
        let row = sqlx::query("SELECT value FROM hub_secrets WHERE name = $1").bind(name).fetch_one(self.pool).await?;
        Ok(row.try_get(0)?)
    }

    // ---- mail links, rate limits, revocation lists ---------------------------------------

    pub async fn add_email_token(
        &self,
        digest: &str,
        account_id: &str,
        purpose: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO email_tokens (digest, account_id, purpose, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(digest)
            .bind(account_id)
            .bind(purpose)
            .bind(expires_at)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Consumes a mail link; the account id when it was valid, unused and for this purpose.
    pub async fn consume_email_token(
        &self,
        digest: &str,
        purpose: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "UPDATE email_tokens SET used_at = $1 WHERE digest = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING account_id",
        )
        .bind(now)
        .bind(digest)
        .bind(purpose)
        .fetch_optional(self.pool)
        .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
    }

    /// Whether a mail link is valid without consuming it (to show the form it leads to).
    pub async fn email_token_valid(&self, digest: &str, purpose: &str, now: i64) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM email_tokens WHERE digest = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(digest)
        .bind(purpose)
        .bind(now)
        .fetch_optional(self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Counts a hit in a fixed window and returns the hits in the current window.
    pub async fn hit(&self, bucket: &str, now: i64, window: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) ON CONFLICT (bucket) DO UPDATE SET \
             hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END, \
             window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
             RETURNING hits",
        )
        .bind(bucket)
        .bind(now)
        .bind(now - window)
        .fetch_one(self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Hits in the current window, and when it ends, without counting one more.
    pub async fn hits(&self, bucket: &str, now: i64, window: i64) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query("SELECT hits, window_start FROM rate_limits WHERE bucket = $1 AND window_start > $2")
            .bind(bucket)
            .bind(now - window)
            .fetch_optional(self.pool)
            .await?;
        match row {
            Some(r) => Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? + window)),
            None => Ok((0, now)),
        }
    }

    pub async fn clear_hits(&self, bucket: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM rate_limits WHERE bucket = $1").bind(bucket).execute(self.pool).await?;
        Ok(())
    }

    pub async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
            .bind(jti)
            .bind(expires_at)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Whether an access token was revoked, directly or through its grant.
    pub async fn token_revoked(&self, jti: &str, grant_id: Option<&str>) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1) + \
             (SELECT COUNT(*) FROM grants WHERE id = $2 AND revoked_at IS NOT NULL)",
        )
        .bind(jti)
        .bind(grant_id.unwrap_or(""))
        .fetch_one(self.pool)
        .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }

    /// Records a client assertion's `jti`; false when it was used before (replay).
    pub async fn use_assertion(&self, jti: &str, expires_at: i64) -> Result<bool, StoreError> {
        let done =
            sqlx::query("INSERT INTO used_assertions (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
                .bind(jti)
                .bind(expires_at)
                .execute(self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    // ---- back-channel logout deliveries --------------------------------------------------

    pub async fn queue_delivery(&self, d: &Delivery, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO logout_deliveries (id, client_id, uri, logout_token, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $5)",
        )
        .bind(&d.id)
        .bind(&d.client_id)
        .bind(&d.uri)
        .bind(&d.logout_token)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn due_deliveries(&self, now: i64, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, client_id, uri, logout_token, attempts FROM logout_deliveries \
             WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    id: r.try_get(0)?,
                    client_id: r.try_get(1)?,
                    uri: r.try_get(2)?,
                    logout_token: r.try_get(3)?,
                    attempts: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Records an attempt: delivered, or failed with the time of the next try (`None`: give up).
    pub async fn record_attempt(
        &self,
        id: &str,
        now: i64,
        outcome: Result<(), (&str, Option<i64>)>,
    ) -> Result<(), StoreError> {
        let q = match outcome {
            Ok(()) => sqlx::query(
                "UPDATE logout_deliveries SET attempts = attempts + 1, delivered_at = $1, last_error = NULL WHERE id = $2",
            )
            .bind(now)
            .bind(id),
            Err((error, next)) => sqlx::query(
                "UPDATE logout_deliveries SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3",
            )
            .bind(error.to_owned())
            // Giving up parks the row far in the future, kept for the operator to read.
            .bind(next.unwrap_or(i64::MAX / 2))
            .bind(id),
        };
        q.execute(self.pool).await?;
        Ok(())
    }

    // ---- upstream identity providers -----------------------------------------------------

    pub async fn linked_account(&self, provider: &str, subject: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT account_id FROM upstream_links WHERE provider = $1 AND subject = $2")
            .bind(provider)
            .bind(subject)
            .fetch_optional(self.pool)
            .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
    }

    pub async fn link_account(
        &self,
        provider: &str,
        subject: &str,
        account_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO upstream_links (provider, subject, account_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (provider, subject) DO NOTHING",
        )
        .bind(provider)
        .bind(subject)
        .bind(account_id)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn links_of(&self, account_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT provider, subject FROM upstream_links WHERE account_id = $1 ORDER BY provider")
            .bind(account_id)
            .fetch_all(self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    // ---- housekeeping --------------------------------------------------------------------

    /// Deletes what has expired; run periodically by one task per instance.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        for sql in [
            "DELETE FROM sessions WHERE expires_at <= $1",
            "DELETE FROM pending_authorizations WHERE expires_at <= $1",
            "DELETE FROM auth_codes WHERE expires_at <= $1",
            "DELETE FROM refresh_tokens WHERE expires_at <= $1",
            "DELETE FROM email_tokens WHERE expires_at <= $1",
            "DELETE FROM revoked_tokens WHERE expires_at <= $1",
            "DELETE FROM used_assertions WHERE expires_at <= $1",
            // Sessions that expired (rather than ended by a logout) need no logout token.
            "DELETE FROM session_clients WHERE sid NOT IN (SELECT sid FROM sessions) AND $1 > 0",
            // Kept a month for the account page and the operator, then dropped.
            "DELETE FROM grants WHERE revoked_at IS NOT NULL AND revoked_at <= $1 - 2592000",
            "DELETE FROM logout_deliveries WHERE delivered_at IS NOT NULL AND delivered_at <= $1 - 2592000",
            "DELETE FROM rate_limits WHERE window_start <= $1 - 86400",
        ] {
            total += sqlx::query(sql).bind(now).execute(self.pool).await?.rows_affected();
        }
        Ok(total)
    }
}

/// Which sessions [`IdentityStore::end_sessions`] ends.
#[derive(Debug, Clone, Copy)]
pub enum SessionSelector<'s> {
    Digest(&'s str),
    Account(&'s str),
}

fn parse_client(id: &str, document: &str) -> Result<Client, StoreError> {
    serde_json::from_str(document).map_err(|e| StoreError::Corrupt(format!("client {id}"), e.to_string()))
}
