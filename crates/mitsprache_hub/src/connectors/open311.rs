//! Open311 GeoReport v2 (Mängelmelder: Klarschiff, Mark-a-Spot, FixMyStreet, …): `services.json`
//! and `requests.json` under the base URL.
//!
//! Mapping: the endpoint is one process ("defect reports at HOST", process type
//! `public-space`); every service request is a `defect-report` contribution: `service_name` →
//! title, `description` → text, `long`/`lat` → location, `status` (or Klarschiff's
//! `extended_attributes.detailed_status`) → status, `requested_datetime`/`updated_datetime` →
//! created/updated, Klarschiff's `extended_attributes.votes` → votes. Not mapped: `address`,
//! `media_url`, `status_notes`, `agency_responsible`. No author: GeoReport has no public
//! reporter id, so these reports cannot be linked to a hub login.
//!
//! The spec answers at most 90 days per request (and servers cap a page, often at 1000), so a
//! sync walks the last 360 days in 90-day windows and halves a window that comes back full.
//! Open311 has no deletions: a request that leaves the windows stays as it was last seen. After
//! the first good sync, Klarschiff's `updated_after` asks only for what changed since.

use super::{Client, Walk, id_of, text};
use crate::ports::HttpRequest;
use mitsprache_standard::Kind;
use mitsprache_store::SourceRecord;
use serde_json::{Value, json};
use std::collections::HashMap;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

pub(super) const MAPPING: super::Mapping = super::Mapping {
    tool: "Open311 GeoReport v2",
    api: "REST, GET BASE/services.json and BASE/requests.json",
    fields: &[
        ("the endpoint", "one process, id service-requests, process_type public-space, topics = service names"),
        ("service_request_id", "contribution id, kind defect-report"),
        ("service_name (else services.json by service_code)", "contribution.title"),
        ("description", "contribution.text"),
        ("long, lat", "contribution.location (GeoJSON Point)"),
        (
            "status; Klarschiff extended_attributes.detailed_status",
            "contribution.status: open, closed; RECEIVED/PENDING → received, IN_PROCESS → in-review, PROCESSED → processed, REJECTED → rejected",
        ),
        ("requested_datetime, updated_datetime", "contribution.created_at, contribution.updated_at"),
        ("Klarschiff extended_attributes.votes", "contribution.votes.up"),
    ],
    unmapped: &["address", "media_url", "status_notes", "agency_responsible", "expected_datetime"],
    authors: (
        "Nicht möglich: GeoReport hat keine öffentliche Kennung der meldenden Person.",
        "Not possible: GeoReport has no public id of the person reporting.",
    ),
};

/// The external id of the one process an endpoint stands for.
const PROCESS_ID: &str = "service-requests";
const LOOKBACK_DAYS: i64 = 360;
const WINDOW_DAYS: i64 = 90;
/// A window with this many requests may have been cut off by the server: it is halved.
const FULL: usize = 1_000;

