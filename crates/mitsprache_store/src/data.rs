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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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

/// Terms of one process at most: a long description still finds its first thousand words.
const TERMS_PER_RECORD: usize = 1_000;
/// A word's first 64 bytes are its term: a prefix search for a longer word still finds it.
const TERM_BYTES: usize = 64;
/// Term rows per INSERT (5 values each).
const TERM_ROWS: usize = 2_000;
/// Sorts after every character a word can hold: the words beginning with "rad" are those from
/// `rad` up to `rad` followed by it (byte order).
const PREFIX_END: char = '\u{10FFFF}';

/// The words of a lower-case text, as the terms index and a search cut them: runs of letters and
/// digits.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

fn truncated(w: &str) -> &str {
    if w.len() <= TERM_BYTES {
        return w;
    }
    let mut end = TERM_BYTES;
    while !w.is_char_boundary(end) {
        end -= 1;
    }
    &w[..end]
}

/// The terms a live process is found by: its topics (`true`) and the words of its texts.
fn terms(r: &NewRecord) -> std::collections::BTreeSet<(bool, &str)> {
    let mut out = std::collections::BTreeSet::new();
    for topic in r.topics.split('|').filter(|t| !t.is_empty()) {
        out.insert((true, topic));
    }
    for w in words(&r.search) {
        if out.len() >= TERMS_PER_RECORD {
            break;
        }
        out.insert((false, truncated(w)));
    }
    out
}

/// A record's terms as rows of `data_topics` and `data_words`.
struct TermRow {
    record_id: String,
    topic: bool,
    term: String,
    status: Option<String>,
    close_key: i64,
    modified: i64,
}

fn term_rows(r: &NewRecord, modified: i64) -> impl Iterator<Item = TermRow> + '_ {
    let close_key = r.closes_at.map_or(i64::MAX, secs);
    terms(r).into_iter().map(move |(topic, term)| TermRow {
        record_id: r.id.clone(),
        topic,
        term: term.to_owned(),
        status: r.status.clone(),
        close_key,
        modified,
    })
}

async fn insert_terms(tx: &mut sqlx::AnyConnection, backend: Backend, rows: &[TermRow]) -> Result<(), StoreError> {
    for (table, topic) in [("data_topics (record_id, topic", true), ("data_words (record_id, word", false)] {
        let rows: Vec<&TermRow> = rows.iter().filter(|t| t.topic == topic).collect();
        for chunk in rows.chunks(TERM_ROWS) {
            let values: Vec<String> = (0..chunk.len()).map(|i| format!("({})", list(backend, i * 5 + 1, 5))).collect();
            let sql = format!("INSERT INTO {table}, status, close_key, modified) VALUES {}", values.join(", "));
            let mut q = sqlx::query(&sql);
            for t in chunk {
                q = q.bind(&t.record_id).bind(&t.term).bind(&t.status).bind(t.close_key).bind(t.modified);
            }
            q.execute(&mut *tx).await?;
        }
    }
    Ok(())
}

