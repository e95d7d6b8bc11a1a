//! meinBerlin (liqd's a4-meinberlin on adhocracy4, Django REST Framework): `BASE/api/projects/`
//! and the contributions of each project's modules (`/api/modules/{pk}/ideas/`, `mapideas`,
//! `proposals`).
//!
//! No public API names a project's modules: the project page links them
//! (`/projekte/module/{slug}/`), and each module page names its list's API in the widget's
//! `data-attributes` (`{"apiUrl": …}`). The connector reads those two pages per project, and
//! follows only links on the source's own host.
//!
//! Mapping: a project → process (`title`, `description`, `status` 0/1/2 → open/upcoming/closed,
//! `url`, `point` → geometry, topic codes → topics, `created_or_modified`); an idea, map idea or
//! proposal → contribution (`name` → title, the ratings → votes, `point` → location,
//! `moderator_status` → status, `created`/`modified`). The lists carry no description text.
//! Not mapped: comments (a separate API with display-string dates), `creator`, budgets, the
//! Kiezradar (per person). No author: `creator` is a meinBerlin user name, not the hub's `sub`.
//!
//! No change filter exists: every sync walks everything (ordered by `-created`, as the default
//! order is shuffled daily) and deletes what is gone.

use super::{Client, Walk, datetime, plain, text};
use crate::ports::HttpRequest;
use mitsprache_standard::Kind;
use mitsprache_store::SourceRecord;
use serde_json::{Value, json};

pub(super) const MAPPING: super::Mapping = super::Mapping {
    tool: "meinBerlin (adhocracy4)",
    api: "REST, GET BASE/api/projects/ and /api/modules/{pk}/{ideas,mapideas,proposals}/ (module ids from the project and module pages)",
    fields: &[
        ("Project.id", "process id"),
        ("title, description", "process.title, process.description"),
        ("status 0, 1, 2", "process.status open, upcoming, closed"),
        ("url (relative)", "process.url"),
        ("point (a GeoJSON Feature)", "process.geometry"),
        ("topics (codes)", "process.topics"),
        ("created_or_modified", "process.updated_at"),
        ("Idea.pk (ideas, mapideas; proposals: kind proposal)", "contribution id, kind idea"),
        ("name", "contribution.title (the lists have no text)"),
        ("positive_rating_count, negative_rating_count", "contribution.votes"),
        ("point (map ideas)", "contribution.location"),
        (
            "moderator_status",
            "contribution.status: CONSIDERATION, QUALIFIED → in-review; ACCEPTED → accepted; REJECTED → rejected",
        ),
        ("created, modified", "contribution.created_at, contribution.updated_at (modified, else created)"),
        ("absent from the walk", "tombstone"),
    ],
    unmapped: &[
        "comments",
        "creator",
        "budget",
        "category and labels",
        "Kiezradar search profiles",
        "plans and external projects",
    ],
    authors: (
        "Nicht möglich: creator ist der meinBerlin-Nutzername, nicht der paarweise sub des Hubs.",
        "Not possible: creator is the meinBerlin user name, not the hub's pairwise sub.",
    ),
};

const MAX_PAGES: usize = 10_000;

/// A link of a page of the source, made absolute; `None` when it leads to another host.
fn on_source(base: &url::Url, link: &str) -> Option<url::Url> {
    let u = base.join(link).ok()?;
    (u.scheme() == base.scheme()
        && u.host_str() == base.host_str()
        && u.port_or_known_default() == base.port_or_known_default())
    .then_some(u)
}

async fn page(client: &mut Client<'_>, url: &str) -> Result<String, String> {
    let response = client.send(HttpRequest::get(url).max_body(8 * 1024 * 1024)).await?;
    Ok(String::from_utf8_lossy(&response.body).into_owned())
}

async fn json_at(client: &mut Client<'_>, url: &str) -> Result<Value, String> {
    client.send(HttpRequest::get(url).max_body(32 * 1024 * 1024)).await?.json().map_err(|e| format!("{url}: {e}"))
}

