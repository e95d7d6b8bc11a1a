//! Login sessions and the tools each session logged into (for back-channel logout).

use super::{JOINED_ACCOUNT_COLUMNS, SESSION_COLUMNS, account, session};
use crate::jobs::{NewJob, insert_job};
use crate::timestamp::secs;
use crate::{Store, StoreError};
use mitsprache_domain::Account;
use mitsprache_oidc::grant::Session;
use sqlx::{Any, Row, Transaction};
use time::OffsetDateTime;

pub struct Sessions<'a> {
    store: &'a Store,
}

/// A session as it is started: the digest of the cookie value, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession<'a> {
    pub digest: &'a str,
    pub session: &'a Session,
}

/// A tool a session logged into: it gets a logout token when the session ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTool {
    pub sid: String,
    pub client_id: String,
    pub account_id: String,
}

/// Which sessions [`Sessions::end`] ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionSelector<'s> {
    /// The session whose cookie has this digest.
    Digest(&'s str),
    /// Every session of the account.
    Account(&'s str),
}

/// Which grants end with the sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeGrants {
    /// Those made in the ended sessions, except `offline_access` ones, which the person
    /// granted to outlive the session.
    OfTheSessions,
    /// Every grant of the account, `offline_access` included: after a password reset nothing
    /// obtained with the old password may keep working.
    AllOfTheAccount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndSessions<'s> {
    pub which: SessionSelector<'s>,
    pub revoke: RevokeGrants,
    pub now: OffsetDateTime,
}

impl<'a> Sessions<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Sessions { store }
    }

    pub async fn create(&self, new: &NewSession<'_>) -> Result<(), StoreError> {
        let s = new.session;
        sqlx::query(&format!(
            "INSERT INTO sessions (digest, {SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(new.digest)
        .bind(&s.sid)
        .bind(&s.account_id)
        .bind(secs(s.auth_time))
        .bind(s.amr.as_str())
        .bind(secs(s.created_at))
        .bind(secs(s.expires_at))
        .bind(&s.user_agent)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// The live session behind a cookie, with its account.
    pub async fn find(&self, digest: &str, now: OffsetDateTime) -> Result<Option<(Session, Account)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT s.sid, s.account_id, s.auth_time, s.amr, s.created_at, s.expires_at, s.user_agent, \
             {JOINED_ACCOUNT_COLUMNS} FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.digest = $1 AND s.expires_at > $2"
        ))
        .bind(digest)
        .bind(secs(now))
        .fetch_optional(self.store.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((session(&row)?, account(&row, "a_")?)))
    }

    /// The live sessions of an account, newest first.
    pub async fn of_account(&self, account_id: &str, now: OffsetDateTime) -> Result<Vec<Session>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE account_id = $1 AND expires_at > $2 ORDER BY created_at DESC"
        ))
        .bind(account_id)
        .bind(secs(now))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(session).collect()
    }

    /// Ends sessions and the grants `end.revoke` names, and queues the job `notify` makes for
    /// every tool the sessions logged into, all in one transaction: a logout is never recorded
    /// without the deliveries it owes. Returns those tools.
    pub async fn end(
        &self,
        end: &EndSessions<'_>,
        notify: impl Fn(&SessionTool) -> NewJob,
    ) -> Result<Vec<SessionTool>, StoreError> {
        let mut tx = self.store.write().await?;
        let tools = end_sessions(&mut tx, end, notify).await?;
        tx.commit().await?;
        Ok(tools)
    }
}

/// Ends sessions, revokes grants and queues a logout job per tool, inside the caller's
/// transaction (a password reset does the same together with the new password).
pub(crate) async fn end_sessions(
    tx: &mut Transaction<'static, Any>,
    end: &EndSessions<'_>,
    notify: impl Fn(&SessionTool) -> NewJob,
) -> Result<Vec<SessionTool>, StoreError> {
    let (tools, account_id) = match end.which {
        SessionSelector::Account(account_id) => {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account_id).execute(&mut **tx).await?;
            (session_tools_of_account(tx, account_id).await?, account_id.to_owned())
        }
        SessionSelector::Digest(digest) => {
            let ended = sqlx::query("DELETE FROM sessions WHERE digest = $1 RETURNING sid, account_id")
                .bind(digest)
                .fetch_optional(&mut **tx)
                .await?;
            let Some(ended) = ended else { return Ok(Vec::new()) };
            let (sid, account_id): (String, String) = (ended.try_get(0)?, ended.try_get(1)?);
            let tools = sqlx::query("DELETE FROM session_clients WHERE sid = $1 RETURNING client_id")
                .bind(&sid)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| Ok(SessionTool { sid: sid.clone(), client_id: r.try_get(0)?, account_id: account_id.clone() }))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            sqlx::query(
                "UPDATE grants SET revoked_at = $1 WHERE sid = $2 AND revoked_at IS NULL \
                     AND ' ' || scope || ' ' NOT LIKE '% offline_access %'",
            )
            .bind(secs(end.now))
            .bind(&sid)
            .execute(&mut **tx)
            .await?;
            (tools, account_id)
        }
    };
    let revoke = match (end.which, end.revoke) {
        (_, RevokeGrants::AllOfTheAccount) => {
            Some("UPDATE grants SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
        }
        (SessionSelector::Account(_), RevokeGrants::OfTheSessions) => Some(
            "UPDATE grants SET revoked_at = $1 WHERE account_id = $2 AND sid IS NOT NULL AND revoked_at IS NULL \
                 AND ' ' || scope || ' ' NOT LIKE '% offline_access %'",
        ),
        (SessionSelector::Digest(_), RevokeGrants::OfTheSessions) => None,
    };
    if let Some(sql) = revoke {
        sqlx::query(sql).bind(secs(end.now)).bind(&account_id).execute(&mut **tx).await?;
    }
    for tool in &tools {
        insert_job(tx, &notify(tool)).await?;
    }
    Ok(tools)
}

/// Removes and returns the (session, tool) pairs of an account, inside a transaction.
pub(crate) async fn session_tools_of_account(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
) -> Result<Vec<SessionTool>, StoreError> {
    let rows = sqlx::query("DELETE FROM session_clients WHERE account_id = $1 RETURNING sid, client_id")
        .bind(account_id)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|r| Ok(SessionTool { sid: r.try_get(0)?, client_id: r.try_get(1)?, account_id: account_id.to_owned() }))
        .collect()
}