/// Writes the terms of every live process: migration 0012 runs it once, in its transaction.
pub(crate) async fn fill_terms(tx: &mut sqlx::AnyConnection, backend: Backend) -> Result<(), StoreError> {
    // In pages by id, so that a large store is not read into memory at once.
    let mut after = String::new();
    loop {
        let rows = sqlx::query(
            "SELECT id, status, closes_at, modified, topics, search FROM data_records \
             WHERE kind = 'process' AND deleted = 0 AND id > $1 ORDER BY id LIMIT 1000",
        )
        .bind(&after)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.try_get("id")?;
        let mut out = Vec::new();
        for row in &rows {
            let record = NewRecord {
                id: row.try_get("id")?,
                kind: "process",
                status: row.try_get("status")?,
                closes_at: row
                    .try_get::<Option<i64>, _>("closes_at")?
                    .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok()),
                topics: row.try_get("topics")?,
                search: row.try_get("search")?,
                ..NewRecord::default()
            };
            out.extend(term_rows(&record, row.try_get("modified")?));
        }
        insert_terms(tx, backend, &out).await?;
    }
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
                    let applied = change(&mut tx, backend, r, old, via).await?;
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
        if let Some(terms) = TermQuery::of(q) {
            return self.list_by_terms(q, &terms).await;
        }
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
        // With several statuses, a page is the merge of one ordered walk per status (see
        // `merged`). One walk over all statuses would pass every closed process before the first
        // open one ("closing soonest" puts the past first), and sorting all matches is what made
        // a page slow.
        let list_sql = if status_params.len() > 1 {
            // Only what the order needs, so that each walk reads its index alone.
            let (key, key_name) = if q.closing_first && since_at.is_none() {
                ("COALESCE(closes_at, 9223372036854775807)", "close_key")
            } else {
                ("modified", "modified")
            };
            let walks: Vec<String> = status_params
                .iter()
                .map(|p| format!("SELECT id, {key} AS {key_name} FROM data_records WHERE {filter} AND status = {p}"))
                .collect();
            // Only the page's rows are read from the table.
            format!(
                "SELECT {COLUMNS} FROM data_records WHERE id IN (SELECT id FROM ({}) t) ORDER BY {order}",
                merged(self.store.backend(), &walks, order, outer_order, limit, offset)
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

    async fn list_by_terms(&self, q: &DataQuery, t: &TermQuery) -> Result<(u64, Vec<StoredRecord>), StoreError> {
        let mut values: Vec<String> = Vec::new();
        let mut param = |v: String| {
            values.push(v);
            format!("${}", values.len())
        };
        // A term's condition on the rows of `m` (or of a probe's `x`).
        let mut term = |alias: &str, (text, topic): &(String, bool)| {
            if *topic {
                format!("{alias}.topic = {}", param(text.clone()))
            } else {
                let from = param(text.clone());
                let to = param(format!("{text}{PREFIX_END}"));
                format!("{alias}.word >= {from} AND {alias}.word < {to}")
            }
        };
        let table = |(_, topic): &(String, bool)| if *topic { "data_topics" } else { "data_words" };
        let mut clauses = vec![term("m", &t.driving)];
        for other in &t.others {
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM {} x WHERE x.record_id = m.record_id AND {})",
                table(other),
                term("x", other)
            ));
        }
        // The filters that only the record holds.
        let mut rest: Vec<String> = Vec::new();
        if let Some(s) = &q.source {
            rest.push(format!("d.source = {}", param(s.clone())));
        }
        if let Some(m) = &q.municipality {
            rest.push(format!("d.municipality = {}", param(m.clone())));
        }
        if let Some(p) = &q.process {
            rest.push(format!("d.process = {}", param(p.clone())));
        }
        if let Some(pt) = &q.process_type {
            rest.push(format!("d.process_type = {}", param(pt.clone())));
        }
        for w in q.words.iter().filter(|w| words(w).next().is_none()) {
            rest.push(format!("d.search LIKE {} ESCAPE '\\'", param(like(w))));
        }
        if let Some((south, west, north, east)) = q.within {
            rest.push(format!("d.lat_e6 BETWEEN {south} AND {north} AND d.lon_e6 BETWEEN {west} AND {east}"));
        }
        let mut statuses: Vec<&str> = q.status.as_deref().map(|s| s.split(',').collect()).unwrap_or_default();
        statuses.sort_unstable();
        statuses.dedup();
        let status_params: Vec<String> = statuses.iter().map(|s| param((*s).to_owned())).collect();
        let from = if rest.is_empty() {
            format!("{} m", table(&t.driving))
        } else {
            clauses.extend(rest);
            format!("{} m JOIN data_records d ON d.id = m.record_id", table(&t.driving))
        };
        let filter = clauses.join(" AND ");
        let status_filter = if status_params.is_empty() {
            String::new()
        } else {
            format!(" AND m.status IN ({})", status_params.join(", "))
        };
        let exact = t.driving.1;
        // A word prefix may match several words of one record.
        let counted = if exact { "COUNT(*)" } else { "COUNT(DISTINCT m.record_id)" };
        let count_sql = format!("SELECT {counted} FROM {from} WHERE {filter}{status_filter}");
        let mut count = sqlx::query(&count_sql);
        for v in &values {
            count = count.bind(v);
        }
        let total: i64 = count.fetch_one(self.store.pool()).await?.try_get(0)?;
        let (limit, offset) = (q.limit.min(1_000), q.offset);
        let (key, direction, order) = if q.closing_first {
            ("close_key", "ASC", "COALESCE(closes_at, 9223372036854775807) ASC, id ASC")
        } else {
            ("modified", "DESC", "modified DESC, id DESC")
        };
        let ids_sql = if !exact {
            format!(
                "SELECT m.record_id AS id, MIN(m.{key}) AS k FROM {from} WHERE {filter}{status_filter} \
                 GROUP BY m.record_id ORDER BY k {direction}, id {direction} LIMIT {limit} OFFSET {offset}"
            )
        } else if status_params.len() > 1 {
            // As in `list`: one walk per status of (term, status, order), merged.
            let walks: Vec<String> = status_params
                .iter()
                .map(|p| {
                    format!("SELECT m.record_id AS id, m.{key} AS k FROM {from} WHERE {filter} AND m.status = {p}")
                })
                .collect();
            let inner = format!("m.{key} {direction}, m.record_id {direction}");
            merged(self.store.backend(), &walks, &inner, &format!("k {direction}, id {direction}"), limit, offset)
        } else {
            format!(
                "SELECT m.record_id AS id, m.{key} AS k FROM {from} WHERE {filter}{status_filter} \
                 ORDER BY m.{key} {direction}, m.record_id {direction} LIMIT {limit} OFFSET {offset}"
            )
        };
        let list_sql =
            format!("SELECT {COLUMNS} FROM data_records WHERE id IN (SELECT id FROM ({ids_sql}) p) ORDER BY {order}");
        let mut list = sqlx::query(&list_sql);
        for v in &values {
            list = list.bind(v);
        }
        let rows = list.fetch_all(self.store.pool()).await?;
        Ok((u64::try_from(total).unwrap_or(0), rows.iter().map(stored).collect::<Result<_, _>>()?))
    }
}

