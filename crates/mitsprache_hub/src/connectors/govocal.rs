//! Go Vocal (formerly CitizenLab) through its Public API v2 (`BASE/api/v2/…`), with an API
//! client's credentials, and its signed webhooks.
//!
//! Mapping: a project → process (phases from `/phases`, status from them, `archived` →
//! closed); an idea → contribution of its `type` (idea, proposal, survey → survey-response);
//! a comment → `comment` contribution answering its parent comment or its idea; an event →
//! event. The API flattens texts to the platform's first language; they are read as German.
//! Points come as PostGIS WKT (`POINT (lon lat)`). Not mapped: the idea status (a title the platform's
//! admins name, no code), budgets and baskets, volunteering, folders, custom fields. No author:
//! `author_id` is Go Vocal's user id; the hub's pairwise `sub` is only in Go Vocal's database.
//!
//! The first sync walks everything; later ones ask for ideas changed since the last good sync
//! (`updated_at=FROM,`) and for ideas deleted since (`/ideas/deleted`). Projects, phases, events
//! and comments are walked whole, their deletions seen by absence (a destroyed idea takes its
//! comments along without a deletion entry). A webhook
//! (`X-GoVocal-Signature`) brings the next sync forward.

use super::{Client, Walk, datetime, day_or_time, plain};
use crate::ports::HttpRequest;
use mitsprache_standard::Kind;
use mitsprache_store::SourceRecord;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(super) const MAPPING: super::Mapping = super::Mapping {
    tool: "Go Vocal",
    api: "Public API v2, BASE/api/v2/… (client credentials), webhooks with X-GoVocal-Signature",
    fields: &[
        ("Project.id, title, description_html", "process id, process.title, process.description (plain text)"),
        ("href, map_center_geojson, updated_at", "process.url, process.geometry, process.updated_at"),
        ("Phase title, start_at, end_at (by project_id)", "process.phases; process.status from them"),
        ("publication_status archived", "process.status closed"),
        ("Idea.id, type", "contribution id; kind idea, proposal, survey → survey-response"),
        ("title, body", "contribution.title, contribution.text (plain text)"),
        ("likes_count, dislikes_count", "contribution.votes.up, contribution.votes.down"),
        ("location_point (WKT POINT)", "contribution.location (GeoJSON Point)"),
        ("project_id", "contribution.process"),
        ("published_at (else created_at), updated_at", "contribution.created_at, contribution.updated_at"),
        ("Comment.id, body, parent_id (else idea_id)", "contribution id, kind comment, text, parent"),
        ("Event.id, title, description, start_at, end_at", "event id, title, description, start, end"),
        ("Event location, location_point (WKT)", "event.place.name, event.place.location"),
        ("/ideas/deleted; absent comments; not published", "tombstone"),
        ("texts (flattened to the platform's first language)", "language maps, read as de"),
    ],
    unmapped: &[
        "idea status (a title, no code)",
        "budgets, baskets",
        "volunteering",
        "project folders",
        "custom fields",
        "author_id",
    ],
    authors: (
        "Nicht möglich: author_id ist Go Vocals eigene Nutzer-ID; den paarweisen sub des Hubs kennt nur Go Vocals Datenbank.",
        "Not possible: author_id is Go Vocal's own user id; only Go Vocal's database knows the hub's pairwise sub.",
    ),
};

#[derive(serde::Deserialize)]
struct Credentials {
    client_id: String,
    client_secret: String,
}

