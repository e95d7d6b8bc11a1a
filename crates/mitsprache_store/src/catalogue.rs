//! Persistence of the marketplace catalogue. Every write runs in one transaction and bumps the
//! catalogue revision, which hub instances poll to rebuild their in-memory snapshot.

use crate::{Store, StoreError};
use mitsprache_catalogue::{CatalogueDocument, Interface, Taxonomy, Tool};
use serde_json::Value;
use sqlx::{Any, AnyPool, Row, Transaction};
use time::OffsetDateTime;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogueData {
    pub revision: i64,
    pub taxonomy: Option<Taxonomy>,
    pub tools: Vec<Tool>,
    pub interfaces: Vec<Interface>,
}

/// What an import did; a second import of the same files reports everything unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Created,
    Updated,
    Unchanged,
}

pub struct CatalogueStore<'a> {
    store: &'a Store,
}

#[derive(Clone, Copy)]
enum Table {
    Tools,
    Interfaces,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Tools => "tools",
            Table::Interfaces => "interfaces",
        }
    }
}

impl<'a> CatalogueStore<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        CatalogueStore { store }
    }

    pub async fn revision(&self) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT revision FROM catalogue_revision WHERE id = 1").fetch_one(self.store.pool()).await?;
        Ok(row.try_get(0)?)
    }

    /// Whether nothing was ever stored (the hub then loads its bundled catalogue).
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM tools) + (SELECT COUNT(*) FROM interfaces) + (SELECT COUNT(*) FROM taxonomy)",
        )
        .fetch_one(self.store.pool())
        .await?;
        Ok(row.try_get::<i64, _>(0)? == 0)
    }

    pub async fn load(&self) -> Result<CatalogueData, StoreError> {
        // One transaction so the revision matches the rows read.
        let mut tx = self.store.pool().begin().await?;
        let revision: i64 = sqlx::query("SELECT revision FROM catalogue_revision WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let taxonomy = match sqlx::query("SELECT document FROM taxonomy WHERE id = 1").fetch_optional(&mut *tx).await? {
            Some(row) => Some(parse("taxonomy", &row.try_get::<String, _>(0)?)?),
            None => None,
        };
        let tools = load_all(&mut tx, Table::Tools).await?;
        let interfaces = load_all(&mut tx, Table::Interfaces).await?;
        tx.commit().await?;
        Ok(CatalogueData { revision, taxonomy, tools, interfaces })
    }

    /// Upserts everything in the document in one transaction: all or nothing. Records whose
    /// stored document is identical are left alone, so re-running an import changes nothing.
    pub async fn import(&self, doc: &CatalogueDocument, now: OffsetDateTime) -> Result<ImportSummary, StoreError> {
        let mut tx = self.store.write().await?;
        let mut summary = ImportSummary::default();
        let mut count = |outcome| match outcome {
            WriteOutcome::Created => summary.created += 1,
            WriteOutcome::Updated => summary.updated += 1,
            WriteOutcome::Unchanged => summary.unchanged += 1,
        };
        if let Some(t) = &doc.taxonomy {
            count(put_taxonomy(&mut tx, t, now).await?);
        }
        for i in &doc.interfaces {
            count(put(&mut tx, Table::Interfaces, i.slug.as_str(), i, None, now).await?);
        }
        for t in &doc.tools {
            count(put(&mut tx, Table::Tools, t.slug.as_str(), t, None, now).await?);
        }
        if summary.created + summary.updated > 0 {
            bump(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(summary)
    }

    /// Writes one tool. With `expected_version`, fails with `Conflict` when someone else wrote
    /// the record in between (optimistic concurrency for editors).
    pub async fn put_tool(
        &self,
        tool: &Tool,
        expected_version: Option<i64>,
        now: OffsetDateTime,
    ) -> Result<(WriteOutcome, i64), StoreError> {
        self.put_one(Table::Tools, tool.slug.as_str(), tool, expected_version, now).await
    }

    pub async fn put_interface(
        &self,
        interface: &Interface,
        expected_version: Option<i64>,
        now: OffsetDateTime,
    ) -> Result<(WriteOutcome, i64), StoreError> {
        self.put_one(Table::Interfaces, interface.slug.as_str(), interface, expected_version, now).await
    }

    pub async fn tool_version(&self, slug: &str) -> Result<i64, StoreError> {
        version(self.store.pool(), Table::Tools, slug).await
    }

    pub async fn interface_version(&self, slug: &str) -> Result<i64, StoreError> {
        version(self.store.pool(), Table::Interfaces, slug).await
    }

    pub async fn delete_tool(&self, slug: &str) -> Result<(), StoreError> {
        self.delete(Table::Tools, slug).await
    }

    pub async fn delete_interface(&self, slug: &str) -> Result<(), StoreError> {
        self.delete(Table::Interfaces, slug).await
    }

    async fn put_one<T: serde::Serialize>(
        &self,
        table: Table,
        slug: &str,
        record: &T,
        expected: Option<i64>,
        now: OffsetDateTime,
    ) -> Result<(WriteOutcome, i64), StoreError> {
        let mut tx = self.store.write().await?;
        let outcome = put(&mut tx, table, slug, record, expected, now).await?;
        if outcome != WriteOutcome::Unchanged {
            bump(&mut tx).await?;
        }
        let v = sqlx::query(&format!("SELECT version FROM {} WHERE slug = $1", table.name()))
            .bind(slug)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        tx.commit().await?;
        Ok((outcome, v))
    }

    async fn delete(&self, table: Table, slug: &str) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        let done =
            sqlx::query(&format!("DELETE FROM {} WHERE slug = $1", table.name())).bind(slug).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        bump(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(what.to_owned(), e.to_string()))
}

async fn load_all<T: serde::de::DeserializeOwned>(
    tx: &mut Transaction<'_, Any>,
    table: Table,
) -> Result<Vec<T>, StoreError> {
    let rows =
        sqlx::query(&format!("SELECT slug, document FROM {} ORDER BY slug", table.name())).fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|r| {
            let slug: String = r.try_get(0)?;
            let doc: String = r.try_get(1)?;
            parse(&slug, &doc)
        })
        .collect()
}

