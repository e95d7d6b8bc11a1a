//! Records of the data standard, as tools push them and connectors fetch them. The hub checks a
//! record against the standard before it gets here; this module keeps it, its source and its
//! history of change (`created`, `modified`, tombstones) and answers the filtered lists.

use crate::timestamp::{at, secs};
use crate::{Backend, Store, StoreError, placeholders};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;
use time::OffsetDateTime;

pub struct DataStore<'a> {
    store: &'a Store,
}

/// One record to keep, or a tombstone (`doc: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    pub id: String,
    pub kind: &'static str,
    pub source: String,
    pub external_id: String,
    /// The record's JSON; `None` deletes.
    pub doc: Option<String>,
    pub process: Option<String>,
    pub status: Option<String>,
    pub municipality: Option<String>,
    /// `|a|b|`, empty without topics.
    pub topics: String,
    pub search: String,
    pub updated_at: Option<OffsetDateTime>,
    /// A process's last phase end.
    pub closes_at: Option<OffsetDateTime>,
    /// A contribution's author: the pairwise subject the source was issued.
    pub author: Option<String>,
    pub process_type: Option<String>,
    /// The point standing for the record's geometry: (latitude, longitude) in millionths of a
    /// degree.
    pub position: Option<(i64, i64)>,
}

/// How a record reached the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// `push`, or the connector's kind (`decidim`, `open311`, …).
    pub via: String,
    pub fetched_at: OffsetDateTime,
}

/// What writing one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Created,
    Updated,
    /// The same record was there already: nothing was written, `modified` stays.
    Unchanged,
    Deleted,
    /// A deletion of a record the source never sent.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: String,
    pub kind: String,
    pub source: String,
    pub external_id: String,
    pub doc: Option<String>,
    pub deleted: bool,
    pub via: String,
    pub fetched_at: OffsetDateTime,
    pub created: OffsetDateTime,
    pub modified: OffsetDateTime,
}

/// A filtered list. Every filter is optional; values are bound, never part of the SQL text.
#[derive(Debug, Clone, Default)]
pub struct DataQuery {
    pub kind: &'static str,
    pub source: Option<String>,
    pub municipality: Option<String>,
    pub status: Option<String>,
    pub topic: Option<String>,
    /// Lower-case words that must all occur in the record's texts.
    pub words: Vec<String>,
    /// The external id of the process (with `source`), for contributions, events and results.
    pub process: Option<String>,
    /// Changed at or after this time, tombstones included, oldest first (for syncing). Without
    /// it, tombstones are left out and the newest come first.
    pub modified_since: Option<OffsetDateTime>,
    pub offset: u64,
    pub limit: u64,
    /// Processes closing soonest first (those without a closing time last) instead of the
    /// latest change first.
    pub closing_first: bool,
    pub process_type: Option<String>,
    /// Records whose point lies in this box: (south, west, north, east) in millionths of a degree.
    pub within: Option<(i64, i64, i64, i64)>,
}

/// Ids looked up per statement.
const LOOKUP: usize = 500;
/// New records per INSERT: 20 values each stays far below SQLite's 32,766 bound parameters.
const INSERT_ROWS: usize = 200;

pub(crate) const COLUMNS: &str = "id, kind, source, external_id, doc, deleted, via, fetched_at, created, modified";

pub(crate) fn stored(r: &AnyRow) -> Result<StoredRecord, StoreError> {
    Ok(StoredRecord {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        source: r.try_get("source")?,
        external_id: r.try_get("external_id")?,
        doc: r.try_get("doc")?,
        deleted: r.try_get::<i64, _>("deleted")? != 0,
        via: r.try_get("via")?,
        fetched_at: at(r, "fetched_at")?,
        created: at(r, "created")?,
        modified: at(r, "modified")?,
    })
}