pub(super) async fn walk(
    client: &mut Client<'_>,
    source: &SourceRecord,
    now: OffsetDateTime,
    since: Option<OffsetDateTime>,
) -> Result<Walk, String> {
    let mut walk = Walk::default();
    // Klarschiff (CitySDK) answers only what changed after `updated_after`; a server without
    // the extension ignores it and answers everything, which is as correct, only larger.
    let changed = match since {
        Some(t) => format!("&updated_after={}", t.format(&Rfc3339).map_err(|e| e.to_string())?),
        None => String::new(),
    };
    let services: Value = client
        .send(HttpRequest::get(format!("{}/services.json", source.url)))
        .await?
        .json()
        .map_err(|e| format!("services.json: {e}"))?;
    let names: HashMap<String, String> = services
        .as_array()
        .ok_or("services.json is not a list")?
        .iter()
        .filter_map(|s| Some((id_of(s.get("service_code"))?, s.get("service_name")?.as_str()?.to_owned())))
        .collect();

    let mut windows: Vec<(OffsetDateTime, OffsetDateTime)> = (0..LOOKBACK_DAYS / WINDOW_DAYS)
        .map(|i| (now - Duration::days(WINDOW_DAYS * (i + 1)), now - Duration::days(WINDOW_DAYS * i)))
        .collect();
    let mut latest: Option<OffsetDateTime> = None;
    // Windows meet at their bounds, and servers include both: a request there comes twice.
    let mut seen = std::collections::HashSet::new();
    while let Some((start, end)) = windows.pop() {
        let url = format!(
            "{}/requests.json?start_date={}&end_date={}&status=open,closed{changed}",
            source.url,
            start.format(&Rfc3339).map_err(|e| e.to_string())?,
            end.format(&Rfc3339).map_err(|e| e.to_string())?
        );
        let requests: Value = client
            .send(HttpRequest::get(url).max_body(32 * 1024 * 1024))
            .await?
            .json()
            .map_err(|e| format!("requests.json: {e}"))?;
        let requests = requests.as_array().ok_or("requests.json is not a list")?;
        if requests.len() >= FULL && end - start > Duration::hours(1) {
            let middle = start + (end - start) / 2;
            windows.push((start, middle));
            windows.push((middle, end));
            continue;
        }
        client.counted(requests.len());
        for r in requests {
            let Some(id) = id_of(r.get("service_request_id")) else {
                walk.reject("?", "a service request without service_request_id");
                continue;
            };
            if !seen.insert(id.clone()) {
                continue;
            }
            let stamp = |k: &str| r.get(k).and_then(Value::as_str);
            if let Some(t) = stamp("updated_datetime").or(stamp("requested_datetime"))
                && let Ok(t) = OffsetDateTime::parse(t, &Rfc3339)
            {
                latest = latest.max(Some(t));
            }
            walk.add(Kind::Contribution, id, contribution(r, &names));
        }
    }

    // After an incremental walk that saw nothing, the process stays as it was.
    if since.is_some() && latest.is_none() {
        return Ok(walk);
    }
    let host = url::Url::parse(&source.url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    let mut process = json!({
        "title": {"de": format!("Mängelmeldungen ({host})"), "en": format!("Defect reports ({host})")},
        "status": "open",
        "process_type": "public-space",
        "topics": names.values().collect::<std::collections::BTreeSet<_>>(),
        "url": source.url,
        "updated_at": latest.unwrap_or(source.created_at).format(&Rfc3339).map_err(|e| e.to_string())?,
    });
    if let Some(m) = &source.municipality {
        process["municipality"] = json!(m);
    }
    walk.add(Kind::Process, PROCESS_ID.into(), process);
    Ok(walk)
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn contribution(r: &Value, names: &HashMap<String, String>) -> Value {
    let lang = "de";
    let service = r
        .get("service_name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| id_of(r.get("service_code")).and_then(|c| names.get(&c).cloned()));
    let detailed = r.pointer("/extended_attributes/detailed_status").and_then(Value::as_str);
    let status = match (detailed, r.get("status").and_then(Value::as_str)) {
        (Some("RECEIVED" | "PENDING"), _) => Some("received"),
        (Some("IN_PROCESS"), _) => Some("in-review"),
        (Some("PROCESSED"), _) => Some("processed"),
        (Some("REJECTED"), _) => Some("rejected"),
        (_, Some("open")) => Some("open"),
        (_, Some("closed")) => Some("closed"),
        _ => None,
    };
    let requested = r.get("requested_datetime").cloned().unwrap_or(Value::Null);
    let mut c = json!({
        "process": PROCESS_ID,
        "kind": "defect-report",
        "created_at": requested,
        "updated_at": r.get("updated_datetime").filter(|v| !v.is_null()).cloned().unwrap_or(requested),
    });
    if let Some(t) = text(lang, service.as_deref()) {
        c["title"] = t;
    }
    if let Some(t) = text(lang, r.get("description").and_then(Value::as_str)) {
        c["text"] = t;
    }
    if let (Some(lon), Some(lat)) = (number(r.get("long")), number(r.get("lat"))) {
        c["location"] = json!({"type": "Point", "coordinates": [lon, lat]});
    }
    if let Some(s) = status {
        c["status"] = json!(s);
    }
    if let Some(v) = r.pointer("/extended_attributes/votes").and_then(Value::as_u64) {
        c["votes"] = json!({"up": v, "down": 0});
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use mitsprache_standard::Record;

    /// Klarschiff's answer from connectors-verified.md §4.
    #[test]
    fn a_klarschiff_request_maps_to_a_defect_report() {
        let r = json!({"service_request_id":"254","status":"closed","status_notes":"Entsorgt.","service_code":"17",
            "service_name":"Wilde Müllkippe","description":"Abfälle im Grünstreifen.","agency_responsible":"Stadtentsorgung",
            "service_notice":null,"requested_datetime":"2025-11-21T11:17:49+01:00","updated_datetime":"2025-11-25T15:31:59+01:00",
            "expected_datetime":null,"address":"Hangelarer Weg, 53229 Bonn","address_id":null,"zipcode":null,
            "lat":50.754391,"long":7.148344,"media_url":null});
        let c = contribution(&r, &HashMap::new());
        let Record::Contribution(c) = Record::parse(Kind::Contribution, c).unwrap() else { panic!() };
        assert_eq!(c.title.unwrap().get("de"), "Wilde Müllkippe");
        assert_eq!(c.location.unwrap()["coordinates"], json!([7.148344, 50.754391]));
        assert_eq!(serde_json::to_value(c.status).unwrap(), json!("closed"));
        assert!(c.author.is_none());
    }

    #[test]
    fn a_request_without_a_time_is_rejected_by_the_standard() {
        let r = json!({"service_request_id": 9, "service_code": "17", "description": "x"});
        let names = HashMap::from([("17".to_owned(), "Müll".to_owned())]);
        let c = contribution(&r, &names);
        assert_eq!(c["title"]["de"], "Müll");
        assert!(Record::parse(Kind::Contribution, c).is_err());
    }
}
