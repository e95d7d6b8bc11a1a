//! OParl 1.1 (council information systems): the context participation happens in. `BASE` is
//! the URL of the `System` object; its `body` list leads to each body's meetings and papers.
//!
//! Mapping: a body → organisation (`name`, `ags` → municipality, `website` → url); a meeting →
//! event (`name`, `start`, `end`, the `location`'s description, address and GeoJSON point,
//! `cancelled` kept as an extension field); a paper → paper (`name`, `reference`, `paperType`,
//! `date`, `web`, `mainFile.accessUrl`). Not mapped: persons, organizations (committees),
//! memberships, agenda items, consultations, files other than the main one.
//!
//! OParl's sync contract is the one the standard took: after the first full walk, meetings and
//! papers are asked for with `modified_since` (the start of the last good sync, less a margin),
//! and deleted objects come back with `deleted: true`. Lists page by `links.next`.

use super::{Client, Walk, datetime, text};
use crate::ports::HttpRequest;
use mitsprache_standard::{Kind, check_ags};
use mitsprache_store::SourceRecord;
use serde_json::{Value, json};
use time::OffsetDateTime;

pub(super) const MAPPING: super::Mapping = super::Mapping {
    tool: "OParl 1.1",
    api: "REST, GET BASE (the System object), its body list, each body's meeting and paper lists",
    fields: &[
        ("Body.id (its URL)", "organisation id"),
        ("name, ags, website, modified", "organisation.name, organisation.municipality, url, updated_at"),
        ("Meeting.id (its URL)", "event id"),
        ("name, start, end, modified", "event.title, event.start, event.end, event.updated_at"),
        ("location.description, streetAddress postalCode locality", "event.place.name, event.place.address"),
        ("location.geojson (a Feature with a Point)", "event.place.location"),
        ("cancelled", "extension field cancelled"),
        ("Paper.id (its URL)", "paper id"),
        ("name, reference, paperType, date", "paper.title, paper.reference, paper.paper_type, paper.date"),
        ("web, mainFile.accessUrl, modified", "paper.url, paper.file_url, paper.updated_at"),
        ("the body's ags", "paper.municipality"),
        ("deleted: true (under modified_since)", "tombstone"),
    ],
    unmapped: &[
        "persons",
        "organizations (committees)",
        "memberships",
        "agenda items",
        "consultations",
        "auxiliary files",
        "legislative terms",
    ],
    authors: (
        "Entfällt: Ratsinformationen haben keine Beiträge von Bürgerinnen und Bürgern.",
        "Does not apply: council information has no contributions of citizens.",
    ),
};

/// A walk stops at this many pages of one list rather than follow `next` links forever.
const MAX_PAGES: usize = 10_000;

async fn get(client: &mut Client<'_>, url: &str) -> Result<Value, String> {
    let response = client.send(HttpRequest::get(url).max_body(32 * 1024 * 1024)).await?;
    response.json().map_err(|e| format!("{url}: {e}"))
}

/// Every object of an OParl list, following `links.next`; `since` adds `modified_since`.
async fn list(client: &mut Client<'_>, url: &str, since: Option<&str>) -> Result<Vec<Value>, String> {
    let mut next = Some(match since {
        Some(s) => with_query(url, &[("modified_since", s), ("limit", "100")]),
        None => with_query(url, &[("limit", "100")]),
    });
    let mut out = Vec::new();
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(format!("{url}: more than {MAX_PAGES} pages"));
        }
        let page = get(client, &url).await?;
        let data = page.get("data").and_then(Value::as_array).ok_or_else(|| format!("{url}: a list without data"))?;
        client.counted(data.len());
        out.extend(data.iter().cloned());
        next = page.pointer("/links/next").and_then(Value::as_str).filter(|n| *n != url).map(str::to_owned);
    }
    Ok(out)
}

fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.query_pairs_mut().extend_pairs(pairs);
            u.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

pub(super) async fn walk(
    client: &mut Client<'_>,
    source: &SourceRecord,
    since: Option<OffsetDateTime>,
) -> Result<Walk, String> {
    // OParl writes date-times with a numeric offset (`+00:00`), never `Z`.
    let since = since
        .map(|t| {
            t.to_offset(time::UtcOffset::UTC)
                .format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+00:00"))
        })
        .transpose()
        .map_err(|e| e.to_string())?;
    let mut walk = Walk::default();
    let system = get(client, &source.url).await?;
    let bodies_url = system.get("body").and_then(Value::as_str).ok_or("the System object has no body list")?;
    // Bodies are few: always the whole list, so a body that is gone is seen to be gone.
    for body in list(client, bodies_url, None).await? {
        let Some(bid) = body.get("id").and_then(Value::as_str).map(str::to_owned) else {
            walk.reject("?", "a body without id");
            continue;
        };
        if body.get("deleted").and_then(Value::as_bool) == Some(true) {
            walk.deleted.push((Kind::Organisation, bid));
            continue;
        }
        let ags = body
            .get("ags")
            .and_then(Value::as_str)
            .filter(|a| check_ags(a))
            .map(str::to_owned)
            .or_else(|| source.municipality.clone());
        walk.add(Kind::Organisation, bid.clone(), organisation(&body, ags.as_deref()));
        for (key, kind) in [("meeting", Kind::Event), ("paper", Kind::Paper)] {
            let Some(url) = body.get(key).and_then(Value::as_str) else {
                continue;
            };
            for item in list(client, url, since.as_deref()).await? {
                let Some(id) = item.get("id").and_then(Value::as_str).map(str::to_owned) else {
                    walk.reject("?", format!("an object of {key} without id"));
                    continue;
                };
                if item.get("deleted").and_then(Value::as_bool) == Some(true) {
                    walk.deleted.push((kind, id));
                } else if kind == Kind::Event {
                    walk.add(kind, id, event(&item));
                } else {
                    walk.add(kind, id, paper(&item, ags.as_deref()));
                }
            }
        }
    }
    walk.complete = vec![Kind::Organisation];
    if since.is_none() {
        walk.complete.extend([Kind::Event, Kind::Paper]);
    }
    Ok(walk)
}