/// `%…%` for LIKE, with the pattern characters of the input escaped.
fn like(s: &str) -> String {
    let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

impl<'a> DataStore<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        DataStore { store }
    }

    /// Writes a batch in one transaction: all of it is kept, or none. What is there already is
    /// read for the whole batch at once, and new records are inserted many to a statement:
    /// a bulk import is mostly new records, and a statement per row was what limited it.
    ///
    /// Two writers of the same new record (two instances, or two requests at once) meet at
    /// PostgreSQL's unique key: the batch that loses is run again and finds the record there.
    pub async fn apply(&self, records: &[NewRecord], via: &Provenance) -> Result<Vec<Applied>, StoreError> {
        let mut attempt = 0;
        loop {
            match self.apply_once(records, via).await {
                Err(StoreError::Conflict(_)) if attempt < 3 => attempt += 1,
                result => return result,
            }
        }
    }

    async fn apply_once(&self, records: &[NewRecord], via: &Provenance) -> Result<Vec<Applied>, StoreError> {
        let mut tx = self.store.write().await?;
        let mut existing: HashMap<String, Existing> = HashMap::new();
        let mut ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let backend = self.store.backend();
        for chunk in ids.chunks(LOOKUP) {
            let sql = format!(
                "SELECT id, doc, deleted, status FROM data_records WHERE id IN ({})",
                list(backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&mut *tx).await? {
                existing.insert(
                    row.try_get("id")?,
                    Existing {
                        doc: row.try_get("doc")?,
                        deleted: row.try_get::<i64, _>("deleted")? != 0,
                        status: row.try_get("status")?,
                    },
                );
            }
        }
        let mut out = Vec::with_capacity(records.len());
        let mut fresh: Vec<&NewRecord> = Vec::new();
        for r in records {
            // A record that comes twice in one batch sees the first as written.
            if fresh.iter().any(|f| f.id == r.id) {
                flush(&mut tx, backend, &mut fresh, &mut existing, via).await?;
            }
            let applied = match (&r.doc, existing.get(&r.id)) {
                (Some(_), None) => {
                    fresh.push(r);
                    if fresh.len() == INSERT_ROWS {
                        flush(&mut tx, backend, &mut fresh, &mut existing, via).await?;
                    }
                    Applied::Created
                }
                (None, None) => Applied::Missing,
                (_, Some(old)) => {
                    let applied = change(&mut tx, r, old, via).await?;
                    existing.insert(
                        r.id.clone(),
                        Existing { doc: r.doc.clone(), deleted: r.doc.is_none(), status: r.status.clone() },
                    );
                    applied
                }
            };
            out.push(applied);
        }
        flush(&mut tx, backend, &mut fresh, &mut existing, via).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The external ids of the live (not deleted) records of a source and kind: what a full
    /// sync compares with what the source still shows.
    pub async fn live_ids(&self, source: &str, kind: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT external_id FROM data_records WHERE source = $1 AND kind = $2 AND deleted = 0")
            .bind(source)
            .bind(kind)
            .fetch_all(self.store.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get("external_id")?)).collect()
    }

    pub async fn get(&self, id: &str) -> Result<Option<StoredRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM data_records WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(self.store.pool()).await?.as_ref().map(stored).transpose()
    }

    /// The page asked for and the number of all matches.
    pub async fn list(&self, q: &DataQuery) -> Result<(u64, Vec<StoredRecord>), StoreError> {
        // The kind is one of the standard's type names (a static string, never input), written
        // as a literal so that the planners can use the indexes that hold processes only.
        debug_assert!(q.kind.bytes().all(|b| b.is_ascii_lowercase()));
        let mut clauses = vec![format!("kind = '{}'", q.kind)];
        let mut values: Vec<String> = Vec::new();
        // Several statuses, comma-separated: any of them. The count takes them as one IN; the
        // page reads each status on its own (see below).
        let mut statuses: Vec<&str> = q.status.as_deref().map(|s| s.split(',').collect()).unwrap_or_default();
        // `open,open` is one walk, not two that would fill a page with the same rows twice.
        statuses.sort_unstable();
        statuses.dedup();
        let status_params: Vec<String> = statuses
            .iter()
            .map(|one| {
                values.push((*one).to_owned());
                format!("${}", values.len())
            })
            .collect();
        let mut add = |clause: &str, value: String| {
            values.push(value);
            clauses.push(clause.replace('?', &format!("${}", values.len())));
        };
        if let Some(s) = &q.source {
            add("source = ?", s.clone());
        }
        if let Some(m) = &q.municipality {
            add("municipality = ?", m.clone());
        }
        if let Some(t) = &q.topic {
            add("topics LIKE ? ESCAPE '\\'", like(&format!("|{}|", t.to_lowercase())));
        }
        for w in &q.words {
            add("search LIKE ? ESCAPE '\\'", like(w));
        }
        if let Some(p) = &q.process {
            add("process = ?", p.clone());
        }
        if let Some(t) = &q.process_type {
            add("process_type = ?", t.clone());
        }
        // Whole numbers, checked by the type: written into the SQL, so that they need no casts
        // across the two backends' integer binding.
        if let Some((south, west, north, east)) = q.within {
            clauses.push(format!("lat_e6 BETWEEN {south} AND {north} AND lon_e6 BETWEEN {west} AND {east}"));
        }
        let mut since_at = None;
        // The order, and the same order by the names of the branch's columns.
        let (order, outer_order) = match q.modified_since {
            Some(since) => {
                since_at = Some(secs(since));
                clauses.push(format!("modified >= ${}", values.len() + 1));
                ("modified ASC, id ASC", "modified ASC, id ASC")
            }
            None => {
                clauses.push("deleted = 0".into());
                if q.closing_first {
                    // The expression of the indexes, word for word, so that both backends walk
                    // an index instead of sorting.
                    ("COALESCE(closes_at, 9223372036854775807) ASC, id ASC", "close_key ASC, id ASC")
                } else {
                    ("modified DESC, id DESC", "modified DESC, id DESC")
                }
            }
        };
        let filter = clauses.join(" AND ");
        let status_filter = if status_params.is_empty() {
            String::new()
        } else {
            format!(" AND status IN ({})", status_params.join(", "))
        };
        let count_sql = format!("SELECT COUNT(*) FROM data_records WHERE {filter}{status_filter}");
        let mut count = sqlx::query(&count_sql);
        for v in &values {
            count = count.bind(v);
        }
        if let Some(t) = since_at {
            count = count.bind(t);
        }
        let total: i64 = count.fetch_one(self.store.pool()).await?.try_get(0)?;
        let (limit, offset) = (q.limit.min(1_000), q.offset);
        // With several statuses, a page is the merge of one ordered walk per status: each walks
        // its (status, order) index and stops after offset + limit rows. One walk over all
        // statuses would pass every closed process before the first open one ("closing soonest"
        // puts the past first), and sorting all matches is what made a page slow.
        let list_sql = if status_params.len() > 1 {
            // Only what the order needs, so that each walk reads its index alone.
            let keys = if q.closing_first && since_at.is_none() {
                "COALESCE(closes_at, 9223372036854775807) AS close_key"
            } else {
                "modified"
            };
            let branches: Vec<String> = status_params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    format!(
                        "SELECT * FROM (SELECT id, {keys} FROM data_records WHERE {filter} AND status = {p} \
                         ORDER BY {order} LIMIT {}) b{i}",
                        offset + limit
                    )
                })
                .collect();
            // The walks read the index alone (id and the order are in it); only the page's rows
            // are read from the table.
            format!(
                "SELECT {COLUMNS} FROM data_records WHERE id IN \
                 (SELECT id FROM ({}) t ORDER BY {outer_order} LIMIT {limit} OFFSET {offset}) ORDER BY {order}",
                branches.join(" UNION ALL ")
            )
        } else {
            format!(
                "SELECT {COLUMNS} FROM data_records WHERE {filter}{status_filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
            )
        };
        let mut list = sqlx::query(&list_sql);
        for v in &values {
            list = list.bind(v);
        }
        if let Some(t) = since_at {
            list = list.bind(t);
        }
        let rows = list.fetch_all(self.store.pool()).await?;
        Ok((u64::try_from(total).unwrap_or(0), rows.iter().map(stored).collect::<Result<_, _>>()?))
    }
}

