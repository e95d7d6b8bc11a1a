//! The only crate that speaks SQL. One [`Store`] over SQLite (the embedded default) or
//! PostgreSQL (the scale-out store), through sqlx's `Any` driver so that both run the same
//! parameterised statements; migrations live per backend under the same names.
//!
//! The API speaks domain language, one accessor per aggregate (`store.accounts().by_email(…)`,
//! `store.jobs().claim(…)`), with request structs instead of positional arguments and
//! `OffsetDateTime` for every point in time (stored as Unix seconds). Backend errors become
//! [`StoreError`] variants a caller can act on.
//!
//! Every transaction that writes takes the write lock when it begins ([`Store::write`]): on
//! SQLite `BEGIN IMMEDIATE`, so concurrent writers queue on the busy timeout instead of failing
//! with "database is locked" when a read turns into a write.

mod catalogue;
mod conformance;
mod data;
mod housekeeping;
mod identity;
mod jobs;
mod migrate;
mod participation;
mod sources;
mod timestamp;
mod vendors;

pub use catalogue::{Author, CatalogueData, CatalogueStore, HistoryEntry, ImportSummary, WriteOutcome};
pub use conformance::{Conformance, Rejection, RejectionRecord};
pub use data::{Applied, DataQuery, DataStore, NewRecord, Provenance, StoredRecord};
pub use identity::accounts::{Accounts, PasswordReset, ProfileChange};
pub use identity::clients::Clients;
pub use identity::consents::{Consent, ConsentWithClient, Consents};
pub use identity::grants::{GrantWithClient, Grants, NewCode, NewRefresh, Rotation};
pub use identity::keys::Keys;
pub use identity::mail_links::{LinkPurpose, MailLinks, NewMailLink};
pub use identity::pending::{NewPending, Pending, PendingRequest};
pub use identity::rate_limits::{Hits, RateLimits};
pub use identity::revocations::Revocations;
pub use identity::sessions::{EndSessions, NewSession, RevokeGrants, SessionSelector, SessionTool, Sessions};
pub use identity::upstream::{UpstreamLink, UpstreamLinks};
pub use jobs::{ClaimedJob, JobRecord, JobState, Jobs, NewJob, Recurring};
pub use migrate::MIGRATIONS;
pub use participation::{DeletionDelivery, Digest, Follow, NotificationSettings, Participation, Purge, StatusChange};
pub use sources::{SourceRecord, Sources, SyncRecord};
pub use vendors::{Proposal, ProposalState, Publication, VendorLink, Vendors};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the database URL is not supported: {0} (use sqlite://… or postgres://…)")]
    UnsupportedUrl(String),
    #[error("migration {name} failed: {message}")]
    Migration { name: String, message: String },
    #[error("stored record {0} cannot be read: {1}")]
    Corrupt(String, String),
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Unavailable(e)
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects; an SQLite file and its folder are created when missing.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                options
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL lets readers run beside the single writer; FULL sync because
                            // accepted data must survive a power cut; foreign keys are off by
                            // default in SQLite. Writers wait up to the busy timeout for the
                            // write lock, which `write()` takes at BEGIN.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            // Reads from the mapped file instead of a read call per page into
                            // each connection's own small cache: a page of a municipality reads
                            // thousands of records, and at 100,000 processes the copies, not
                            // the queries, took most of the time (`benches/portal.sh`). The
                            // mapping is address space; the kernel keeps and drops its pages
                            // (they count in the resident size as file pages).
                            conn.execute("PRAGMA mmap_size = 268435456").await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => options.max_connections(10).connect(&url).await?,
        };
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the migrations that are not applied yet; refuses to run when an applied
    /// migration's text has changed.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        migrate::run(&self.pool, self.backend).await
    }

    /// A transaction that will write. On SQLite it holds the write lock from its first
    /// statement on: a deferred transaction that reads first and writes later cannot wait for
    /// the lock (SQLite answers SQLITE_BUSY at once, or SQLITE_BUSY_SNAPSHOT when another writer
    /// committed since the read), while `BEGIN IMMEDIATE` waits on the busy timeout. PostgreSQL
    /// locks rows, not the database, and needs nothing special.
    pub(crate) async fn write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn catalogue(&self) -> CatalogueStore<'_> {
        CatalogueStore::new(self)
    }

    pub fn accounts(&self) -> Accounts<'_> {
        Accounts::new(self)
    }

    pub fn sessions(&self) -> Sessions<'_> {
        Sessions::new(self)
    }

    pub fn clients(&self) -> Clients<'_> {
        Clients::new(self)
    }

    pub fn grants(&self) -> Grants<'_> {
        Grants::new(self)
    }

    pub fn pending(&self) -> Pending<'_> {
        Pending::new(self)
    }

    pub fn consents(&self) -> Consents<'_> {
        Consents::new(self)
    }

    pub fn keys(&self) -> Keys<'_> {
        Keys::new(self)
    }

    pub fn mail_links(&self) -> MailLinks<'_> {
        MailLinks::new(self)
    }

    pub fn rate_limits(&self) -> RateLimits<'_> {
        RateLimits::new(self)
    }

    pub fn revocations(&self) -> Revocations<'_> {
        Revocations::new(self)
    }

    pub fn upstream_links(&self) -> UpstreamLinks<'_> {
        UpstreamLinks::new(self)
    }

    pub fn vendors(&self) -> Vendors<'_> {
        Vendors::new(self)
    }

    pub fn sources(&self) -> Sources<'_> {
        Sources::new(self)
    }

    pub fn conformance(&self) -> Conformance<'_> {
        Conformance::new(self)
    }

    pub fn data(&self) -> DataStore<'_> {
        DataStore::new(self)
    }

    pub fn participation(&self) -> Participation<'_> {
        Participation::new(self)
    }

    pub fn jobs(&self) -> Jobs<'_> {
        Jobs::new(self)
    }

    /// Deletes what has expired (sessions, codes, tokens, mail links, old jobs …); returns how
    /// many rows went. Run as the recurring housekeeping job.
    pub async fn purge_expired(&self, now: time::OffsetDateTime) -> Result<u64, StoreError> {
        housekeeping::purge_expired(self, now).await
    }

    /// Refreshes the planner's statistics after a bulk write, so that both backends pick the
    /// portal's indexes (without them SQLite guesses, and PostgreSQL waits for autovacuum).
    pub async fn analyze(&self) -> Result<(), StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => "ANALYZE",
            // VACUUM too: it marks the pages all-visible, so that counts read the index alone.
            Backend::Postgres => "VACUUM (ANALYZE) data_records, data_topics, data_words",
        };
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }

    /// What SQLite recommends to run now and then on a long-lived connection: statistics for
    /// the tables that changed much. PostgreSQL's autovacuum does this on its own.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA optimize").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Cheap liveness check for `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `sqlite://data/hub.db` → the same with `mode=rwc`, after creating `data/`.
fn sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        // Every pooled connection would get its own empty in-memory database.
        return Err(StoreError::UnsupportedUrl("sqlite in-memory databases are not supported; use a file".into()));
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| StoreError::Migration {
            name: "create database folder".into(),
            message: format!("{}: {e}", parent.display()),
        })?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".into()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// `$first, $first+1, …` for an `IN (…)` list of `n` values. The count comes from the caller's
/// data, the values are bound: nothing from input reaches the SQL text.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact("postgres://hub:s3cret@db:5432/hub"), "postgres://hub:***@db:5432/hub");
        assert_eq!(redact("postgres://postgres@127.0.0.1/test"), "postgres://postgres@127.0.0.1/test");
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sub/hub.db", dir.path().display());
        let out = sqlite_url(&url).unwrap();
        assert!(out.ends_with("/sub/hub.db?mode=rwc"), "{out}");
        assert!(dir.path().join("sub").is_dir());
        assert!(sqlite_url("sqlite::memory:").is_err());
    }

    #[test]
    fn placeholders_count_from_the_first() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
        assert_eq!(placeholders(1, 0), "");
    }
}
