//! The matching assistant: API, page and CSV.

use crate::helpers::{TestApp, assert_problem};
use serde_json::{Value, json};

pub async fn the_matching_api_ranks_explains_and_excludes(app: TestApp) {
    let profile = json!({
        "must": [{"criterion": "function", "key": "participatory-budgeting"}, {"criterion": "open-source"}],
        "should": [{"weight": 10, "rule": "languages", "full_at": 10}]
    });
    let r = app.client.post(app.url("/api/v1/matching")).json(&profile).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let result: Value = r.json().await.unwrap();
    let ranked: Vec<&str> = result["ranked"].as_array().unwrap().iter().map(|t| t["tool"].as_str().unwrap()).collect();
    assert_eq!(ranked, ["consul-democracy", "decidim", "adhocracy-plus"]);
    assert_eq!(
        result["ranked"][0]["criteria"][0]["explanation"]["de"],
        "Sprachen: 39 (10 Punkte ab 10) → 10/10 × 10 Gewichtungspunkte = 100"
    );
    let go_vocal = result["excluded"].as_array().unwrap().iter().find(|x| x["tool"] == "go-vocal").unwrap();
    assert_eq!(go_vocal["failed"][0]["explanation"]["en"], "Open-source licence: not met");
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
    assert!(result.contains("<h3>Bewertungsmatrix</h3>"));
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
    let (_, html) = app
        .get_html(
            "/marktplatz/assistent?f.defect-reports=must&f.participatory-budgeting=must&must=hosted-in-germany&run=1",
            "en",
        )
        .await;
    assert!(html.contains("No tool meets every must criterion."));
    assert!(html.contains("What would have to be relaxed"));
    // No tool publishes where it is hosted, so every smallest relaxation names it, with one function.
    assert!(html.contains("Relax: Function: Participatory budgeting; Hosted in Germany → Beteiligung NRW"), "{html}");
    let (_, kits) = app
        .get_html(
            "/marktplatz/assistent?f.defect-reports=must&f.participatory-budgeting=must&must=open-source&run=1",
            "en",
        )
        .await;
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
    assert!(lines[1].starts_with("Rang;Werkzeug;Punkte;"));
    assert!(lines[2].starts_with("1;Decidim;"), "{text}");
    assert!(lines.iter().any(|l| l.starts_with("ausgeschlossen;Go Vocal;")));
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
