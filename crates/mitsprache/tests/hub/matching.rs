//! The matching assistant: API, page and CSV.

use crate::helpers::{TestApp, assert_problem};
use serde_json::{Value, json};

pub async fn the_matching_api_ranks_explains_and_excludes(app: TestApp) {
    let profile = json!({
        "must": [{"criterion": "function", "key": "participatory-budgeting"}, {"criterion": "open-source"}],
        "should": [{"weight": 10, "rule": "languages", "tags": ["de", "en"]}],
        "suitability": [{"suitability": "references", "at_least": 3}]
    });
    let r = app.client.post(app.url("/api/v1/matching")).json(&profile).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let result: Value = r.json().await.unwrap();
    let ranked: Vec<&str> = result["ranked"].as_array().unwrap().iter().map(|t| t["tool"].as_str().unwrap()).collect();
    assert_eq!(ranked, ["adhocracy-plus", "consul-democracy", "decidim", "meinberlin"]);
    assert_eq!(
        result["ranked"][0]["criteria"][0]["explanation"]["de"],
        "Sprachen: 2 von 2 benötigten (de, en) → 10/10 × 10 Gewichtungspunkte = 100"
    );
    assert_eq!(
        result["summary"]["de"],
        format!("4 Werkzeuge erfüllen alle Muss-Kriterien, {} ausgeschlossen", result["total_excluded"])
    );
    // Suitability is reported, never scored: the points are the languages' alone.
    assert_eq!(result["ranked"][0]["points"], 100.0);
    assert!(result["ranked"][0]["suitability"][0]["explanation"]["en"].as_str().unwrap().starts_with("At least 3"));
    let go_vocal = result["excluded"].as_array().unwrap().iter().find(|x| x["tool"] == "go-vocal").unwrap();
    assert!(
        go_vocal["failed"].as_array().unwrap().iter().any(|f| f["explanation"]["en"] == "Open-source licence: not met")
    );
    assert_eq!(result["catalogue_revision"], 1);
}

pub async fn the_matching_api_rejects_impossible_profiles(app: TestApp) {
    let bad = json!({"must": [{"criterion": "function", "key": "telepathy"}], "context": {"years": 99}});
    let body = assert_problem(
        app.client.post(app.url("/api/v1/matching")).json(&bad).send().await.unwrap(),
        422,
        "validation-failed",
    )
    .await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["context.years", "must[0].key"]);
    let unknown_key = json!({"must": [{"criterion": "function", "key": "voting", "extra": 1}]});
    assert_problem(
        app.client.post(app.url("/api/v1/matching")).json(&unknown_key).send().await.unwrap(),
        422,
        "unprocessable",
    )
    .await;
    let array = app.client.post(app.url("/api/v1/matching")).json(&json!([])).send().await.unwrap();
    assert_problem(array, 422, "unprocessable").await;
    let empty: Value =
        app.client.post(app.url("/api/v1/matching")).json(&json!({})).send().await.unwrap().json().await.unwrap();
    assert_eq!(empty["max_points"].to_string(), "0.0", "no negative zero");
    let broken = app
        .client
        .post(app.url("/api/v1/matching"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(broken, 400, "invalid-body").await;
}

pub async fn the_assistant_page_works_without_javascript(app: TestApp) {
    let (status, form) = app.get_html("/marktplatz/assistent", "de").await;
    assert_eq!(status, 200);
    assert!(form.contains("name=\"f.participatory-budgeting\" value=\"must\""));
    assert!(!form.contains("Bewertungsmatrix</h3>"), "no result before the form is sent");
    let query =
        "/marktplatz/assistent?f.participatory-budgeting=must&f.map-contributions=should&must=open-source&run=1";
    let (status, result) = app.get_html(query, "de").await;
    assert_eq!(status, 200);
    assert!(result.contains("<h3 class=\"kern-heading-small\">Bewertungsmatrix</h3>"));
    assert!(result.contains("<a href=\"/marktplatz/werkzeuge/decidim\">Decidim</a> – "));
    assert!(result.contains("Ausgeschlossene Werkzeuge"));
    assert!(result.contains("Open-Source-Lizenz: nicht erfüllt"));
    assert!(
        result.contains(
            "id=\"f-participatory-budgeting-must\" name=\"f.participatory-budgeting\" value=\"must\" checked"
        ),
        "the form keeps the profile"
    );
    assert!(result.contains("Katalogstand (Revision)"));
    // The shared link reproduces the same result.
    let (_, again) = app.get_html(query, "de").await;
    assert_eq!(result, again);
}

pub async fn the_assistant_suggests_relaxations_and_toolkits(app: TestApp) {
    let (_, html) =
        app.get_html("/marktplatz/assistent?f.participatory-budgeting=must&must=hosted-in-germany&run=1", "en").await;
    assert!(html.contains("No tool meets every must criterion"), "{html}");
    assert!(html.contains("What would have to be relaxed (never a required function)"));
    // Few tools publish where they are hosted: relaxing that admits the budgeting tools.
    assert!(html.contains("Relax: Hosted in Germany → adhocracy+"), "{html}");
    assert!(!html.contains("Relax: Function"), "a required function is never relaxed");
    // No single tool has both functions: no relaxation drops one of them, toolkits combine them.
    let (_, kits) = app
        .get_html(
            "/marktplatz/assistent?f.defect-reports=must&f.participatory-budgeting=must&must=open-source&run=1",
            "en",
        )
        .await;
    assert!(!kits.contains("What would have to be relaxed"));
    assert!(kits.contains("Toolkits: combinations that cover every must function"));
    assert!(kits.contains("Defect reports: "));
}

pub async fn the_evaluation_matrix_exports_as_csv(app: TestApp) {
    let r = app
        .get("/marktplatz/assistent/bewertungsmatrix.csv?f.participatory-budgeting=must&must=open-source&run=1")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with(&format!("\u{feff}# Bewertungsmatrix vom {}", app.clock_now().date())));
    assert!(lines[0].contains("Werkzeuge erfüllen alle Muss-Kriterien"), "the summary line: {}", lines[0]);
    assert!(lines[1].starts_with("Rang;Werkzeug;Anbieter;Punkte;Höchstpunktzahl;"), "{}", lines[1]);
    assert!(lines[1].contains(";Muss: Funktion: Bürgerhaushalt;Muss: Open-Source-Lizenz;"), "{}", lines[1]);
    assert!(lines[1].contains(";Geringe Gesamtkosten – Bewertung (0–10);Geringe Gesamtkosten – Punkte (× 30);"));
    assert!(lines[1].ends_with(";Annahmen;Beim Anbieter zu prüfen;Ausschlussgründe"), "{}", lines[1]);
    assert!(lines[2].starts_with("1;"), "{text}");
    let rows = csv_rows(&text);
    assert!(rows[1..].iter().all(|r| r.len() == rows[0].len()), "every row has every column");
    let go_vocal = lines.iter().find(|l| l.starts_with("ausgeschlossen;Go Vocal;")).expect("Go Vocal excluded");
    assert!(go_vocal.contains(";nicht erfüllt;"), "{go_vocal}");
    assert_problem(app.get("/marktplatz/assistent/bewertungsmatrix.csv?years=abc").await, 400, "invalid-parameter")
        .await;
}

