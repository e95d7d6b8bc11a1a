//! Persistence of the marketplace catalogue. Every write runs in one transaction and bumps the
//! catalogue revision, which hub instances poll to rebuild their in-memory snapshot. Every
//! change of a record is kept in its history in the same transaction: what changed, before and
//! after, who, from which origin, when.

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

/// Who makes a change, for the record's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// `account:<id>`, `client:<id>`, `import` (the CLI) or `bundled` (a first start).
    pub actor: String,
    /// `public` for facts from public sources, `vendor` for the vendor's own statement.
    pub origin: &'static str,
    /// The proposal the change publishes, if any.
    pub proposal: Option<String>,
}

impl Author {
    pub fn new(actor: impl Into<String>) -> Author {
        Author { actor: actor.into(), origin: "public", proposal: None }
    }
}

/// One change of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub id: i64,
    pub slug: String,
    /// The top-level fields (fact groups) that changed.
    pub fields: Vec<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub actor: String,
    pub origin: String,
    pub proposal_id: Option<String>,
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Copy)]
pub(crate) enum Table {
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
    pub async fn import(
        &self,
        doc: &CatalogueDocument,
        now: OffsetDateTime,
        author: &Author,
    ) -> Result<ImportSummary, StoreError> {
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
            count(put(&mut tx, Table::Interfaces, i.slug.as_str(), i, None, now, author).await?);
        }
        for t in &doc.tools {
            count(put(&mut tx, Table::Tools, t.slug.as_str(), t, None, now, author).await?);
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
        author: &Author,
    ) -> Result<(WriteOutcome, i64), StoreError> {
        self.put_one(Table::Tools, tool.slug.as_str(), tool, expected_version, now, author).await
    }

    pub async fn put_interface(
        &self,
        interface: &Interface,
        expected_version: Option<i64>,
        now: OffsetDateTime,
        author: &Author,
    ) -> Result<(WriteOutcome, i64), StoreError> {
        self.put_one(Table::Interfaces, interface.slug.as_str(), interface, expected_version, now, author).await
    }

    pub async fn tool_version(&self, slug: &str) -> Result<i64, StoreError> {
        version(self.store.pool(), Table::Tools, slug).await
    }

    pub async fn interface_version(&self, slug: &str) -> Result<i64, StoreError> {
        version(self.store.pool(), Table::Interfaces, slug).await
    }

    pub async fn delete_tool(&self, slug: &str, now: OffsetDateTime, author: &Author) -> Result<(), StoreError> {
        self.delete(Table::Tools, slug, now, author).await
    }

    pub async fn delete_interface(&self, slug: &str, now: OffsetDateTime, author: &Author) -> Result<(), StoreError> {
        self.delete(Table::Interfaces, slug, now, author).await
    }

    /// A record's changes, newest first.
    pub async fn history(&self, slug: &str, limit: i64) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, slug, fields, before_doc, after_doc, actor, origin, proposal_id, created_at \
             FROM catalogue_history WHERE kind = 'tool' AND slug = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(slug)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let json = |col: &str| -> Result<Option<Value>, StoreError> {
                    r.try_get::<Option<String>, _>(col)?.map(|t| parse(col, &t)).transpose()
                };
                Ok(HistoryEntry {
                    id: r.try_get("id")?,
                    slug: r.try_get("slug")?,
                    fields: parse("fields", &r.try_get::<String, _>("fields")?)?,
                    before: json("before_doc")?,
                    after: json("after_doc")?,
                    actor: r.try_get("actor")?,
                    origin: r.try_get("origin")?,
                    proposal_id: r.try_get("proposal_id")?,
                    created_at: crate::timestamp::at(r, "created_at")?,
                })
            })
            .collect()
    }

    async fn put_one<T: serde::Serialize>(
        &self,
        table: Table,
        slug: &str,
        record: &T,
        expected: Option<i64>,
        now: OffsetDateTime,
        author: &Author,
    ) -> Result<(WriteOutcome, i64), StoreError> {
        let mut tx = self.store.write().await?;
        let outcome = put(&mut tx, table, slug, record, expected, now, author).await?;
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

    async fn delete(&self, table: Table, slug: &str, now: OffsetDateTime, author: &Author) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        let gone = sqlx::query(&format!("DELETE FROM {} WHERE slug = $1 RETURNING document", table.name()))
            .bind(slug)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(gone) = gone else { return Err(StoreError::NotFound) };
        let before: Value = parse(slug, &gone.try_get::<String, _>(0)?)?;
        record_change(&mut tx, table, slug, Some(&before), None, now, author).await?;
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

pub(crate) async fn bump(tx: &mut Transaction<'_, Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE catalogue_revision SET revision = revision + 1 WHERE id = 1").execute(&mut **tx).await?;
    Ok(())
}

/// Documents are compared as JSON values, not text, so key order does not count as a change.
fn same(stored: &str, new: &Value) -> bool {
    serde_json::from_str::<Value>(stored).is_ok_and(|v| &v == new)
}

/// The top-level fields whose values differ between two documents.
fn changed_fields(before: Option<&Value>, after: Option<&Value>) -> Vec<String> {
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| b.get(*k) != a.get(*k)).cloned().collect()
}

/// Writes a history entry inside the change's transaction.
pub(crate) async fn record_change(
    tx: &mut Transaction<'_, Any>,
    table: Table,
    slug: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    now: OffsetDateTime,
    author: &Author,
) -> Result<(), StoreError> {
    let kind = match table {
        Table::Tools => "tool",
        Table::Interfaces => "interface",
    };
    let fields = serde_json::to_string(&changed_fields(before, after)).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO catalogue_history (kind, slug, fields, before_doc, after_doc, actor, origin, proposal_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(kind)
    .bind(slug)
    .bind(fields)
    .bind(before.map(Value::to_string))
    .bind(after.map(Value::to_string))
    .bind(&author.actor)
    .bind(author.origin)
    .bind(&author.proposal)
    .bind(now.unix_timestamp())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn put<T: serde::Serialize>(
    tx: &mut Transaction<'_, Any>,
    table: Table,
    slug: &str,
    record: &T,
    expected: Option<i64>,
    now: OffsetDateTime,
    author: &Author,
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
            record_change(tx, table, slug, None, Some(&value), now, author).await?;
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
            let before: Value = parse(slug, &doc)?;
            record_change(tx, table, slug, Some(&before), Some(&value), now, author).await?;
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