/// The page `limit`/`offset` of several walks merged, each walk a SELECT of `id` and the sort
/// key (named as in `outer`) that an index hands over in `order` (the same order by the table's
/// columns). Each backend merges ordered walks only when asked its own way: SQLite when the
/// compound SELECT carries the ORDER BY (it then steps the walks side by side and stops at the
/// page, where sorting 4,000 + 4,000 rows for page 200 took 5 ms); PostgreSQL when every walk is
/// a subquery with its own ORDER BY and LIMIT (a Merge Append; given the compound's ORDER BY
/// it sorts all matches instead).
fn merged(backend: Backend, walks: &[String], order: &str, outer: &str, limit: u64, offset: u64) -> String {
    match backend {
        Backend::Sqlite => format!("{} ORDER BY {outer} LIMIT {limit} OFFSET {offset}", walks.join(" UNION ALL ")),
        Backend::Postgres => {
            let walks: Vec<String> = walks
                .iter()
                .enumerate()
                .map(|(i, w)| format!("SELECT * FROM ({w} ORDER BY {order} LIMIT {}) b{i}", offset + limit))
                .collect();
            format!("SELECT * FROM ({}) t ORDER BY {outer} LIMIT {limit} OFFSET {offset}", walks.join(" UNION ALL "))
        }
    }
}

/// A list of live processes filtered by topic or words, answered from `data_topics` and
/// `data_words`: the driving term's rows are walked (a topic's in the order of the page, a word
/// prefix's sorted), the other terms are looked up per candidate by its key, and only the
/// remaining filters join the records.
struct TermQuery {
    /// The topic (`true`: exactly it), else the first word (every word beginning with it).
    driving: (String, bool),
    others: Vec<(String, bool)>,
}

impl TermQuery {
    fn of(q: &DataQuery) -> Option<TermQuery> {
        if q.kind != "process" || q.modified_since.is_some() {
            return None;
        }
        let mut all: Vec<(String, bool)> = Vec::new();
        if let Some(t) = &q.topic {
            all.push((t.to_lowercase(), true));
        }
        for w in &q.words {
            // Only letters and digits are in the index; a word without any stays a LIKE.
            all.extend(words(w).map(|w| (truncated(w).to_owned(), false)));
        }
        all.dedup();
        if all.is_empty() {
            return None;
        }
        let driving = all.remove(0);
        Some(TermQuery { driving, others: all })
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
    backend: Backend,
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
            replace_terms(tx, backend, r, None).await?;
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
            replace_terms(tx, backend, r, Some(now)).await?;
            Ok(Applied::Updated)
        }
    }
}

/// Replaces a process's terms with those of its new version, written at `modified`; `None`
/// leaves a tombstone without any.
async fn replace_terms(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    r: &NewRecord,
    modified: Option<i64>,
) -> Result<(), StoreError> {
    if r.kind != "process" {
        return Ok(());
    }
    for sql in ["DELETE FROM data_topics WHERE record_id = $1", "DELETE FROM data_words WHERE record_id = $1"] {
        sqlx::query(sql).bind(&r.id).execute(&mut **tx).await?;
    }
    match modified {
        Some(at) => insert_terms(tx, backend, &term_rows(r, at).collect::<Vec<_>>()).await,
        None => Ok(()),
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
    let terms: Vec<TermRow> = rows.iter().filter(|r| r.kind == "process").flat_map(|r| term_rows(r, now)).collect();
    insert_terms(tx, backend, &terms).await
}

fn unique_as_conflict(e: sqlx::Error) -> StoreError {
    if crate::identity::is_unique_violation(&e) {
        StoreError::Conflict("the record was written meanwhile".into())
    } else {
        e.into()
    }
}