pub async fn bad_assistant_input_gets_a_localized_error_page(app: TestApp) {
    let (status, html) = app.get_html("/marktplatz/assistent?f.voting=maybe&run=1", "de").await;
    assert_eq!(status, 400);
    assert!(html.contains("ungültige Angabe"));
    let (status, _) = app.get_html("/marktplatz/assistent?interfaces=carrier-pigeon&run=1", "de").await;
    assert_eq!(status, 422);
}

/// The rows of a CSV answer (semicolons, RFC 4180 quotes), without the comment line.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in text.trim_start_matches('\u{feff}').lines().filter(|l| !l.starts_with('#')) {
        let (mut row, mut field, mut quoted, mut chars) = (Vec::new(), String::new(), false, line.chars().peekable());
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (';', false) => row.push(std::mem::take(&mut field)),
                (c, _) => field.push(c),
            }
        }
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The CSV's rows are the page's: for a range of profiles, the same tools in the same order
/// with the same points, then the same excluded tools.
pub async fn the_evaluation_matrix_rows_match_the_page(app: TestApp) {
    let functions = ["participatory-budgeting", "surveys", "map-contributions", "defect-reports", "voting"];
    let flags = ["open-source", "self-hosted", "saas", "processor-agreement", ""];
    for (i, f) in functions.iter().enumerate() {
        for (j, flag) in flags.iter().enumerate() {
            let mut query = format!("f.{f}=must&run=1&w_cost={}&w_training={}", 10 * i, 5 * j);
            if !flag.is_empty() {
                query.push_str(&format!("&must={flag}"));
            }
            if (i + j) % 2 == 0 {
                query.push_str("&unknown=check&languages_should=de&min_references=2");
            }
            let (_, page) = app.get_html(&format!("/marktplatz/assistent?{query}"), "de").await;
            let csv =
                app.get(&format!("/marktplatz/assistent/bewertungsmatrix.csv?{query}")).await.text().await.unwrap();
            let rows = csv_rows(&csv);
            let ranked: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r[0] != "ausgeschlossen").collect();
            let excluded: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r[0] == "ausgeschlossen").collect();
            // The page lists ranked tools as "<a …>Name</a> – points / max" in rank order.
            let ranking =
                page.split("<h3 class=\"kern-heading-small\">Rangfolge mit Begründung</h3>").nth(1).unwrap_or_default();
            let ranking = ranking.split("<h3 ").next().unwrap_or_default();
            let mut at = 0;
            for r in &ranked {
                let entry = format!(">{}</a> – {} / ", r[1], r[3]);
                let found = ranking[at..].find(&entry).unwrap_or_else(|| panic!("{query}: {entry} not on the page"));
                at += found + entry.len();
            }
            let listed = ranking.matches("<h4 class=\"kern-heading-small\"><a href=\"/marktplatz/werkzeuge/").count();
            assert_eq!(listed, ranked.len(), "{query}: ranked tools on the page");
            let excluded_section = page.split("Ausgeschlossene Werkzeuge").nth(1).unwrap_or_default();
            for r in &excluded {
                assert!(
                    excluded_section.contains(&format!(">{}</a>:", r[1])),
                    "{query}: {} not excluded on the page",
                    r[1]
                );
            }
        }
    }
}
