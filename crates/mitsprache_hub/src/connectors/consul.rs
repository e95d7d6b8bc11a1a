//! CONSUL Democracy through its GraphQL API (`POST BASE/graphql`), public and read-only.
//!
//! Mapping: the installation's proposals are one process ("proposals"); a proposal → `proposal`
//! contribution (`title`, `description` as plain text, else `summary`; `cachedVotesUp` → votes
//! up; `retiredAt` → status withdrawn); a comment on a proposal → `comment` contribution whose
//! parent is the comment it answers (the last id of `ancestry`) or the proposal. Ids are
//! prefixed (`proposal-215`, `comment-88`) because CONSUL numbers each table on its own.
//! CONSUL has one language per installation, read as German.
//! Not mapped: debates, budgets and investments, polls, geozones, tags, the author.
//!
//! CONSUL has no filter by time and no `updatedAt`: its only time is `publicCreatedAt`, cut to
//! the full hour for privacy. Every sync walks everything (25 a page, the schema's maximum, one
//! collection a query) and deletes what is gone (hidden items vanish from the API).

use super::{Client, Walk, datetime, graphql, id_of, plain, text};
use mitsprache_standard::Kind;
use mitsprache_store::SourceRecord;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(super) const MAPPING: super::Mapping = super::Mapping {
    tool: "CONSUL Democracy",
    api: "GraphQL, POST BASE/graphql",
    fields: &[
        ("the installation's proposals", "one process, id proposals, url BASE/proposals"),
        ("Proposal.id", "contribution id proposal-{id}, kind proposal"),
        ("title", "contribution.title"),
        ("description (HTML), else summary", "contribution.text (plain text)"),
        ("cachedVotesUp", "contribution.votes.up"),
        ("retiredAt", "contribution.status withdrawn"),
        ("publicCreatedAt (cut to the hour)", "contribution.created_at; updated_at = retiredAt, else publicCreatedAt"),
        ("Comment.id (commentableType Proposal)", "contribution id comment-{id}, kind comment"),
        ("ancestry, commentableId", "contribution.parent: the last comment of ancestry, else proposal-{commentableId}"),
        ("body, cachedVotesUp, cachedVotesDown", "contribution.text, contribution.votes"),
        ("hidden by a moderator (absent from the API)", "tombstone at the next sync"),
    ],
    unmapped: &[
        "debates",
        "budgets and investments",
        "polls",
        "geozone",
        "tags",
        "publicAuthor",
        "comments on debates",
    ],
    authors: (
        "Nicht möglich: publicAuthor zeigt CONSULs eigene Nutzer-ID (und nur bei öffentlicher Aktivität), nicht den paarweisen sub des Hubs (der steht nur in CONSULs Tabelle identities).",
        "Not possible: publicAuthor shows CONSUL's own user id (and only with public activity), not the hub's pairwise sub (which only CONSUL's identities table holds).",
    ),
};

const PROPOSALS: &str = "query Proposals($after: String) { proposals(first: 25, after: $after) { \
    pageInfo { hasNextPage endCursor } edges { node { id title summary description cachedVotesUp \
    publicCreatedAt retiredAt retiredReason geozone { id name } } } } }";

const COMMENTS: &str = "query Comments($after: String) { comments(first: 25, after: $after) { \
    pageInfo { hasNextPage endCursor } edges { node { id body ancestry commentableId commentableType \
    cachedVotesUp cachedVotesDown publicCreatedAt } } } }";

const PROCESS_ID: &str = "proposals";
/// A walk stops at this many pages rather than loop on a cursor that never ends.
const MAX_PAGES: usize = 40_000;

/// Every node of a root connection, page by page.
async fn nodes(client: &mut Client<'_>, api: &str, query: &str, root: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let variables = json!({ "after": after }).to_string();
        let data = graphql(client, api, query, Value::String(variables)).await?;
        let page = data.get(root).ok_or_else(|| format!("the answer has no {root}"))?;
        let edges = page.get("edges").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        client.counted(edges.len());
        out.extend(edges.iter().filter_map(|e| e.get("node")).cloned());
        let next = page.pointer("/pageInfo/hasNextPage").and_then(Value::as_bool).unwrap_or(false);
        after = page.pointer("/pageInfo/endCursor").and_then(Value::as_str).map(str::to_owned);
        if !next || after.is_none() {
            return Ok(out);
        }
    }
    Err(format!("{root}: more than {MAX_PAGES} pages"))
}

fn time_of(n: &Value, key: &str) -> Option<String> {
    n.get(key).and_then(Value::as_str).and_then(datetime)
}