async fn version(pool: &AnyPool, table: Table, slug: &str) -> Result<i64, StoreError> {
    let row = sqlx::query(&format!("SELECT version FROM {} WHERE slug = $1", table.name()))
        .bind(slug)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get(0)?)
}

async fn bump(tx: &mut Transaction<'_, Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE catalogue_revision SET revision = revision + 1 WHERE id = 1").execute(&mut **tx).await?;
    Ok(())
}

/// Documents are compared as JSON values, not text, so key order does not count as a change.
fn same(stored: &str, new: &Value) -> bool {
    serde_json::from_str::<Value>(stored).is_ok_and(|v| &v == new)
}

async fn put<T: serde::Serialize>(
    tx: &mut Transaction<'_, Any>,
    table: Table,
    slug: &str,
    record: &T,
    expected: Option<i64>,
    now: OffsetDateTime,
) -> Result<WriteOutcome, StoreError> {
    let value = serde_json::to_value(record).map_err(|e| StoreError::Corrupt(slug.into(), e.to_string()))?;
    let name = table.name();
    let existing = sqlx::query(&format!("SELECT document, version FROM {name} WHERE slug = $1"))
        .bind(slug)
        .fetch_optional(&mut **tx)
        .await?;
    let ts = now.unix_timestamp();
    match existing {
        None => {
            if expected.is_some_and(|v| v != 0) {
                return Err(StoreError::Conflict(format!("{slug} does not exist (anymore)")));
            }
            sqlx::query(&format!("INSERT INTO {name} (slug, document, version, updated_at) VALUES ($1, $2, 1, $3)"))
                .bind(slug)
                .bind(value.to_string())
                .bind(ts)
                .execute(&mut **tx)
                .await
                .map_err(|e| match e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => {
                        StoreError::Conflict(format!("{slug} was created concurrently"))
                    }
                    e => StoreError::Unavailable(e),
                })?;
            Ok(WriteOutcome::Created)
        }
        Some(row) => {
            let doc: String = row.try_get(0)?;
            let version: i64 = row.try_get(1)?;
            if let Some(expected) = expected
                && expected != version
            {
                return Err(StoreError::Conflict(format!("{slug} is at version {version}, not {expected}")));
            }
            if same(&doc, &value) {
                return Ok(WriteOutcome::Unchanged);
            }
            // The version guard in WHERE makes the update safe against a concurrent writer.
            let done = sqlx::query(&format!("UPDATE {name} SET document = $1, version = version + 1, updated_at = $2 WHERE slug = $3 AND version = $4"))
                .bind(value.to_string())
                .bind(ts)
                .bind(slug)
                .bind(version)
                .execute(&mut **tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(format!("{slug} was changed concurrently")));
            }
            Ok(WriteOutcome::Updated)
        }
    }
}

async fn put_taxonomy(
    tx: &mut Transaction<'_, Any>,
    taxonomy: &Taxonomy,
    now: OffsetDateTime,
) -> Result<WriteOutcome, StoreError> {
    let value = serde_json::to_value(taxonomy).map_err(|e| StoreError::Corrupt("taxonomy".into(), e.to_string()))?;
    let existing = sqlx::query("SELECT document FROM taxonomy WHERE id = 1").fetch_optional(&mut **tx).await?;
    match existing {
        Some(row) if same(&row.try_get::<String, _>(0)?, &value) => Ok(WriteOutcome::Unchanged),
        Some(_) => {
            sqlx::query("UPDATE taxonomy SET document = $1, updated_at = $2 WHERE id = 1")
                .bind(value.to_string())
                .bind(now.unix_timestamp())
                .execute(&mut **tx)
                .await?;
            Ok(WriteOutcome::Updated)
        }
        None => {
            sqlx::query("INSERT INTO taxonomy (id, document, updated_at) VALUES (1, $1, $2)")
                .bind(value.to_string())
                .bind(now.unix_timestamp())
                .execute(&mut **tx)
                .await?;
            Ok(WriteOutcome::Created)
        }
    }
}
