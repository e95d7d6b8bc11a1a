//! The standard's records in the formats other software reads: GeoJSON (RFC 7946) for maps,
//! Atom (RFC 4287) for feed readers, iCalendar (RFC 5545) for calendars (events, and the ends
//! of process phases as deadlines).

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{Record, Text};

/// A record as a feed lists it.
pub struct FeedItem<'a> {
    /// The hub's id.
    pub id: &'a str,
    /// The record in the hub's API.
    pub href: String,
    pub modified: OffsetDateTime,
    pub record: &'a Record,
    /// The record's JSON as the API answers it (envelope included).
    pub json: &'a Value,
}

fn title(record: &Record) -> Option<&Text> {
    match record {
        Record::Process(p) => Some(&p.title),
        Record::Contribution(c) => c.title.as_ref().or(c.text.as_ref()),
        Record::Event(e) => Some(&e.title),
        Record::Result(r) => r.decision.as_ref(),
        Record::Organisation(o) => Some(&o.name),
        Record::Paper(p) => Some(&p.title),
    }
}

fn summary(record: &Record) -> Option<&Text> {
    match record {
        Record::Process(p) => p.description.as_ref(),
        Record::Contribution(c) => c.text.as_ref(),
        Record::Event(e) => e.description.as_ref(),
        Record::Result(r) => r.decision.as_ref(),
        Record::Organisation(_) | Record::Paper(_) => None,
    }
}

/// The record's page in its tool, where it has one.
fn page(record: &Record) -> Option<&str> {
    match record {
        Record::Process(p) => p.url.as_deref(),
        Record::Event(e) => e.online_url.as_deref(),
        Record::Organisation(o) => o.url.as_deref(),
        Record::Paper(p) => p.url.as_deref(),
        Record::Contribution(_) | Record::Result(_) => None,
    }
}

fn geometry(record: &Record) -> Option<&Value> {
    match record {
        Record::Process(p) => p.geometry.as_ref(),
        Record::Contribution(c) => c.location.as_ref(),
        Record::Event(e) => e.place.as_ref().and_then(|p| p.location.as_ref()),
        Record::Result(_) | Record::Organisation(_) | Record::Paper(_) => None,
    }
}