/// The values of `attr="…"` in `html`, in order.
fn attributes<'h>(html: &'h str, attr: &str) -> Vec<&'h str> {
    let needle = format!("{attr}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&needle) {
        let value = &rest[i + needle.len()..];
        let Some(end) = value.find('"') else { break };
        out.push(&value[..end]);
        rest = &value[end..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The module pages a project page links to.
fn module_links(html: &str) -> Vec<&str> {
    // A page may link a module twice (tile and text): each is walked once.
    let mut seen = std::collections::HashSet::new();
    attributes(html, "href").into_iter().filter(|h| h.contains("/projekte/module/") && seen.insert(*h)).collect()
}

/// The list API a module page's widget reads, and whether it lists proposals.
fn widget_api(html: &str) -> Option<(String, bool)> {
    let widget = attributes(html, "data-mb-widget").into_iter().next()?;
    let attrs: Value = serde_json::from_str(&unescape(attributes(html, "data-attributes").into_iter().next()?)).ok()?;
    let api = attrs.get("apiUrl")?.as_str()?.to_owned();
    Some((api, widget == "proposals"))
}

pub(super) async fn walk(client: &mut Client<'_>, source: &SourceRecord) -> Result<Walk, String> {
    let base = url::Url::parse(&format!("{}/", source.url)).map_err(|e| e.to_string())?;
    let projects = json_at(client, &format!("{}/api/projects/", source.url)).await?;
    let projects = projects.as_array().ok_or("/api/projects/ is not a list")?.clone();
    client.counted(projects.len());
    let mut walk = Walk::default();
    for p in &projects {
        let Some(pid) = p.get("id").and_then(|v| v.as_u64().map(|n| n.to_string())) else {
            walk.reject("?", "a project without id");
            continue;
        };
        let project_url = p.get("url").and_then(Value::as_str).and_then(|u| base.join(u).ok());
        walk.add(Kind::Process, pid.clone(), process(p, project_url.as_ref().map(url::Url::as_str), source));
        // External projects and plans live elsewhere: only the hub's own pages have modules.
        let Some(project_page) = project_url.filter(|u| on_source(&base, u.as_str()).is_some()) else {
            continue;
        };
        let html = page(client, project_page.as_str()).await?;
        for link in module_links(&html) {
            let Some(module) = on_source(&base, &unescape(link)) else { continue };
            let html = page(client, module.as_str()).await?;
            let Some((api, proposals)) = widget_api(&html) else { continue };
            let Some(mut next) = on_source(&base, &api) else { continue };
            next.query_pairs_mut().append_pair("ordering", "-created").append_pair("page_size", "100");
            for _ in 0..MAX_PAGES {
                let body = json_at(client, next.as_str()).await?;
                let results = body.get("results").and_then(Value::as_array).ok_or("a module list without results")?;
                client.counted(results.len());
                for idea in results {
                    match idea.get("pk").and_then(Value::as_u64) {
                        Some(pk) => walk.add(Kind::Contribution, pk.to_string(), contribution(idea, &pid, proposals)),
                        None => walk.reject("?", "a contribution without pk"),
                    }
                }
                match body.get("next").and_then(Value::as_str).and_then(|n| on_source(&base, n)) {
                    Some(n) => next = n,
                    None => break,
                }
            }
        }
    }
    walk.complete = vec![Kind::Process, Kind::Contribution];
    Ok(walk)
}

/// A GeoJSON Feature's geometry, or a geometry itself.
fn geometry(v: Option<&Value>) -> Option<Value> {
    let v = v?;
    let g = if v.get("type").and_then(Value::as_str) == Some("Feature") { v.get("geometry")? } else { v };
    g.get("type").and_then(Value::as_str).is_some().then(|| g.clone())
}

fn process(p: &Value, url: Option<&str>, source: &SourceRecord) -> Value {
    let status = match p.get("status").and_then(Value::as_u64) {
        Some(1) => "upcoming",
        Some(2) => "closed",
        _ => "open",
    };
    let topics: Vec<&str> = p
        .get("topics")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = json!({
        "status": status,
        "topics": topics,
        "updated_at": p.get("created_or_modified").and_then(Value::as_str).and_then(datetime),
    });
    if let Some(t) = text("de", p.get("title").and_then(Value::as_str)) {
        out["title"] = t;
    }
    if let Some(t) = text("de", p.get("description").and_then(Value::as_str).map(plain).as_deref()) {
        out["description"] = t;
    }
    if let Some(u) = url {
        out["url"] = json!(u);
    }
    if let Some(g) = geometry(p.get("point")) {
        out["geometry"] = g;
    }
    if let Some(m) = &source.municipality {
        out["municipality"] = json!(m);
    }
    out
}

fn contribution(i: &Value, process: &str, proposal: bool) -> Value {
    let created = i.get("created").and_then(Value::as_str).and_then(datetime);
    let modified = i.get("modified").and_then(Value::as_str).and_then(datetime);
    let status = match i.get("moderator_status").and_then(Value::as_str) {
        Some("CONSIDERATION" | "QUALIFIED") => Some("in-review"),
        Some("ACCEPTED") => Some("accepted"),
        Some("REJECTED") => Some("rejected"),
        _ => None,
    };
    let mut out = json!({
        "process": process,
        "kind": if proposal { "proposal" } else { "idea" },
        "created_at": created,
        "updated_at": modified.or(created),
    });
    if let Some(t) = text("de", i.get("name").and_then(Value::as_str)) {
        out["title"] = t;
    }
    let n = |k: &str| i.get(k).and_then(Value::as_u64);
    if n("positive_rating_count").is_some() || n("negative_rating_count").is_some() {
        out["votes"] =
            json!({"up": n("positive_rating_count").unwrap_or(0), "down": n("negative_rating_count").unwrap_or(0)});
    }
    if let Some(g) = geometry(i.get("point")).filter(|g| g.get("type").and_then(Value::as_str) == Some("Point")) {
        out["location"] = g;
    }
    if let Some(s) = status {
        out["status"] = json!(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mitsprache_standard::Record;

    #[test]
    fn module_ids_come_from_the_pages() {
        let project = r#"<ul><li><a href="/projekte/module/ideensammlung/" class="module-tile">x</a></li>
            <li><a href="/impressum/">Impressum</a></li><li><a href="/projekte/module/ideensammlung/">Ideen</a></li></ul>"#;
        assert_eq!(module_links(project), vec!["/projekte/module/ideensammlung/"]);
        let module = r#"<div data-mb-widget="map-ideas" data-attributes="{&quot;apiUrl&quot;: &quot;/api/modules/128/mapideas/&quot;}"></div>"#;
        assert_eq!(widget_api(module), Some(("/api/modules/128/mapideas/".to_owned(), false)));
        let base = url::Url::parse("https://mein.berlin.de/").unwrap();
        assert!(on_source(&base, "/api/modules/1/ideas/").is_some());
        assert!(on_source(&base, "https://elsewhere.example/api/").is_none());
    }

    /// The idea of connectors-verified.md §6 with an ISO date, as the serializer writes it.
    #[test]
    fn a_meinberlin_idea_maps_to_a_contribution() {
        let i = json!({"pk":901,"name":"Sitzbänke am Ufer","creator":"seniorenbeirat","created":"2025-05-12T10:00:00.123456+02:00",
            "modified":null,"reference_number":"2025-00901","url":"/ideas/2025-00901/","comment_count":3,
            "positive_rating_count":17,"negative_rating_count":1,"moderator_status":"CONSIDERATION"});
        let Record::Contribution(c) = Record::parse(Kind::Contribution, contribution(&i, "128", false)).unwrap() else {
            panic!()
        };
        assert_eq!((c.votes.unwrap().up, c.votes.unwrap().down), (17, 1));
        assert_eq!(serde_json::to_value(c.status).unwrap(), json!("in-review"));
        assert_eq!(c.created_at, c.updated_at);
    }
}