/// The webhook secret of a Go Vocal source's credentials, if it has one.
pub(crate) fn webhook_secret(credentials: Option<&str>) -> Option<String> {
    let v: Value = serde_json::from_str(credentials?).ok()?;
    v.get("webhook_secret")?.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Whether `signature` (`sha256=<base64>`) is the HMAC-SHA256 of `body` under `secret`,
/// compared in constant time.
pub(crate) fn signed(secret: &str, body: &[u8], signature: &str) -> bool {
    use base64::Engine;
    let Some(given) = signature.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(given) else {
        return false;
    };
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    aws_lc_rs::hmac::verify(&key, body, &given).is_ok()
}

/// The most a list endpoint gives a page.
const PAGE: usize = 100;
const MAX_PAGES: u64 = 10_000;

struct Api<'c, 'h> {
    client: &'c mut Client<'h>,
    base: String,
    token: String,
}

impl Api<'_, '_> {
    async fn get(&mut self, path_and_query: &str) -> Result<Value, String> {
        let url = format!("{}/api/v2/{path_and_query}", self.base);
        let response = self.client.send(HttpRequest::get(url).bearer(&self.token).max_body(32 * 1024 * 1024)).await?;
        response.json().map_err(|e| e.to_string())
    }

    /// Every item of a list endpoint, page by page.
    async fn all(&mut self, root: &str, filter: &str) -> Result<Vec<Value>, String> {
        self.all_at(root, root, filter).await
    }

    async fn all_at(&mut self, path: &str, root: &str, filter: &str) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let body = self.get(&format!("{path}?page_size={PAGE}&page_number={page}{filter}")).await?;
            let items =
                body.get(root).and_then(Value::as_array).ok_or_else(|| format!("{root}: no list in the answer"))?;
            self.client.counted(items.len());
            out.extend(items.iter().cloned());
            let total = body.pointer("/meta/total_pages").and_then(Value::as_u64).unwrap_or(page);
            if page >= total || items.is_empty() {
                return Ok(out);
            }
        }
        Err(format!("{root}: more than {MAX_PAGES} pages"))
    }

    /// What the platform deleted since `since` (an activity log, paged like every list).
    async fn deleted(&mut self, root: &str, since: &str) -> Result<Vec<String>, String> {
        let items = self.all_at(&format!("{root}/deleted"), "deleted_items", &format!("&deleted_at={since},")).await?;
        Ok(items.iter().filter_map(|i| i.get("id").and_then(Value::as_str)).map(str::to_owned).collect())
    }
}

pub(super) async fn walk(
    client: &mut Client<'_>,
    source: &SourceRecord,
    now: OffsetDateTime,
    since: Option<OffsetDateTime>,
) -> Result<Walk, String> {
    let credentials: Credentials = source
        .credentials
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .ok_or("Go Vocal needs a credentials file with client_id and client_secret")?;
    let auth = json!({"auth": {"client_id": credentials.client_id, "client_secret": credentials.client_secret}});
    let response = client
        .send(HttpRequest::post_json(format!("{}/api/v2/authenticate", source.url), auth))
        .await
        .map_err(|e| format!("authentication: {e}"))?;
    let token: Value = response.json().map_err(|e| e.to_string())?;
    let token = token.get("jwt").and_then(Value::as_str).ok_or("authentication: no jwt in the answer")?.to_owned();
    let mut api = Api { client, base: source.url.clone(), token };
    let mut walk = Walk::default();

    let mut phases: HashMap<String, Vec<Value>> = HashMap::new();
    for phase in api.all("phases", "").await? {
        if let Some(project) = phase.get("project_id").and_then(Value::as_str) {
            phases.entry(project.to_owned()).or_default().push(phase.clone());
        }
    }
    for p in api.all("projects", "").await? {
        match p.get("id").and_then(Value::as_str) {
            Some(id) => {
                let record = process(&p, phases.get(id).map(Vec::as_slice).unwrap_or_default(), source, now);
                walk.add(Kind::Process, id.to_owned(), record);
            }
            None => walk.reject("?", "a project without id"),
        }
    }
    for e in api.all("events", "").await? {
        match e.get("id").and_then(Value::as_str) {
            Some(id) => walk.add(Kind::Event, id.to_owned(), event(&e)),
            None => walk.reject("?", "an event without id"),
        }
    }
    walk.complete = vec![Kind::Process, Kind::Event];

    // Ideas are asked for by change, their deletions from the activity log. Comments are walked
    // whole: destroying an idea destroys its comments without an entry in that log, so only
    // their absence tells.
    let since = since.map(|t| t.format(&Rfc3339)).transpose().map_err(|e| e.to_string())?;
    let filter = since.as_ref().map(|s| format!("&updated_at={s},")).unwrap_or_default();
    for (root, filter, map) in [("ideas", filter.as_str(), idea as fn(&Value) -> Value), ("comments", "", comment)] {
        for item in api.all(root, filter).await? {
            let Some(id) = item.get("id").and_then(Value::as_str).map(str::to_owned) else {
                walk.reject("?", format!("an item of {root} without id"));
                continue;
            };
            // A draft or hidden item is not public: it is gone for the hub.
            match item.get("publication_status").and_then(Value::as_str) {
                Some("published") | None => walk.add(Kind::Contribution, id, map(&item)),
                Some(_) => walk.deleted.push((Kind::Contribution, id)),
            }
        }
    }
    match &since {
        Some(since) => {
            for id in api.deleted("ideas", since).await? {
                walk.deleted.push((Kind::Contribution, id));
            }
        }
        // A full walk saw every idea and comment.
        None => walk.complete.push(Kind::Contribution),
    }
    Ok(walk)
}