fn time_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).and_then(datetime)
}

fn organisation(b: &Value, ags: Option<&str>) -> Value {
    let mut out = json!({"municipality": ags, "updated_at": time_of(b, "modified")});
    if let Some(t) = text("de", b.get("name").and_then(Value::as_str)) {
        out["name"] = t;
    }
    if let Some(w) = b.get("website").and_then(Value::as_str).filter(|w| w.starts_with("http")) {
        out["url"] = json!(w);
    }
    out
}

fn event(m: &Value) -> Value {
    let mut out = json!({"start": time_of(m, "start"), "end": time_of(m, "end"), "updated_at": time_of(m, "modified")});
    if let Some(t) = text("de", m.get("name").and_then(Value::as_str)) {
        out["title"] = t;
    }
    // An embedded Location (a URL instead says no more than where to fetch it).
    if let Some(location) = m.get("location").filter(|l| l.is_object()) {
        let name = location.get("description").and_then(Value::as_str).map(str::trim).filter(|d| !d.is_empty());
        let address: Vec<&str> = ["streetAddress", "postalCode", "locality"]
            .iter()
            .filter_map(|k| location.get(*k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()))
            .collect();
        let point = location
            .get("geojson")
            .and_then(|g| {
                if g.get("type").and_then(Value::as_str) == Some("Feature") { g.get("geometry") } else { Some(g) }
            })
            .filter(|g| g.get("type").and_then(Value::as_str) == Some("Point"));
        if name.is_some() || !address.is_empty() || point.is_some() {
            let mut place = json!({});
            if let Some(n) = name {
                place["name"] = json!(n);
            }
            if !address.is_empty() {
                place["address"] = json!(address.join(" "));
            }
            if let Some(p) = point {
                place["location"] = p.clone();
            }
            out["place"] = place;
        }
    }
    if m.get("cancelled").and_then(Value::as_bool) == Some(true) {
        out["cancelled"] = json!(true);
    }
    out
}

fn paper(p: &Value, ags: Option<&str>) -> Value {
    let mut out = json!({"updated_at": time_of(p, "modified")});
    if let Some(t) = text("de", p.get("name").and_then(Value::as_str)) {
        out["title"] = t;
    }
    for (from, to) in [("reference", "reference"), ("paperType", "paper_type")] {
        if let Some(v) = p.get(from).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty()) {
            out[to] = json!(v);
        }
    }
    if let Some(d) = p.get("date").and_then(Value::as_str).and_then(|d| d.get(..10)) {
        out["date"] = json!(d);
    }
    if let Some(w) = p.get("web").and_then(Value::as_str).filter(|w| w.starts_with("http")) {
        out["url"] = json!(w);
    }
    if let Some(f) = p.pointer("/mainFile/accessUrl").and_then(Value::as_str).filter(|f| f.starts_with("http")) {
        out["file_url"] = json!(f);
    }
    if let Some(a) = ags {
        out["municipality"] = json!(a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mitsprache_standard::Record;

    /// The paper of connectors-verified.md §8, with a main file.
    #[test]
    fn an_oparl_paper_maps_to_a_paper() {
        let p = json!({"id":"https://ris.example.de/oparl/v1.1/paper/4711","type":"https://schema.oparl.org/1.1/Paper",
            "name":"Bebauungsplan Nr. 112","reference":"BV/2025/0815","paperType":"Beschlussvorlage","date":"2025-09-30",
            "mainFile":{"id":"https://ris.example.de/oparl/v1.1/file/1","accessUrl":"https://ris.example.de/f/1.pdf"},
            "web":"https://ris.example.de/vo/4711","created":"2025-09-30T10:12:00+02:00","modified":"2025-10-02T08:00:00+02:00"});
        let Record::Paper(paper) = Record::parse(Kind::Paper, paper(&p, Some("05315000"))).unwrap() else { panic!() };
        assert_eq!(paper.reference.as_deref(), Some("BV/2025/0815"));
        assert_eq!(paper.date.as_deref(), Some("2025-09-30"));
        assert_eq!(paper.file_url.as_deref(), Some("https://ris.example.de/f/1.pdf"));
    }

    #[test]
    fn a_meeting_keeps_its_place_and_cancellation() {
        let m = json!({"name":"Rat","start":"2026-01-12T17:00:00+01:00","modified":"2025-12-02T10:00:00+01:00","cancelled":true,
            "location":{"description":"Ratssaal","streetAddress":"Rathausplatz 2","postalCode":"50667","locality":"Köln",
                "geojson":{"type":"Feature","geometry":{"type":"Point","coordinates":[6.95866,50.93814]},"properties":{}}}});
        let e = event(&m);
        assert_eq!(e["place"]["address"], "Rathausplatz 2 50667 Köln");
        assert_eq!(e["place"]["location"]["coordinates"], json!([6.95866, 50.93814]));
        let Record::Event(ev) = Record::parse(Kind::Event, e).unwrap() else { panic!() };
        assert_eq!(ev.extra.get("cancelled"), Some(&json!(true)));
    }
}
