//! Persistence of accounts and of the OpenID provider's state, one module per aggregate.
//! Everything an instance needs to answer any request lives here, so several instances on one
//! PostgreSQL serve the same people (ADR 0006). Single-use values (codes, refresh tokens, mail
//! links) are consumed with one conditional UPDATE, so two instances can never both accept the
//! same one.

pub mod accounts;
pub mod clients;
pub mod consents;
pub mod grants;
pub mod keys;
pub mod mail_links;
pub mod pending;
pub mod rate_limits;
pub mod revocations;
pub mod sessions;
pub mod upstream;

use crate::StoreError;
use crate::timestamp::{at, at_opt};
use mitsprache_domain::{Account, Email, Locale, Role};
use mitsprache_oidc::client::Client;
use mitsprache_oidc::grant::{Amr, Grant, Scope, Session};
use sqlx::Row;
use sqlx::any::AnyRow;

pub(crate) const ACCOUNT_COLUMNS: &str =
    "id, email, email_verified, password_hash, name, locale, role, created_at, updated_at";
/// The account's columns when it is joined to another table, renamed so that none collides.
pub(crate) const JOINED_ACCOUNT_COLUMNS: &str = "a.id AS a_id, a.email AS a_email, a.email_verified AS a_email_verified, \
     a.password_hash AS a_password_hash, a.name AS a_name, a.locale AS a_locale, a.role AS a_role, \
     a.created_at AS a_created_at, a.updated_at AS a_updated_at";
pub(crate) const SESSION_COLUMNS: &str = "sid, account_id, auth_time, amr, created_at, expires_at, user_agent";
pub(crate) const GRANT_COLUMNS: &str =
    "g.id, g.client_id, g.account_id, g.sid, g.scope, g.auth_time, g.amr, g.created_at, g.revoked_at";

/// An account from a row; `prefix` is `""` for the accounts table itself and `"a_"` for
/// [`JOINED_ACCOUNT_COLUMNS`].
pub(crate) fn account(row: &AnyRow, prefix: &str) -> Result<Account, StoreError> {
    let col = |name: &str| format!("{prefix}{name}");
    let role: String = row.try_get(col("role").as_str())?;
    let locale: String = row.try_get(col("locale").as_str())?;
    Ok(Account {
        id: row.try_get(col("id").as_str())?,
        email: Email::stored(row.try_get(col("email").as_str())?),
        email_verified: row.try_get::<i64, _>(col("email_verified").as_str())? != 0,
        password_hash: row.try_get(col("password_hash").as_str())?,
        name: row.try_get(col("name").as_str())?,
        locale: Locale::from_tag(&locale).unwrap_or_default(),
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt("account role".into(), role))?,
        created_at: at(row, &col("created_at"))?,
        updated_at: at(row, &col("updated_at"))?,
    })
}

/// The joined account of a row, when the join found one.
pub(crate) fn joined_account(row: &AnyRow) -> Result<Option<Account>, StoreError> {
    match row.try_get::<Option<String>, _>("a_id")? {
        Some(_) => Ok(Some(account(row, "a_")?)),
        None => Ok(None),
    }
}

fn amr(value: String) -> Result<Amr, StoreError> {
    Amr::parse(&value).ok_or_else(|| StoreError::Corrupt("amr".into(), value))
}

pub(crate) fn session(row: &AnyRow) -> Result<Session, StoreError> {
    Ok(Session {
        sid: row.try_get("sid")?,
        account_id: row.try_get("account_id")?,
        auth_time: at(row, "auth_time")?,
        amr: amr(row.try_get("amr")?)?,
        created_at: at(row, "created_at")?,
        expires_at: at(row, "expires_at")?,
        user_agent: row.try_get("user_agent")?,
    })
}

pub(crate) fn grant(row: &AnyRow) -> Result<Grant, StoreError> {
    Ok(Grant {
        id: row.try_get("id")?,
        client_id: row.try_get("client_id")?,
        account_id: row.try_get("account_id")?,
        sid: row.try_get("sid")?,
        scope: Scope::parse(&row.try_get::<String, _>("scope")?),
        auth_time: at(row, "auth_time")?,
        amr: amr(row.try_get("amr")?)?,
        created_at: at(row, "created_at")?,
        revoked_at: at_opt(row, "revoked_at")?,
    })
}

pub(crate) fn parse_client(id: &str, document: &str) -> Result<Client, StoreError> {
    serde_json::from_str::<Client>(document)
        .map(Client::with_role_scopes)
        .map_err(|e| StoreError::Corrupt(format!("client {id}"), e.to_string()))
}

/// The client document joined to a row under `client_document`, when there is one.
pub(crate) fn joined_client(row: &AnyRow, id_column: &str) -> Result<Option<Client>, StoreError> {
    match row.try_get::<Option<String>, _>("client_document")? {
        Some(doc) => Ok(Some(parse_client(&row.try_get::<String, _>(id_column)?, &doc)?)),
        None => Ok(None),
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// `rows_affected() == 0` as `NotFound`.
pub(crate) fn found(rows: u64) -> Result<(), StoreError> {
    if rows == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    /// A machine editor as eef2958 stored it: no `scopes`, no `resources`, no `pkce`.
    const BEFORE_SCOPES: &str = r#"{"id":"c1","name":"Publisher","secret_hash":null,"auth_method":"client_secret_basic",
        "redirect_uris":[],"grant_types":["client_credentials"],"subject_type":"pairwise","sector":"example.org",
        "machine_role":"editor","created_at":"2026-11-30T10:00:00Z"}"#;

    #[test]
    fn a_machine_editor_stored_before_scopes_keeps_its_catalogue_right() {
        let client = super::parse_client("c1", BEFORE_SCOPES).unwrap();
        assert_eq!(client.scopes, vec![mitsprache_oidc::CATALOGUE_WRITE.to_owned()]);
    }
}