/// A FeatureCollection: one Feature per record, its place as geometry (null without one), the
/// record as properties.
pub fn geojson(items: &[FeedItem]) -> Value {
    let features: Vec<Value> = items
        .iter()
        .map(|i| {
            let mut properties = match i.json {
                Value::Object(m) => m.clone(),
                _ => Map::new(),
            };
            properties.remove("geometry");
            json!({"type": "Feature", "id": i.id, "geometry": geometry(i.record), "properties": properties})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// An Atom feed of the records, newest change first as the items come.
pub fn atom(self_url: &str, feed_title: &str, lang: &str, items: &[FeedItem], now: OffsetDateTime) -> String {
    let updated = items.iter().map(|i| i.modified).max().unwrap_or(now);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str(&format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n<id>{}</id>\n<title>{}</title>\n<updated>{}</updated>\n\
         <link rel=\"self\" href=\"{}\"/>\n<author><name>mitsprache</name></author>\n",
        xml(lang),
        xml(self_url),
        xml(feed_title),
        rfc3339(updated),
        xml(self_url)
    ));
    for i in items {
        let t = title(i.record).map(|t| t.get(lang)).filter(|t| !t.is_empty()).unwrap_or(i.id);
        out.push_str(&format!(
            "<entry>\n<id>{}</id>\n<title>{}</title>\n<updated>{}</updated>\n<link rel=\"alternate\" href=\"{}\"/>\n",
            xml(&i.href),
            xml(t),
            rfc3339(i.modified),
            xml(page(i.record).unwrap_or(&i.href))
        ));
        if let Some(s) = summary(i.record).map(|s| s.get(lang)).filter(|s| !s.is_empty()) {
            out.push_str(&format!("<summary>{}</summary>\n", xml(s)));
        }
        out.push_str("</entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

fn ics_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// TEXT values escape backslash, semicolon, comma and newline (RFC 5545 §3.3.11).
fn ics_text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .map(|c| match c {
            '\\' => "\\\\".to_owned(),
            ';' => "\\;".to_owned(),
            ',' => "\\,".to_owned(),
            '\n' => "\\n".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A content line folded at 75 octets, never inside a UTF-8 sequence (RFC 5545 §3.1).
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// A calendar of the events among the records, and of the phase ends of the processes.
pub fn icalendar(host: &str, calendar_name: &str, lang: &str, items: &[FeedItem]) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//mitsprache//Beteiligung//DE".into(),
        "CALSCALE:GREGORIAN".into(),
        format!("X-WR-CALNAME:{}", ics_text(calendar_name)),
    ];
    let deadline = if lang == "de" { "Frist" } else { "Deadline" };
    for i in items {
        match i.record {
            Record::Event(e) => {
                lines.push("BEGIN:VEVENT".into());
                lines.push(format!("UID:{}@{host}", i.id));
                lines.push(format!("DTSTAMP:{}", ics_time(i.modified)));
                lines.push(format!("DTSTART:{}", ics_time(e.start)));
                if let Some(end) = e.end {
                    lines.push(format!("DTEND:{}", ics_time(end)));
                }
                lines.push(format!("SUMMARY:{}", ics_text(e.title.get(lang))));
                if let Some(d) = &e.description {
                    lines.push(format!("DESCRIPTION:{}", ics_text(d.get(lang))));
                }
                if let Some(p) = &e.place {
                    let place: Vec<&str> = [p.name.as_deref(), p.address.as_deref()].into_iter().flatten().collect();
                    if !place.is_empty() {
                        lines.push(format!("LOCATION:{}", ics_text(&place.join(", "))));
                    }
                    if let Some((lon, lat)) = p.location.as_ref().and_then(crate::point_position) {
                        lines.push(format!("GEO:{lat};{lon}"));
                    }
                }
                lines.push(format!("URL:{}", e.online_url.as_deref().unwrap_or(&i.href)));
                lines.push("END:VEVENT".into());
            }
            Record::Process(p) => {
                for (n, phase) in p.phases.iter().enumerate() {
                    let Some(end) = phase.end else { continue };
                    lines.push("BEGIN:VEVENT".into());
                    lines.push(format!("UID:{}-phase-{n}@{host}", i.id));
                    lines.push(format!("DTSTAMP:{}", ics_time(i.modified)));
                    lines.push(format!("DTSTART:{}", ics_time(end)));
                    lines.push(format!("DTEND:{}", ics_time(end)));
                    lines.push(format!(
                        "SUMMARY:{}",
                        ics_text(&format!("{deadline}: {} – {}", phase.title.get(lang), p.title.get(lang)))
                    ));
                    lines.push(format!("URL:{}", p.url.as_deref().unwrap_or(&i.href)));
                    lines.push("END:VEVENT".into());
                }
            }
            _ => {}
        }
    }
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for l in &lines {
        fold(l, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    fn record(kind: Kind, v: Value) -> Record {
        Record::parse(kind, v).unwrap()
    }

    #[test]
    fn lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        fold(&format!("SUMMARY:{}", "ä".repeat(60)), &mut out);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), format!("SUMMARY:{}", "ä".repeat(60)));
        assert_eq!(ics_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn calendars_atom_and_geojson() {
        let p = record(
            Kind::Process,
            json!({"title": {"de": "Rad & Fuß"}, "status": "open", "updated_at": "2026-05-01T00:00:00Z",
                "phases": [{"title": {"de": "Ideen"}, "end": "2026-06-30T23:59:00+02:00"}, {"title": {"de": "Offen"}}],
                "geometry": {"type": "Point", "coordinates": [7.0, 50.0]}}),
        );
        let e = record(
            Kind::Event,
            json!({"title": {"de": "Werkstatt, Teil 1"}, "start": "2026-05-10T18:00:00+02:00",
                "place": {"name": "Rathaus", "location": {"type": "Point", "coordinates": [7.1, 50.7]}}, "updated_at": "2026-05-01T00:00:00Z"}),
        );
        let now = time::macros::datetime!(2026-05-02 0:00 UTC);
        let pj = json!({"id": "p1", "geometry": {"type": "Point", "coordinates": [7.0, 50.0]}, "title": {"de": "Rad & Fuß"}});
        let ej = json!({"id": "e1"});
        let items = [
            FeedItem {
                id: "p1",
                href: "https://hub.example/api/v1/processes/p1".into(),
                modified: now,
                record: &p,
                json: &pj,
            },
            FeedItem {
                id: "e1",
                href: "https://hub.example/api/v1/events/e1".into(),
                modified: now,
                record: &e,
                json: &ej,
            },
        ];
        let ics = icalendar("hub.example", "Beteiligung", "de", &items);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
        assert!(ics.contains("DTSTART:20260630T215900Z\r\n"), "{ics}");
        assert!(ics.contains("SUMMARY:Frist: Ideen – Rad & Fuß\r\n"));
        assert!(ics.contains("SUMMARY:Werkstatt\\, Teil 1\r\n") && ics.contains("GEO:50.7;7.1\r\n"), "{ics}");
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2, "the open phase has no deadline");

        let feed = atom("https://hub.example/api/v1/processes.atom", "Beteiligung", "de", &items, now);
        assert!(feed.contains("<title>Rad &amp; Fuß</title>"), "{feed}");
        assert!(feed.contains("<updated>2026-05-02T00:00:00Z</updated>"));

        let geo = geojson(&items);
        assert_eq!(geo["features"][0]["geometry"]["type"], "Point");
        assert!(geo["features"][0]["properties"].get("geometry").is_none());
        assert_eq!(geo["features"][1]["geometry"]["coordinates"], json!([7.1, 50.7]));
    }
}