/// A multiloc (`{"de-DE": …, "en": …}`, HTML made plain) or a text the API flattened to one
/// language (read as German).
fn multiloc(v: Option<&Value>) -> Option<Value> {
    let mut out = Map::new();
    match v? {
        Value::String(s) => {
            let s = plain(s);
            if !s.is_empty() {
                out.insert("de".into(), json!(s));
            }
        }
        Value::Object(m) => {
            for (lang, text) in m {
                if let Some(t) = text.as_str().map(plain).filter(|t| !t.is_empty()) {
                    out.insert(lang.clone(), json!(t));
                }
            }
        }
        _ => {}
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// A point as the API writes it: PostGIS's WKT (`POINT (7.09 50.73)`), or GeoJSON.
fn point(v: Option<&Value>) -> Option<Value> {
    match v? {
        Value::String(wkt) => {
            let inner = wkt.trim().strip_prefix("POINT")?.trim().strip_prefix('(')?.strip_suffix(')')?;
            let mut numbers = inner.split_whitespace().map(str::parse::<f64>);
            let (Some(Ok(lon)), Some(Ok(lat)), None) = (numbers.next(), numbers.next(), numbers.next()) else {
                return None;
            };
            Some(json!({"type": "Point", "coordinates": [lon, lat]}))
        }
        g @ Value::Object(_) if g.get("type").and_then(Value::as_str) == Some("Point") => Some(g.clone()),
        _ => None,
    }
}

fn time_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).and_then(datetime)
}

/// A phase's day (`2025-05-01`) or time, at the start or the end of that day.
fn day(v: &Value, key: &str, end: bool) -> Option<String> {
    day_or_time(v.get(key)?.as_str()?, end)
}

fn process(p: &Value, phases: &[Value], source: &SourceRecord, now: OffsetDateTime) -> Value {
    let mut phases: Vec<Value> = phases
        .iter()
        .map(|ph| {
            json!({
                "title": multiloc(ph.get("title")).unwrap_or_else(|| json!({"de": "Phase"})),
                "start": day(ph, "start_at", false),
                "end": day(ph, "end_at", true),
            })
        })
        .collect();
    phases.sort_by(|a, b| a["start"].as_str().cmp(&b["start"].as_str()));
    let at = |v: &Value| v.as_str().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok());
    let starts: Vec<_> = phases.iter().filter_map(|ph| at(&ph["start"])).collect();
    // A phase without an end is open-ended.
    let ended = !phases.is_empty() && phases.iter().all(|ph| at(&ph["end"]).is_some_and(|e| e < now));
    let status = if p.get("publication_status").and_then(Value::as_str) == Some("archived") || ended {
        "closed"
    } else if !starts.is_empty() && starts.iter().all(|s| *s > now) {
        "upcoming"
    } else {
        "open"
    };
    let mut out = json!({"status": status, "phases": phases, "updated_at": time_of(p, "updated_at")});
    if let Some(t) = multiloc(p.get("title")) {
        out["title"] = t;
    }
    if let Some(t) = multiloc(p.get("description_html").or(p.get("description_preview"))) {
        out["description"] = t;
    }
    if let Some(h) = p.get("href").and_then(Value::as_str) {
        out["url"] = json!(h);
    }
    if let Some(g) = p.get("map_center_geojson").filter(|g| g.is_object()) {
        out["geometry"] = g.clone();
    }
    if let Some(m) = &source.municipality {
        out["municipality"] = json!(m);
    }
    out
}

fn votes(v: &Value) -> Option<Value> {
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    (n("likes_count").is_some() || n("dislikes_count").is_some())
        .then(|| json!({"up": n("likes_count").unwrap_or(0), "down": n("dislikes_count").unwrap_or(0)}))
}