/// What is stored of a record before a batch writes it.
struct Existing {
    /// `None` for a tombstone.
    doc: Option<String>,
    deleted: bool,
    status: Option<String>,
}

/// Inserts the new records waiting in `fresh` and notes them as existing.
async fn flush(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    fresh: &mut Vec<&NewRecord>,
    existing: &mut HashMap<String, Existing>,
    via: &Provenance,
) -> Result<(), StoreError> {
    insert_many(tx, backend, fresh, via).await?;
    for f in fresh.drain(..) {
        existing.insert(f.id.clone(), Existing { doc: f.doc.clone(), deleted: false, status: f.status.clone() });
    }
    Ok(())
}

/// Writes a record that exists already. A live record whose status changes leaves a row in
/// `data_status_changes`, which "Meine Beteiligung" and the digests tell people about.
async fn change(
    tx: &mut Transaction<'static, Any>,
    r: &NewRecord,
    old: &Existing,
    via: &Provenance,
) -> Result<Applied, StoreError> {
    let now = secs(via.fetched_at);
    let deleted = old.deleted;
    let old_doc = old.doc.as_deref();
    match &r.doc {
        None if deleted => Ok(Applied::Unchanged),
        None => {
            sqlx::query(
                "UPDATE data_records SET doc = NULL, deleted = 1, search = '', via = $2, fetched_at = $3, modified = $3 \
                 WHERE id = $1",
            )
            .bind(&r.id)
            .bind(&via.via)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            Ok(Applied::Deleted)
        }
        Some(doc) if !deleted && old_doc == Some(doc.as_str()) => Ok(Applied::Unchanged),
        Some(doc) => {
            if !deleted && old.status != r.status {
                sqlx::query(
                    "INSERT INTO data_status_changes (record_id, old_status, new_status, changed_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&r.id)
                .bind(&old.status)
                .bind(&r.status)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            sqlx::query(
                "UPDATE data_records SET doc = $2, deleted = 0, process = $3, status = $4, municipality = $5, topics = $6, \
                 search = $7, updated_at = $8, via = $9, fetched_at = $10, modified = $10, closes_at = $11, author = $12, \
                 process_type = $13, lat_e6 = $14, lon_e6 = $15 WHERE id = $1",
            )
            .bind(&r.id)
            .bind(doc)
            .bind(&r.process)
            .bind(&r.status)
            .bind(&r.municipality)
            .bind(&r.topics)
            .bind(&r.search)
            .bind(r.updated_at.map(secs))
            .bind(&via.via)
            .bind(now)
            .bind(r.closes_at.map(secs))
            .bind(&r.author)
            .bind(&r.process_type)
            .bind(r.position.map(|p| p.0))
            .bind(r.position.map(|p| p.1))
            .execute(&mut **tx)
            .await?;
            Ok(Applied::Updated)
        }
    }
}

/// Bound parameters for a list: `$first, …` on PostgreSQL, anonymous `?` on SQLite, whose
/// lookup of a numbered parameter's name scans every parameter (a statement of thousands of
/// `$n` spent most of a bulk import there).
fn list(backend: Backend, first: usize, n: usize) -> String {
    match backend {
        Backend::Postgres => placeholders(first, n),
        Backend::Sqlite => vec!["?"; n].join(", "),
    }
}

/// Inserts new records, many to a statement.
async fn insert_many(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[&NewRecord],
    via: &Provenance,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..rows.len())
        .map(|i| format!("({}, 0, {})", list(backend, i * 20 + 1, 5), list(backend, i * 20 + 6, 15)))
        .collect();
    let sql = format!(
        "INSERT INTO data_records (id, kind, source, external_id, doc, deleted, process, status, municipality, \
         topics, search, updated_at, via, fetched_at, created, modified, closes_at, author, process_type, lat_e6, lon_e6) \
         VALUES {}",
        values.join(", ")
    );
    let now = secs(via.fetched_at);
    let mut q = sqlx::query(&sql);
    for r in rows {
        q = q
            .bind(&r.id)
            .bind(r.kind)
            .bind(&r.source)
            .bind(&r.external_id)
            .bind(&r.doc)
            .bind(&r.process)
            .bind(&r.status)
            .bind(&r.municipality)
            .bind(&r.topics)
            .bind(&r.search)
            .bind(r.updated_at.map(secs))
            .bind(&via.via)
            .bind(now)
            .bind(now)
            .bind(now)
            .bind(r.closes_at.map(secs))
            .bind(&r.author)
            .bind(&r.process_type)
            .bind(r.position.map(|p| p.0))
            .bind(r.position.map(|p| p.1));
    }
    q.execute(&mut **tx).await.map_err(unique_as_conflict)?;
    Ok(())
}

fn unique_as_conflict(e: sqlx::Error) -> StoreError {
    if crate::identity::is_unique_violation(&e) {
        StoreError::Conflict("the record was written meanwhile".into())
    } else {
        e.into()
    }
}
