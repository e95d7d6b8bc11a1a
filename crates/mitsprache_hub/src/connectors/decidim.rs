//! Decidim through its GraphQL API (`POST BASE/api`), anonymous reads.
//!
//! Mapping: a participatory process → process (`title`, `shortDescription` → description,
//! status from `startDate`/`endDate`, `BASE/processes/{slug}` → url, `updatedAt`); a proposal
//! of a Proposals component → `proposal` contribution (`title`, `body` as plain text,
//! `coordinates` → location, `voteCount` → votes up, `state` evaluating/accepted/rejected and
//! `withdrawn` → status, `createdAt`/`updatedAt`). Texts keep every locale Decidim has.
//! Not mapped: comments, meetings, budgets, steps (phases), `answer`. No author: the API shows
//! Decidim's own user id, not the hub's pairwise subject (which only Decidim's database holds,
//! in `decidim_identities`), so pulled proposals cannot be linked to a hub login.
//!
//! Decidim has no updated-since filter for processes or proposals, and moderated or deleted
//! items simply vanish from the API: every sync walks everything (proposals 50 a page, the
//! schema's maximum) and deletes what is gone. Requests are paced to 100 a minute.

use super::{Client, Walk, graphql, plain};
use mitsprache_standard::Kind;
use mitsprache_store::SourceRecord;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

pub(super) const MAPPING: super::Mapping = super::Mapping {
    tool: "Decidim",
    api: "GraphQL, POST BASE/api",
    fields: &[
        ("ParticipatoryProcess.id", "process id"),
        ("title (TranslatedField, every locale)", "process.title"),
        ("shortDescription (HTML)", "process.description (plain text)"),
        ("startDate, endDate", "process.status: upcoming before startDate, closed after endDate, else open"),
        ("slug", "process.url = BASE/processes/{slug}"),
        ("updatedAt", "process.updated_at"),
        ("Proposal.id (Proposals components)", "contribution id, kind proposal"),
        ("title, body (HTML)", "contribution.title, contribution.text (plain text)"),
        ("state, withdrawn", "contribution.status: evaluating → in-review, accepted, rejected; withdrawn → withdrawn"),
        ("coordinates {latitude, longitude}", "contribution.location (GeoJSON Point, longitude first)"),
        ("voteCount", "contribution.votes.up"),
        ("createdAt (else publishedAt), updatedAt", "contribution.created_at, contribution.updated_at"),
        ("moderated or deleted (absent from the API)", "tombstone at the next sync"),
    ],
    unmapped: &["comments", "meetings", "budgets", "steps (phases)", "answer", "assemblies", "author"],
    authors: (
        "Nicht möglich: Die API zeigt Decidims eigene Nutzer-ID, nicht den paarweisen sub des Hubs (der steht nur in Decidims Datenbank, decidim_identities).",
        "Not possible: the API shows Decidim's own user id, not the hub's pairwise sub (which only Decidim's database holds, in decidim_identities).",
    ),
};

const PROCESSES: &str = "query Processes { participatoryProcesses { id slug \
    title { translations { locale text } } shortDescription { translations { locale text } } \
    startDate endDate updatedAt components { id __typename } } }";

const PROPOSALS: &str = "query Proposals($id: ID!, $after: String) { component(id: $id) { ... on Proposals { \
    proposals(first: 50, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id \
    title { translations { locale text } } body { translations { locale text } } state withdrawn \
    publishedAt createdAt updatedAt voteCount coordinates { latitude longitude } } } } } } }";

/// A walk stops at this many pages of one component rather than loop on a cursor that never ends.
const MAX_PAGES: usize = 10_000;

pub(super) async fn walk(client: &mut Client<'_>, source: &SourceRecord, now: OffsetDateTime) -> Result<Walk, String> {
    let api = format!("{}/api", source.url);
    let today = now.date();
    let mut walk = Walk::default();
    let data = graphql(client, &api, PROCESSES, json!({})).await?;
    let processes = data.get("participatoryProcesses").and_then(Value::as_array).ok_or("no participatoryProcesses")?;
    client.counted(processes.len());
    for p in processes {
        let Some(pid) = p.get("id").and_then(Value::as_str).map(str::to_owned) else {
            walk.reject("?", "a process without id");
            continue;
        };
        walk.add(Kind::Process, pid.clone(), process(p, &source.url, source.municipality.as_deref(), today));
        let components = p.get("components").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for component in components.iter().filter(|c| c.get("__typename").and_then(Value::as_str) == Some("Proposals"))
        {
            let cid = component.get("id").and_then(Value::as_str).ok_or("a component without id")?;
            let mut after: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let data = graphql(client, &api, PROPOSALS, json!({"id": cid, "after": after})).await?;
                let page = data.pointer("/component/proposals").ok_or("a Proposals component without proposals")?;
                let edges = page.get("edges").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                client.counted(edges.len());
                for node in edges.iter().filter_map(|e| e.get("node")) {
                    match node.get("id").and_then(Value::as_str) {
                        Some(id) => walk.add(Kind::Contribution, id.to_owned(), proposal(node, &pid)),
                        None => walk.reject("?", "a proposal without id"),
                    }
                }
                let next = page.pointer("/pageInfo/hasNextPage").and_then(Value::as_bool).unwrap_or(false);
                after = page.pointer("/pageInfo/endCursor").and_then(Value::as_str).map(str::to_owned);
                if !next || after.is_none() {
                    break;
                }
            }
        }
    }
    walk.complete = vec![Kind::Process, Kind::Contribution];
    Ok(walk)
}

