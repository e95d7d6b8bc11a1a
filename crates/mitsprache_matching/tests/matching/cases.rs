//! Data-driven cases: one folder per case under `tests/cases/` with `profile.json`,
//! `expected.json` and optionally `catalogue.json` (otherwise the bundled catalogue is used).
//! A new case is a new folder; `check` compares what `expected.json` states and nothing else.

use mitsprache_catalogue::{Catalogue, CatalogueItem, bundled, parse_document};
use mitsprache_matching::{Limits, MatchIndex, MatchResult, Profile, run, run_with};
use serde_json::Value;
use std::path::Path;

fn load_catalogue(dir: &Path) -> Catalogue {
    let bundled = bundled::document().unwrap();
    let taxonomy = bundled.taxonomy.clone().unwrap();
    match std::fs::read_to_string(dir.join("catalogue.json")) {
        Ok(text) => match parse_document(&text).unwrap() {
            CatalogueItem::Document(d) => Catalogue::new(1, d.taxonomy.unwrap_or(taxonomy), d.tools, d.interfaces),
            other => panic!("catalogue.json must be a catalogue document, got {other:?}"),
        },
        Err(_) => Catalogue::new(1, taxonomy, bundled.tools, bundled.interfaces),
    }
}

fn slugs(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

fn check(name: &str, result: &MatchResult, expected: &Value) {
    let ranked: Vec<&str> = result.ranked.iter().map(|r| r.tool.as_str()).collect();
    if let Some(e) = expected.get("ranked") {
        assert_eq!(ranked, slugs(e), "{name}: ranked");
    }
    if let Some(e) = expected.get("excluded").and_then(Value::as_object) {
        for (tool, failed) in e {
            let x = result
                .excluded
                .iter()
                .find(|x| &x.tool == tool)
                .unwrap_or_else(|| panic!("{name}: {tool} not excluded"));
            let got: Vec<u64> = x.failed.iter().map(|f| f.criterion as u64).collect();
            let want: Vec<u64> = failed.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
            assert_eq!(got, want, "{name}: knock-outs failed by {tool}");
        }
    }
    if let Some(e) = expected.get("excluded_contains") {
        for tool in slugs(e) {
            assert!(result.excluded.iter().any(|x| x.tool == tool), "{name}: {tool} should be excluded");
        }
    }
    if let Some(e) = expected.get("unknown_failures").and_then(Value::as_object) {
        for (tool, idx) in e {
            let x = result.excluded.iter().find(|x| &x.tool == tool).unwrap();
            let unknown: Vec<u64> = x.failed.iter().filter(|f| f.unknown).map(|f| f.criterion as u64).collect();
            let want: Vec<u64> = idx.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
            assert_eq!(unknown, want, "{name}: unknown failures of {tool}");
        }
    }
    if let Some(e) = expected.get("to_check").and_then(Value::as_object) {
        for (tool, n) in e {
            let r =
                result.ranked.iter().find(|r| &r.tool == tool).unwrap_or_else(|| panic!("{name}: {tool} not ranked"));
            assert_eq!(r.to_check.len() as u64, n.as_u64().unwrap(), "{name}: to check for {tool}: {:?}", r.to_check);
        }
    }
    if let Some(e) = expected.get("points").and_then(Value::as_object) {
        for (tool, p) in e {
            let r = result.ranked.iter().find(|r| &r.tool == tool).unwrap();
            assert!((r.points - p.as_f64().unwrap()).abs() < 1e-6, "{name}: points of {tool}: {}", r.points);
        }
    }
    if let Some(e) = expected.get("equivalent") {
        let got: Vec<String> = result.ranked.iter().filter(|r| r.equivalent).map(|r| r.tool.clone()).collect();
        assert_eq!(got, slugs(e), "{name}: equivalent within the 10 % band");
    }
    if let Some(e) = expected.get("relaxations") {
        let got: Vec<Vec<usize>> = result.relaxations.iter().map(|r| r.relax.clone()).collect();
        let want: Vec<Vec<usize>> = serde_json::from_value(e.clone()).unwrap();
        assert_eq!(got, want, "{name}: relaxations");
    }
    if let Some(e) = expected.get("relaxation_admits").and_then(Value::as_object) {
        for (key, tools) in e {
            let relax: Vec<usize> = key.split(',').map(|k| k.parse().unwrap()).collect();
            let r = result.relaxations.iter().find(|r| r.relax == relax).unwrap();
            assert_eq!(r.admits, slugs(tools), "{name}: admitted by relaxing {key}");
        }
    }
    if let Some(e) = expected.get("toolkits_first") {
        let want: Vec<Vec<String>> = serde_json::from_value(e.clone()).unwrap();
        let got: Vec<Vec<String>> = result.toolkits.iter().take(want.len()).map(|t| t.members.clone()).collect();
        assert_eq!(got, want, "{name}: best toolkits");
    }
    if let Some(e) = expected.get("toolkits_exclude_member").and_then(Value::as_str) {
        assert!(!result.toolkits.is_empty(), "{name}: toolkits expected");
        assert!(
            result.toolkits.iter().all(|t| !t.members.iter().any(|m| m == e)),
            "{name}: {e} fails a tool-level knock-out"
        );
    }
}

#[test]
fn every_case_folder_gives_its_expected_result() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut dirs: Vec<_> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    assert!(dirs.len() >= 6);
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let catalogue = load_catalogue(&dir);
        let profile: Profile =
            serde_json::from_str(&std::fs::read_to_string(dir.join("profile.json")).unwrap()).unwrap();
        assert_eq!(profile.check(&catalogue), vec![], "{name}: profile");
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
        // Every tool spelled out: the bundled catalogue has more excluded tools than the default lists.
        let all = |p: &Profile| run_with(p, &catalogue, &MatchIndex::new(&catalogue), Limits::ALL);
        let result = all(&profile);
        check(&name, &result, &expected);
        // Deterministic: the same input gives the same output.
        assert_eq!(result, all(&profile), "{name}: deterministic");
    }
}

#[test]
fn explanations_say_why_in_both_languages() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/weighted-ranking-and-ratio");
    let catalogue = load_catalogue(&dir);
    let profile: Profile = serde_json::from_str(&std::fs::read_to_string(dir.join("profile.json")).unwrap()).unwrap();
    let result = run(&profile, &catalogue);
    let a = &result.ranked[0];
    let training = &a.criteria[0].explanation;
    assert_eq!(
        training.de,
        "Schulungsaufwand: 20 Stunden (0 Stunden = 10 Punkte, ab 100 Stunden 0) → 8/10 × 30 Gewichtungspunkte = 240"
    );
    assert_eq!(
        training.en.as_deref(),
        Some("Training effort: 20 hours (0 hours = 10 points, 0 from 100 hours) → 8/10 × 30 weight points = 240")
    );
    assert_eq!(result.max_points, 400.0);
}

#[test]
fn profiles_naming_unknown_things_are_rejected() {
    let catalogue = load_catalogue(Path::new("/nonexistent"));
    let profile: Profile = serde_json::from_value(serde_json::json!({
        "must": [{"criterion": "function", "key": "telepathy"}, {"criterion": "interface", "slug": "carrier-pigeon"}, {"criterion": "max-yearly-cost", "eur": -5}],
        "should": [{"weight": 5, "rule": "low-cost", "zero_at_eur": 0}],
        "context": {"years": 0}
    }))
    .unwrap();
    let fields: Vec<String> = profile.check(&catalogue).into_iter().map(|e| e.field).collect();
    assert_eq!(fields, vec!["context.years", "must[0].key", "must[1].slug", "must[2].eur", "should[0]"]);
}