pub(super) async fn walk(client: &mut Client<'_>, source: &SourceRecord, _now: OffsetDateTime) -> Result<Walk, String> {
    let api = format!("{}/graphql", source.url);
    let mut walk = Walk::default();
    let mut latest: Option<OffsetDateTime> = None;
    for node in nodes(client, &api, PROPOSALS, "proposals").await? {
        let Some(id) = id_of(node.get("id")) else {
            walk.reject("?", "a proposal without id");
            continue;
        };
        let record = proposal(&node);
        let updated =
            record.get("updated_at").and_then(Value::as_str).and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
        latest = latest.max(updated);
        walk.add(Kind::Contribution, format!("proposal-{id}"), record);
    }
    for node in nodes(client, &api, COMMENTS, "comments").await? {
        if node.get("commentableType").and_then(Value::as_str) != Some("Proposal") {
            continue;
        }
        let Some(id) = id_of(node.get("id")) else {
            walk.reject("?", "a comment without id");
            continue;
        };
        walk.add(Kind::Contribution, format!("comment-{id}"), comment(&node));
    }

    let host = url::Url::parse(&source.url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    let mut process = json!({
        "title": {"de": format!("Vorschläge ({host})"), "en": format!("Proposals ({host})")},
        "status": "open",
        "url": format!("{}/proposals", source.url),
        "updated_at": latest.unwrap_or(source.created_at).format(&Rfc3339).map_err(|e| e.to_string())?,
    });
    if let Some(m) = &source.municipality {
        process["municipality"] = json!(m);
    }
    walk.add(Kind::Process, PROCESS_ID.into(), process);
    walk.complete = vec![Kind::Process, Kind::Contribution];
    Ok(walk)
}

fn proposal(n: &Value) -> Value {
    let created = time_of(n, "publicCreatedAt");
    let retired = time_of(n, "retiredAt");
    let mut out = json!({
        "process": PROCESS_ID,
        "kind": "proposal",
        "created_at": created,
        "updated_at": retired.clone().or(created),
    });
    if let Some(t) = text("de", n.get("title").and_then(Value::as_str)) {
        out["title"] = t;
    }
    let description = n.get("description").and_then(Value::as_str).map(plain);
    let body = description.filter(|d| !d.is_empty()).or_else(|| n.get("summary").and_then(Value::as_str).map(plain));
    if let Some(t) = text("de", body.as_deref()) {
        out["text"] = t;
    }
    if let Some(v) = n.get("cachedVotesUp").and_then(Value::as_u64) {
        out["votes"] = json!({"up": v, "down": 0});
    }
    if retired.is_some() {
        out["status"] = json!("withdrawn");
    }
    out
}

fn comment(n: &Value) -> Value {
    let created = time_of(n, "publicCreatedAt");
    // `ancestry` is the path of comment ids from the thread's root down to the parent.
    let parent = n
        .get("ancestry")
        .and_then(Value::as_str)
        .and_then(|a| a.rsplit('/').next())
        .filter(|p| !p.is_empty())
        .map(|p| format!("comment-{p}"))
        .or_else(|| id_of(n.get("commentableId")).map(|p| format!("proposal-{p}")));
    let mut out = json!({
        "process": PROCESS_ID,
        "kind": "comment",
        "parent": parent,
        "created_at": created,
        "updated_at": created,
    });
    if let Some(t) = text("de", n.get("body").and_then(Value::as_str).map(plain).as_deref()) {
        out["text"] = t;
    }
    let votes = |k: &str| n.get(k).and_then(Value::as_u64);
    if votes("cachedVotesUp").is_some() || votes("cachedVotesDown").is_some() {
        out["votes"] =
            json!({"up": votes("cachedVotesUp").unwrap_or(0), "down": votes("cachedVotesDown").unwrap_or(0)});
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mitsprache_standard::Record;

    /// The proposal node of connectors-verified.md §2, with a description.
    #[test]
    fn a_consul_proposal_maps_to_a_contribution() {
        let node = json!({"id":"215","title":"Trinkbrunnen im Stadtpark","summary":"Kurz","description":"<p>Im <b>Stadtpark</b></p>",
            "publicCreatedAt":"2025-05-02 14:00:00 +0200","cachedVotesUp":342,"retiredAt":null,"geozone":{"id":"4","name":"Innenstadt"}});
        let Record::Contribution(c) = Record::parse(Kind::Contribution, proposal(&node)).unwrap() else { panic!() };
        assert_eq!(c.text.unwrap().0.get("de").unwrap(), "Im Stadtpark");
        assert_eq!(c.votes.unwrap().up, 342);
        assert!(c.status.is_none());
        assert_eq!(c.created_at, time::macros::datetime!(2025-05-02 12:00 UTC));
    }

    #[test]
    fn a_reply_answers_the_last_comment_of_its_ancestry() {
        let reply = json!({"id":"90","body":"Ja","ancestry":"12/34","commentableId":215,"commentableType":"Proposal",
            "cachedVotesUp":1,"cachedVotesDown":2,"publicCreatedAt":"2025-05-03 09:00:00 +0200"});
        assert_eq!(comment(&reply)["parent"], "comment-34");
        let top = json!({"id":"12","body":"Gut","ancestry":null,"commentableId":215,"commentableType":"Proposal",
            "publicCreatedAt":"2025-05-03 09:00:00 +0200"});
        assert_eq!(comment(&top)["parent"], "proposal-215");
        assert!(Record::parse(Kind::Contribution, comment(&reply)).is_ok());
    }
}
