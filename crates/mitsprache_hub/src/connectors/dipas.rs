//! DIPAS (Hamburg's digital participation system) through its PDS interface: GeoJSON feature
//! collections at `BASE/drupal/dipas-pds/projects` and `…/projects/{id}/contributions`.
//!
//! Mapping: a project → process (`nameFull`, `description`, status from `dateStart`/`dateEnd`,
//! `website` → url, the project area → geometry, `projectTopics` → topics); a contribution →
//! `idea` contribution (`title`, `contributionContent`, `votingPro`/`votingContra` → votes,
//! the point → location only where `dipasLocated` is true: DIPAS gives an unlocated
//! contribution the project area). DIPAS is German only. Not mapped: comments, `category`,
//! `contributionType`, keywords, `customAttribute`. No author: PDS has none.
//!
//! PDS has no paging, no filter by time and no time of change: every sync takes everything and
//! deletes what is gone (unpublished nodes vanish).

use super::{Client, Walk, day_or_time, id_of, plain, text};
use crate::ports::HttpRequest;
use mitsprache_standard::Kind;
use mitsprache_store::SourceRecord;
use serde_json::{Value, json};
use time::OffsetDateTime;

pub(super) const MAPPING: super::Mapping = super::Mapping {
    tool: "DIPAS",
    api: "PDS GeoJSON, GET BASE/drupal/dipas-pds/projects[/{id}/contributions]",
    fields: &[
        ("project properties.id", "process id"),
        ("nameFull, description (HTML)", "process.title, process.description (plain text)"),
        ("dateStart, dateEnd", "process.status: upcoming before dateStart, closed after dateEnd, else open"),
        ("website", "process.url"),
        ("the project feature's geometry", "process.geometry"),
        ("projectTopics", "process.topics (names)"),
        ("contribution properties.id", "contribution id, kind idea"),
        ("title, contributionContent", "contribution.title, contribution.text"),
        ("votingPro, votingContra", "contribution.votes.up, contribution.votes.down"),
        ("geometry where dipasLocated is true", "contribution.location"),
        ("dateCreated", "contribution.created_at and updated_at (PDS has no time of change)"),
        ("unpublished (absent from PDS)", "tombstone at the next sync"),
    ],
    unmapped: &[
        "comments",
        "category",
        "contributionType",
        "keywordSuggested, keywordPicked",
        "customAttribute",
        "link",
    ],
    authors: ("Nicht möglich: PDS hat kein Autorenfeld.", "Not possible: PDS has no author field."),
};

/// One feature collection of the PDS interface.
async fn features(client: &mut Client<'_>, url: String) -> Result<Vec<Value>, String> {
    let body: Value =
        client.send(HttpRequest::get(url).max_body(64 * 1024 * 1024)).await?.json().map_err(|e| e.to_string())?;
    let features =
        body.get("features").and_then(Value::as_array).ok_or("the answer is no GeoJSON FeatureCollection")?;
    client.counted(features.len());
    Ok(features.clone())
}

/// A PDS time, or a bare date at its start.
fn moment(v: Option<&Value>) -> Option<String> {
    day_or_time(v?.as_str()?, false)
}