/// A `TranslatedField` as a language map, HTML made plain; `None` without any text.
fn translated(v: Option<&Value>) -> Option<Value> {
    let mut out = Map::new();
    for t in v?.get("translations")?.as_array()? {
        if let (Some(locale), Some(text)) =
            (t.get("locale").and_then(Value::as_str), t.get("text").and_then(Value::as_str))
        {
            let text = plain(text);
            if !text.is_empty() {
                out.insert(locale.to_owned(), json!(text));
            }
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn process(p: &Value, base: &str, municipality: Option<&str>, today: time::Date) -> Value {
    let date = |k: &str| {
        p.get(k).and_then(Value::as_str).and_then(|s| {
            time::Date::parse(s.get(..10)?, &time::macros::format_description!("[year]-[month]-[day]")).ok()
        })
    };
    let status = match (date("startDate"), date("endDate")) {
        (Some(start), _) if start > today => "upcoming",
        (_, Some(end)) if end < today => "closed",
        _ => "open",
    };
    let mut out = json!({
        "status": status,
        "updated_at": p.get("updatedAt").cloned().unwrap_or(Value::Null),
    });
    if let Some(t) = translated(p.get("title")) {
        out["title"] = t;
    }
    if let Some(t) = translated(p.get("shortDescription")) {
        out["description"] = t;
    }
    if let Some(slug) = p.get("slug").and_then(Value::as_str) {
        out["url"] = json!(format!("{base}/processes/{slug}"));
    }
    if let Some(m) = municipality {
        out["municipality"] = json!(m);
    }
    out
}

fn proposal(n: &Value, process: &str) -> Value {
    let status = if n.get("withdrawn").and_then(Value::as_bool) == Some(true) {
        Some("withdrawn")
    } else {
        match n.get("state").and_then(Value::as_str) {
            Some("evaluating") => Some("in-review"),
            Some("accepted") => Some("accepted"),
            Some("rejected") => Some("rejected"),
            _ => None,
        }
    };
    let mut out = json!({
        "process": process,
        "kind": "proposal",
        "created_at": n.get("createdAt").or(n.get("publishedAt")).cloned().unwrap_or(Value::Null),
        "updated_at": n.get("updatedAt").cloned().unwrap_or(Value::Null),
    });
    if let Some(t) = translated(n.get("title")) {
        out["title"] = t;
    }
    if let Some(t) = translated(n.get("body")) {
        out["text"] = t;
    }
    if let Some(s) = status {
        out["status"] = json!(s);
    }
    if let Some(v) = n.get("voteCount").and_then(Value::as_u64) {
        out["votes"] = json!({"up": v, "down": 0});
    }
    if let (Some(lat), Some(lon)) = (
        n.pointer("/coordinates/latitude").and_then(Value::as_f64),
        n.pointer("/coordinates/longitude").and_then(Value::as_f64),
    ) {
        out["location"] = json!({"type": "Point", "coordinates": [lon, lat]});
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mitsprache_standard::Record;

    /// The proposal node of connectors-verified.md §1, with `body` and `createdAt` as the
    /// proposal type has them.
    #[test]
    fn a_decidim_proposal_maps_to_a_contribution() {
        let node = json!({"id":"1041","state":"evaluating","publishedAt":"2025-03-10T18:21:44+01:00",
            "createdAt":"2025-03-10T18:00:00+01:00","updatedAt":"2025-04-02T09:00:00+02:00","withdrawn":false,"voteCount":57,
            "title":{"translations":[{"locale":"de","text":"Geschützter Radstreifen"}]},
            "body":{"translations":[{"locale":"de","text":"<p>Auf der <b>Holtenauer</b> Straße</p>"},{"locale":"en","text":""}]},
            "coordinates":{"latitude":54.3226,"longitude":10.1356}});
        let Record::Contribution(c) = Record::parse(Kind::Contribution, proposal(&node, "7")).unwrap() else {
            panic!()
        };
        assert_eq!(c.process, "7");
        assert_eq!(c.text.unwrap().0.get("de").unwrap(), "Auf der Holtenauer Straße");
        assert_eq!(c.location.unwrap()["coordinates"], json!([10.1356, 54.3226]));
        assert_eq!(c.votes.unwrap().up, 57);
        assert_eq!(serde_json::to_value(c.status).unwrap(), json!("in-review"));
    }

    #[test]
    fn a_process_status_follows_its_dates() {
        let today = time::macros::date!(2026 - 06 - 01);
        let p = |start: &str, end: &str| {
            json!({"id":"1","slug":"rad","title":{"translations":[{"locale":"de","text":"Rad"}]},
                "startDate":start,"endDate":end,"updatedAt":"2026-05-01T00:00:00Z"})
        };
        assert_eq!(process(&p("2026-07-01", "2026-08-01"), "https://d.example", None, today)["status"], "upcoming");
        assert_eq!(process(&p("2026-01-01", "2026-05-01"), "https://d.example", None, today)["status"], "closed");
        let open = process(&p("2026-05-01", "2026-07-01"), "https://d.example", Some("05315000"), today);
        assert_eq!(open["status"], "open");
        assert_eq!(open["url"], "https://d.example/processes/rad");
        assert!(Record::parse(Kind::Process, open).is_ok());
    }
}