fn idea(i: &Value) -> Value {
    let kind = match i.get("type").and_then(Value::as_str) {
        Some("proposal") => "proposal",
        Some("survey") => "survey-response",
        _ => "idea",
    };
    let mut out = json!({
        "process": i.get("project_id"),
        "kind": kind,
        "created_at": time_of(i, "published_at").or_else(|| time_of(i, "created_at")),
        "updated_at": time_of(i, "updated_at"),
    });
    if let Some(t) = multiloc(i.get("title")) {
        out["title"] = t;
    }
    if let Some(t) = multiloc(i.get("body")) {
        out["text"] = t;
    }
    if let Some(v) = votes(i) {
        out["votes"] = v;
    }
    if let Some(g) = point(i.get("location_point")) {
        out["location"] = g;
    }
    out
}

fn comment(c: &Value) -> Value {
    let mut out = json!({
        "process": c.get("project_id"),
        "kind": "comment",
        "parent": c.get("parent_id").filter(|p| !p.is_null()).or(c.get("idea_id")),
        "created_at": time_of(c, "created_at"),
        "updated_at": time_of(c, "updated_at"),
    });
    if let Some(t) = multiloc(c.get("body")) {
        out["text"] = t;
    }
    if let Some(v) = votes(c) {
        out["votes"] = v;
    }
    out
}

fn event(e: &Value) -> Value {
    let mut out = json!({
        "process": e.get("project_id"),
        "start": time_of(e, "start_at"),
        "end": time_of(e, "end_at"),
        "updated_at": time_of(e, "updated_at"),
    });
    if let Some(t) = multiloc(e.get("title")) {
        out["title"] = t;
    }
    if let Some(t) = multiloc(e.get("description")) {
        out["description"] = t;
    }
    // `location` is what the organisers wrote: a room, an address, or both.
    let name = e.get("location").and_then(Value::as_str).map(str::trim).filter(|a| !a.is_empty());
    let location = point(e.get("location_point"));
    if name.is_some() || location.is_some() {
        let mut place = json!({});
        if let Some(n) = name {
            place["name"] = json!(n);
        }
        if let Some(l) = location {
            place["location"] = l;
        }
        out["place"] = place;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mitsprache_standard::Record;

    /// The idea of connectors-verified.md §5.
    #[test]
    fn a_go_vocal_idea_maps_to_a_contribution() {
        let i = json!({"id":"b1a7c0de","title":{"de-DE":"Wasserspielplatz"},"body":{"de-DE":"<p>Im Stadtpark.</p>"},
            "author_id":"4e0c","likes_count":12,"dislikes_count":1,"comments_count":3,"published_at":"2025-05-20T08:12:31.000Z",
            "publication_status":"published","project_id":"8c2b","updated_at":"2025-05-21T10:00:00.000Z",
            "location_point":"POINT (10.8869 49.8917)","status":"Angenommen","type":"idea"});
        let Record::Contribution(c) = Record::parse(Kind::Contribution, idea(&i)).unwrap() else { panic!() };
        assert_eq!(c.process, "8c2b");
        assert_eq!(c.text.unwrap().0.get("de-DE").unwrap(), "Im Stadtpark.");
        assert_eq!((c.votes.unwrap().up, c.votes.unwrap().down), (12, 1));
    }

    #[test]
    fn a_wkt_point_becomes_geojson() {
        assert_eq!(
            point(Some(&json!("POINT (7.0903 50.73)"))),
            Some(json!({"type": "Point", "coordinates": [7.0903, 50.73]}))
        );
        assert_eq!(point(Some(&json!("POINT(7 50)"))), Some(json!({"type": "Point", "coordinates": [7.0, 50.0]})));
        assert_eq!(point(Some(&json!("LINESTRING (7 50, 8 51)"))), None);
        assert_eq!(point(Some(&json!("POINT (7)"))), None);
        assert_eq!(point(Some(&Value::Null)), None);
    }

    #[test]
    fn a_webhook_signature_is_checked() {
        use base64::Engine;
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"geheim");
        let body = br#"{"event":"idea.created"}"#;
        let tag = aws_lc_rs::hmac::sign(&key, body);
        let header = format!("sha256={}", base64::engine::general_purpose::STANDARD.encode(tag.as_ref()));
        assert!(signed("geheim", body, &header));
        assert!(!signed("anders", body, &header));
        assert!(!signed("geheim", br#"{"event":"idea.changed"}"#, &header));
        assert!(!signed("geheim", body, header.trim_start_matches("sha256=")));
    }
}