pub(super) async fn walk(client: &mut Client<'_>, source: &SourceRecord, now: OffsetDateTime) -> Result<Walk, String> {
    let base = format!("{}/drupal/dipas-pds/projects", source.url);
    let mut walk = Walk::default();
    for feature in features(client, base.clone()).await? {
        let p = feature.get("properties").cloned().unwrap_or(Value::Null);
        let Some(pid) = id_of(p.get("id")) else {
            walk.reject("?", "a project without id");
            continue;
        };
        let contributions = features(client, format!("{base}/{}/contributions", urlencoding(&pid))).await?;
        let mut latest: Option<String> = None;
        for c in &contributions {
            let props = c.get("properties").cloned().unwrap_or(Value::Null);
            let Some(id) = id_of(props.get("id")) else {
                walk.reject("?", "a contribution without id");
                continue;
            };
            let record = contribution(c, &props, &pid);
            let created = record.get("created_at").and_then(Value::as_str).map(str::to_owned);
            latest = latest.max(created);
            walk.add(Kind::Contribution, id, record);
        }
        walk.add(Kind::Process, pid, process(&feature, &p, source, now, latest));
    }
    walk.complete = vec![Kind::Process, Kind::Contribution];
    Ok(walk)
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn process(feature: &Value, p: &Value, source: &SourceRecord, now: OffsetDateTime, latest: Option<String>) -> Value {
    let at = |k: &str| {
        moment(p.get(k)).and_then(|t| OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok())
    };
    // `dateEnd` is the last day (DIPAS's local midnight, labelled Z): open through that day.
    let status = match (at("dateStart"), at("dateEnd")) {
        (Some(start), _) if start > now => "upcoming",
        (_, Some(end)) if end + time::Duration::days(1) < now => "closed",
        _ => "open",
    };
    // Terms keyed by their id (`{"12": {"name": …}}`), `[]` when there are none.
    let terms: Vec<&Value> = match p.get("projectTopics") {
        Some(Value::Object(m)) => m.values().collect(),
        Some(Value::Array(a)) => a.iter().collect(),
        _ => Vec::new(),
    };
    let topics: Vec<String> = terms
        .into_iter()
        .filter_map(|t| t.as_str().or_else(|| t.get("name").and_then(Value::as_str)))
        .map(str::to_owned)
        .collect();
    // PDS has no time of change: the newest contribution, else the start, stands for it.
    let updated = latest.or_else(|| moment(p.get("dateStart"))).unwrap_or_else(|| {
        source.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
    });
    let mut out = json!({"status": status, "updated_at": updated, "topics": topics});
    if let Some(t) = text("de", p.get("nameFull").and_then(Value::as_str)) {
        out["title"] = t;
    }
    if let Some(t) = text("de", p.get("description").and_then(Value::as_str).map(plain).as_deref()) {
        out["description"] = t;
    }
    if let Some(w) = p.get("website").and_then(Value::as_str).filter(|w| w.starts_with("http")) {
        out["url"] = json!(w);
    }
    // No project area is `{}`.
    if let Some(g) = feature.get("geometry").filter(|g| g.get("type").is_some()) {
        out["geometry"] = g.clone();
    }
    if let Some(m) = &source.municipality {
        out["municipality"] = json!(m);
    }
    out
}

fn contribution(feature: &Value, p: &Value, project: &str) -> Value {
    let created = moment(p.get("dateCreated"));
    let mut out = json!({
        "process": id_of(p.get("belongToProject")).unwrap_or_else(|| project.to_owned()),
        "kind": "idea",
        "created_at": created,
        "updated_at": created,
    });
    if let Some(t) = text("de", p.get("title").and_then(Value::as_str)) {
        out["title"] = t;
    }
    if let Some(t) = text("de", p.get("contributionContent").and_then(Value::as_str).map(plain).as_deref()) {
        out["text"] = t;
    }
    let votes = |k: &str| p.get(k).and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()));
    if votes("votingPro").is_some() || votes("votingContra").is_some() {
        out["votes"] = json!({"up": votes("votingPro").unwrap_or(0), "down": votes("votingContra").unwrap_or(0)});
    }
    let located = p.get("dipasLocated").and_then(Value::as_bool) == Some(true);
    if let Some(g) =
        feature.get("geometry").filter(|g| located && g.get("type").and_then(Value::as_str) == Some("Point"))
    {
        out["location"] = g.clone();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mitsprache_standard::Record;

    /// The contribution of connectors-verified.md §3.
    #[test]
    fn a_pds_contribution_maps_to_an_idea() {
        let f = json!({"type":"Feature","geometry":{"type":"Point","coordinates":[9.9921,53.5733]},"properties":{"id":5512,
            "dateCreated":"2025-04-09T08:15:00Z","link":"https://x.example/#/contribution/5512","title":"Gefährliche Kreuzung",
            "contributionType":"Hinweis","contributionContent":"Rechtsabbieger übersehen Radfahrende.","commentsNumber":1,
            "category":"Verkehrssicherheit","votingPro":23,"votingContra":2,"keywordSuggested":"","keywordPicked":"",
            "belongToProject":"radweg-nord","dipasLocated":true,"customAttribute":{"nlp_scores":{}}}});
        let record = contribution(&f, &f["properties"], "radweg-nord");
        let Record::Contribution(c) = Record::parse(Kind::Contribution, record).unwrap() else { panic!() };
        assert_eq!(c.process, "radweg-nord");
        assert_eq!((c.votes.unwrap().up, c.votes.unwrap().down), (23, 2));
        assert_eq!(c.location.unwrap()["coordinates"], json!([9.9921, 53.5733]));
        let mut unlocated = f.clone();
        unlocated["properties"]["dipasLocated"] = json!(false);
        assert!(contribution(&unlocated, &unlocated["properties"], "radweg-nord").get("location").is_none());
    }
}
