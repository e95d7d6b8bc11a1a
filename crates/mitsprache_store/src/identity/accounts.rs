//! Accounts: create, read, change, delete.

use super::sessions::{SessionTool, session_tools_of_account};
use super::{ACCOUNT_COLUMNS, account, found, is_unique_violation};
use crate::jobs::{NewJob, insert_job};
use crate::timestamp::secs;
use crate::{Store, StoreError};
use mitsprache_domain::{Account, Email, Locale, Role};
use sqlx::{Any, Transaction};
use time::OffsetDateTime;

pub struct Accounts<'a> {
    store: &'a Store,
}

/// A password set with a reset link: the link is used up, the password replaced, the address
/// confirmed and every session and grant of the account ended, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset<'a> {
    /// Digest of the link's token.
    pub link: &'a str,
    pub account_id: &'a str,
    pub hash: &'a str,
    pub now: OffsetDateTime,
}

/// A change of the profile fields a person edits themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChange<'a> {
    pub account_id: &'a str,
    pub name: Option<&'a str>,
    pub locale: Locale,
    pub now: OffsetDateTime,
}

pub(crate) async fn insert_account(tx: &mut Transaction<'static, Any>, a: &Account) -> Result<(), StoreError> {
    sqlx::query(&format!("INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
        .bind(&a.id)
        .bind(a.email.as_str())
        .bind(i64::from(a.email_verified))
        .bind(&a.password_hash)
        .bind(&a.name)
        .bind(a.locale.tag())
        .bind(a.role.as_str())
        .bind(secs(a.created_at))
        .bind(secs(a.updated_at))
        .execute(&mut **tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("email".into()) } else { e.into() })?;
    Ok(())
}

impl<'a> Accounts<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Accounts { store }
    }

    /// Creates an account; `Conflict` when the e-mail address is taken.
    pub async fn create(&self, a: &Account) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        insert_account(&mut tx, a).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn find(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?;
        row.map(|r| account(&r, "")).transpose()
    }

    pub async fn by_email(&self, email: &Email) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email = $1"))
            .bind(email.as_str())
            .fetch_optional(self.store.pool())
            .await?;
        row.map(|r| account(&r, "")).transpose()
    }

    /// The first `limit` accounts by address.
    pub async fn list(&self, limit: i64) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY email LIMIT $1"))
            .bind(limit)
            .fetch_all(self.store.pool())
            .await?;
        rows.iter().map(|r| account(r, "")).collect()
    }

    pub async fn set_password(&self, id: &str, hash: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        self.update(id, "UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3", hash, now).await
    }

    /// Applies a password reset; `None` when the link was used, expired or belongs to another
    /// account (then nothing changes). All of it or nothing: a crash or a busy database after
    /// the new password never leaves the sessions of whoever knew the old one alive.
    pub async fn reset_password(
        &self,
        reset: &PasswordReset<'_>,
        notify: impl Fn(&SessionTool) -> NewJob,
    ) -> Result<Option<Vec<SessionTool>>, StoreError> {
        let mut tx = self.store.write().await?;
        let consumed = sqlx::query(
            "UPDATE email_tokens SET used_at = $1 WHERE digest = $2 AND purpose = $3 AND account_id = $4 \
             AND used_at IS NULL AND expires_at > $1",
        )
        .bind(secs(reset.now))
        .bind(reset.link)
        .bind(super::mail_links::LinkPurpose::Reset.as_str())
        .bind(reset.account_id)
        .execute(&mut *tx)
        .await?;
        if consumed.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query("UPDATE accounts SET password_hash = $1, email_verified = 1, updated_at = $2 WHERE id = $3")
            .bind(reset.hash)
            .bind(secs(reset.now))
            .bind(reset.account_id)
            .execute(&mut *tx)
            .await?;
        let end = super::sessions::EndSessions {
            which: super::sessions::SessionSelector::Account(reset.account_id),
            revoke: super::sessions::RevokeGrants::AllOfTheAccount,
            now: reset.now,
        };
        let tools = super::sessions::end_sessions(&mut tx, &end, notify).await?;
        tx.commit().await?;
        Ok(Some(tools))
    }

    /// Gives an account a role. `Conflict` when that would leave the hub without an admin:
    /// the admins are locked first, so two admins demoting each other at once cannot both win.
    pub async fn set_role(&self, id: &str, role: Role, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        let lock = match self.store.backend() {
            crate::Backend::Postgres => " FOR UPDATE",
            // BEGIN IMMEDIATE has taken the one write lock already.
            crate::Backend::Sqlite => "",
        };
        let admins: Vec<String> = sqlx::query_scalar(&format!("SELECT id FROM accounts WHERE role = 'admin'{lock}"))
            .fetch_all(&mut *tx)
            .await?;
        if role != Role::Admin && admins.len() == 1 && admins[0] == id {
            return Err(StoreError::Conflict("the last admin cannot lose the admin role".into()));
        }
        let done = sqlx::query("UPDATE accounts SET role = $1, updated_at = $2 WHERE id = $3")
            .bind(role.as_str())
            .bind(secs(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        found(done.rows_affected())?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn mark_verified(&self, id: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE accounts SET email_verified = 1, updated_at = $1 WHERE id = $2")
            .bind(secs(now))
            .bind(id)
            .execute(self.store.pool())
            .await?;
        found(done.rows_affected())
    }

    pub async fn set_profile(&self, change: &ProfileChange<'_>) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE accounts SET name = $1, locale = $2, updated_at = $3 WHERE id = $4")
            .bind(change.name)
            .bind(change.locale.tag())
            .bind(secs(change.now))
            .bind(change.account_id)
            .execute(self.store.pool())
            .await?;
        found(done.rows_affected())
    }

    async fn update(&self, id: &str, sql: &str, value: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let done = sqlx::query(sql).bind(value).bind(secs(now)).bind(id).execute(self.store.pool()).await?;
        found(done.rows_affected())
    }

    /// Deletes an account with everything that hangs on it (sessions, grants, consents, links)
    /// and, in the same transaction, queues the job `notify` makes for every tool one of its
    /// sessions used: the account is never gone while its tools are left uninformed.
    pub async fn delete(
        &self,
        id: &str,
        notify: impl Fn(&SessionTool) -> NewJob,
        purge: &crate::Purge,
    ) -> Result<Vec<SessionTool>, StoreError> {
        let mut tx = self.store.write().await?;
        let tools = session_tools_of_account(&mut tx, id).await?;
        for tool in &tools {
            insert_job(&mut tx, &notify(tool)).await?;
        }
        crate::participation::write_purge(&mut tx, purge).await?;
        let done = sqlx::query("DELETE FROM accounts WHERE id = $1").bind(id).execute(&mut *tx).await?;
        found(done.rows_affected())?;
        tx.commit().await?;
        Ok(tools)
    }
}
