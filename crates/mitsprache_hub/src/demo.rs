//! Generated demo data for trying the portal and for its benchmark (`mitsprache demo generate`):
//! processes and contributions of the data standard, under the source `demo`, written the way
//! pushed records are (checked by the standard, in transactions of 1,000). The data is seeded,
//! so the same command writes the same records; every title says it is an example, so nobody
//! takes it for a real process of a real municipality.

use crate::data::new_record;
use crate::{Hub, Result};
use mitsprache_standard::{Kind, Record};
use mitsprache_store::Provenance;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The source name of generated records; `demo generate` replaces what it wrote before.
pub const SOURCE: &str = "demo";
const BATCH: usize = 1_000;

/// What a generation wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoReport {
    pub processes: u64,
    pub contributions: u64,
}

/// xorshift64*: enough for spreading demo data, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const TOPICS: [&str; 10] =
    ["Verkehr", "Klima", "Wohnen", "Schule", "Spielplatz", "Radverkehr", "Grünflächen", "Kultur", "Sport", "Haushalt"];
const PLACES: [&str; 8] =
    ["Marktplatz", "Bahnhof", "Stadtpark", "Hafen", "Altstadt", "Nordviertel", "Ufer", "Schulhof"];
const STATUSES: [&str; 5] = ["received", "in-review", "accepted", "rejected", "implemented"];

impl Hub {
    /// Writes `processes` processes in 400 municipalities and `contributions` contributions
    /// spread over them, replacing earlier demo records of the same ids.
    pub async fn generate_demo(&self, processes: u64, contributions: u64, seed: u64) -> Result<DemoReport> {
        let mut rng = Rng(seed.max(1));
        let now = self.now();
        let types: Vec<String> = self.catalogue().taxonomy.process_types.iter().map(|t| t.key.clone()).collect();
        let via = Provenance { via: "demo".into(), fetched_at: now };
        let mut batch = Vec::with_capacity(BATCH);
        for i in 0..processes {
            let record = demo_process(&mut rng, i, now, &types)?;
            batch.push(new_record(SOURCE, &format!("p{i}"), &record));
            if batch.len() == BATCH {
                self.store().data().apply(&batch, &via).await?;
                batch.clear();
            }
        }
        for i in 0..contributions {
            let process = rng.below(processes.max(1));
            let record = demo_contribution(&mut rng, i, process, now)?;
            batch.push(new_record(SOURCE, &format!("c{i}"), &record));
            if batch.len() == BATCH {
                self.store().data().apply(&batch, &via).await?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            self.store().data().apply(&batch, &via).await?;
        }
        self.store().analyze().await?;
        Ok(DemoReport { processes, contributions: if processes == 0 { 0 } else { contributions } })
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// 400 municipality keys over the 16 Länder (made-up district and municipality digits).
fn municipality(n: u64) -> String {
    format!("{:02}{:03}{:03}", n % 16 + 1, 100 + n / 16 % 25, 0)
}

fn demo_process(rng: &mut Rng, i: u64, now: OffsetDateTime, types: &[String]) -> Result<Record> {
    // Phases from two years ago to a year ahead: about 40 % closed, 40 % open, 20 % upcoming.
    let start = now - Duration::days(730) + Duration::days(rng.below(1_000) as i64);
    let length = Duration::days(14 + rng.below(120) as i64);
    let end = start + length;
    let status = if end < now {
        "closed"
    } else if start > now {
        "upcoming"
    } else {
        "open"
    };
    let m = rng.below(400);
    // A point inside Germany's bounding box.
    let (lon, lat) = (6.0 + rng.below(900_000) as f64 / 100_000.0, 47.5 + rng.below(750_000) as f64 / 100_000.0);
    let topic = *rng.pick(&TOPICS);
    let place = *rng.pick(&PLACES);
    let doc = json!({
        "title": {"de": format!("Beispielverfahren {i}: {topic} am {place}"), "en": format!("Example process {i}: {topic}")},
        "description": {"de": format!("Generierte Beispieldaten (mitsprache demo generate), kein echtes Verfahren. Thema: {topic}.")},
        "status": status,
        "phases": [
            {"title": {"de": "Ideen sammeln", "en": "Collecting ideas"}, "start": rfc3339(start), "end": rfc3339(start + length / 2)},
            {"title": {"de": "Abstimmung", "en": "Voting"}, "start": rfc3339(start + length / 2), "end": rfc3339(end)}
        ],
        "topics": [topic, *rng.pick(&TOPICS)],
        "process_type": types.get(rng.below(types.len() as u64) as usize),
        "municipality": municipality(m),
        "url": format!("https://beteiligung.example/demo/p{i}"),
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "updated_at": rfc3339(start),
    });
    parse(Kind::Process, doc)
}

fn demo_contribution(rng: &mut Rng, i: u64, process: u64, now: OffsetDateTime) -> Result<Record> {
    let created = now - Duration::days(730) + Duration::minutes(rng.below(730 * 24 * 60) as i64);
    let place = *rng.pick(&PLACES);
    let doc = json!({
        "process": format!("p{process}"),
        "kind": "idea",
        "title": {"de": format!("Beispielbeitrag {i}: mehr Bänke am {place}")},
        "text": {"de": "Generierte Beispieldaten, kein echter Beitrag."},
        "status": *rng.pick(&STATUSES),
        "votes": {"up": rng.below(60), "down": rng.below(10)},
        "created_at": rfc3339(created),
        "updated_at": rfc3339(created),
    });
    parse(Kind::Contribution, doc)
}

/// The generated documents are valid by construction; a failure here is a bug in this file.
fn parse(kind: Kind, doc: Value) -> Result<Record> {
    Record::parse(kind, doc)
        .map_err(|e| crate::Error::Internal(format!("generated demo {} is invalid: {:?}", kind.as_str(), e.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_records_are_valid_and_seeded() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let types = vec!["consultation".to_owned(), "budget".to_owned()];
        let (mut a, mut b) = (Rng(7), Rng(7));
        for i in 0..200 {
            assert_eq!(demo_process(&mut a, i, now, &types).unwrap(), demo_process(&mut b, i, now, &types).unwrap());
            assert_eq!(demo_contribution(&mut a, i, 3, now).unwrap(), demo_contribution(&mut b, i, 3, now).unwrap());
        }
        assert!((0..400).all(|m| mitsprache_standard::check_ags(&municipality(m))));
    }
}
