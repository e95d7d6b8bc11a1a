//! A small migration runner: the SQL files are compiled in, applied in name order inside a
//! transaction each, and recorded with a checksum. An applied migration whose text changed
//! stops start-up: migrations are never edited once released, a new one is added instead.

use crate::{Backend, StoreError};
use sqlx::{AnyPool, Row};

/// (name, SQLite text, PostgreSQL text). Both folders must hold the same names (tested).
pub const MIGRATIONS: &[(&str, &str, &str)] = &[
    (
        "0001_catalogue",
        include_str!("../migrations/sqlite/0001_catalogue.sql"),
        include_str!("../migrations/postgres/0001_catalogue.sql"),
    ),
    (
        "0002_identity",
        include_str!("../migrations/sqlite/0002_identity.sql"),
        include_str!("../migrations/postgres/0002_identity.sql"),
    ),
    (
        "0003_jobs",
        include_str!("../migrations/sqlite/0003_jobs.sql"),
        include_str!("../migrations/postgres/0003_jobs.sql"),
    ),
    (
        "0004_optional_pkce",
        include_str!("../migrations/sqlite/0004_optional_pkce.sql"),
        include_str!("../migrations/postgres/0004_optional_pkce.sql"),
    ),
    (
        "0005_catalogue_changes",
        include_str!("../migrations/sqlite/0005_catalogue_changes.sql"),
        include_str!("../migrations/postgres/0005_catalogue_changes.sql"),
    ),
    (
        "0006_data",
        include_str!("../migrations/sqlite/0006_data.sql"),
        include_str!("../migrations/postgres/0006_data.sql"),
    ),
    (
        "0007_sources",
        include_str!("../migrations/sqlite/0007_sources.sql"),
        include_str!("../migrations/postgres/0007_sources.sql"),
    ),
    (
        "0008_conformance",
        include_str!("../migrations/sqlite/0008_conformance.sql"),
        include_str!("../migrations/postgres/0008_conformance.sql"),
    ),
    (
        "0009_closes_at",
        include_str!("../migrations/sqlite/0009_closes_at.sql"),
        include_str!("../migrations/postgres/0009_closes_at.sql"),
    ),
    (
        "0010_participation",
        include_str!("../migrations/sqlite/0010_participation.sql"),
        include_str!("../migrations/postgres/0010_participation.sql"),
    ),
    (
        "0011_process_positions",
        include_str!("../migrations/sqlite/0011_process_positions.sql"),
        include_str!("../migrations/postgres/0011_process_positions.sql"),
    ),
    (
        "0012_process_terms",
        include_str!("../migrations/sqlite/0012_process_terms.sql"),
        include_str!("../migrations/postgres/0012_process_terms.sql"),
    ),
    (
        "0013_list_counts",
        include_str!("../migrations/sqlite/0013_list_counts.sql"),
        include_str!("../migrations/postgres/0013_list_counts.sql"),
    ),
    (
        "0014_process_indexes",
        include_str!("../migrations/sqlite/0014_process_indexes.sql"),
        include_str!("../migrations/postgres/0014_process_indexes.sql"),
    ),
];

/// FNV-1a: enough to notice an edited file; not a security boundary.
fn checksum(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<usize, StoreError> {
    let mut conn = pool.acquire().await?;
    if backend == Backend::Postgres {
        // Several hub instances may start at once against one database: one migrates, the
        // others wait and then find nothing left to do.
        sqlx::query("SELECT pg_advisory_lock(727274)").execute(&mut *conn).await?;
    }
    let result = apply(&mut conn, backend).await;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock(727274)").execute(&mut *conn).await?;
    }
    result
}

async fn apply(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<usize, StoreError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let rows = sqlx::query("SELECT name, checksum FROM schema_migrations").fetch_all(&mut *conn).await?;
    let applied: Vec<(String, String)> = rows
        .iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    // The statistics are refreshed in the transaction of the last migration to apply, so that a
    // hub killed in between leaves that migration to apply again, with the refresh.
    let last = MIGRATIONS.iter().rev().map(|(n, _, _)| *n).find(|n| !applied.iter().any(|(a, _)| a == n));
    let mut count = 0;
    for (name, sqlite, postgres) in MIGRATIONS {
        let text = match backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        };
        let sum = checksum(text);
        if let Some((_, existing)) = applied.iter().find(|(n, _)| n == name) {
            if *existing != sum {
                return Err(StoreError::Migration {
                    name: (*name).into(),
                    message: "was changed after it had been applied; add a new migration instead".into(),
                });
            }
            continue;
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for statement in split_statements(text) {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Migration { name: (*name).into(), message: e.to_string() })?;
        }
        // The terms are cut from the texts in Rust, as every write does; SQL cannot split
        // words the same way on both backends.
        if *name == "0012_process_terms" {
            crate::data::fill_terms(&mut tx, backend)
                .await
                .map_err(|e| StoreError::Migration { name: (*name).into(), message: e.to_string() })?;
        }
        sqlx::query("INSERT INTO schema_migrations (name, checksum, applied_at) VALUES ($1, $2, $3)")
            .bind(*name)
            .bind(sum)
            .bind(time::OffsetDateTime::now_utc().unix_timestamp())
            .execute(&mut *tx)
            .await?;
        if last == Some(*name) {
            refresh_statistics(&mut tx, backend).await?;
        }
        tx.commit().await?;
        count += 1;
    }
    Ok(count)
}

/// A rebuilt index has no statistics until the next ANALYZE, and a planner that has them for the
/// other indexes misjudges it: after 0014 on SQLite, "near" walked the new status index instead
/// of the position index (306 ms instead of 2 ms). PostgreSQL's extended statistics are empty
/// until then, too. SQLite that has never been analysed keeps guessing for every index alike
/// (statistics taken of a new, empty store would tell it that every table stays empty).
async fn refresh_statistics(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<(), StoreError> {
    let sql = match backend {
        Backend::Sqlite => {
            let analysed = sqlx::query("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
                .fetch_optional(&mut *conn)
                .await?
                .is_some();
            if !analysed {
                return Ok(());
            }
            "ANALYZE"
        }
        // The tables of this schema only: a bare ANALYZE takes every schema of the database.
        Backend::Postgres => "ANALYZE data_records, data_topics, data_words",
    };
    sqlx::query(sql).execute(&mut *conn).await?;
    Ok(())
}

/// Our migration files hold plain statements separated by `;` at line ends (no procedures).
fn split_statements(text: &str) -> impl Iterator<Item = &str> {
    text.split(";\n").map(str::trim).filter(|s| {
        s.lines().any(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with("--")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn names(backend: &str) -> BTreeSet<String> {
        let dir = format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect()
    }

    #[test]
    fn both_backends_have_the_same_migration_names_and_all_are_compiled_in() {
        assert_eq!(names("sqlite"), names("postgres"));
        let compiled: BTreeSet<String> = MIGRATIONS.iter().map(|(n, _, _)| format!("{n}.sql")).collect();
        assert_eq!(compiled, names("sqlite"));
    }

    #[test]
    fn statements_are_split_and_comments_skipped() {
        let parts: Vec<&str> = split_statements("-- c\nCREATE TABLE a (x INT);\nINSERT INTO a VALUES (1);\n").collect();
        assert_eq!(parts.len(), 2);
    }
}
