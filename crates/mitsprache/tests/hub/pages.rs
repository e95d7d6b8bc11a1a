//! The marketplace pages, as a browser without JavaScript sees them.

use crate::helpers::TestApp;

pub async fn the_marketplace_is_german_by_default_and_english_on_request(app: TestApp) {
    let (status, de) = app.get_html("/marktplatz", "").await;
    assert_eq!(status, 200);
    assert!(de.contains("<html lang=\"de\">"));
    assert!(de.contains("Marktplatz Beteiligung"));
    let (_, en) = app.get_html("/marktplatz", "en-GB,en;q=0.9,de;q=0.5").await;
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("Participation marketplace"));
    let (_, explicit) = app.get_html("/marktplatz?lang=en", "de").await;
    assert!(explicit.contains("<html lang=\"en\">"));
    // The start page offers the three ways in.
    let (status, root) = app.get_html("/", "de").await;
    assert_eq!(status, 200);
    for way in ["href=\"/beteiligung\"", "href=\"/marktplatz\"", "href=\"/werkzeug-anbinden\""] {
        assert!(root.contains(way), "{way}");
    }
}

pub async fn the_operator_is_named_on_every_page_and_its_legal_texts_are_served(app: TestApp) {
    // Not configured: every page says so, and the legal pages say what is missing.
    let (_, page) = app.get_html("/marktplatz", "de").await;
    assert!(page.contains("Der Betreiber dieses Hubs ist noch nicht angegeben."));
    let (status, imprint) = app.get_html("/impressum", "de").await;
    assert_eq!(status, 200);
    assert!(imprint.contains("noch nicht hinterlegt"));

    let named = app
        .spawn_with(|c| {
            c.operator.name = Some("Stadt Musterstadt".into());
            c.operator.contact = Some("beteiligung@musterstadt.example".into());
            c.operator.imprint_url = Some("https://www.musterstadt.example/impressum".into());
            c.operator.texts[1] =
                Some("Verantwortlich ist die Stadt Musterstadt.\n\nIhre Rechte: Auskunft und Löschung.".into());
            c.operator.accessibility_feedback = Some("barrierefreiheit@musterstadt.example".into());
            c.operator.logo = Some(mitsprache_hub::Logo {
                content_type: "image/svg+xml",
                bytes:
                    br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="4" height="4"/></svg>"#
                        .as_slice()
                        .into(),
            });
        })
        .await;
    for path in ["/", "/marktplatz", "/registrieren", "/beteiligung", "/gibt-es-nicht"] {
        let (_, html) = named.get_html(path, "de").await;
        assert!(html.contains("Betrieben von Stadt Musterstadt"), "{path}");
        // The header names the operator, with its logo, which the hub serves itself.
        assert!(html.contains(r#"<img class="operator-logo" src="/assets/operator-logo" alt=""><span class="operator-name">Stadt Musterstadt</span>"#), "{path}");
        assert!(html.contains("href=\"mailto:beteiligung@musterstadt.example\""), "{path}");
        assert!(html.contains("href=\"/datenschutz\""), "{path}");
    }
    let logo = named.client.get(named.url("/assets/operator-logo")).send().await.unwrap();
    assert_eq!(logo.headers()["content-type"], "image/svg+xml");
    // An SVG opened on its own runs nothing it holds.
    assert!(logo.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert!(logo.text().await.unwrap().starts_with("<svg"));
    let (_, plain) = app.get_html("/", "de").await;
    assert!(!plain.contains("operator-logo"), "no logo configured, none shown");
    assert_eq!(app.client.get(app.url("/assets/operator-logo")).send().await.unwrap().status(), 404);
    let imprint = named.client.get(named.url("/impressum")).send().await.unwrap();
    assert_eq!(imprint.status(), 303);
    assert_eq!(imprint.headers()["location"], "https://www.musterstadt.example/impressum");
    let (_, privacy) = named.get_html("/datenschutz", "de").await;
    assert!(
        privacy.contains("<p>Verantwortlich ist die Stadt Musterstadt.</p><p>Ihre Rechte: Auskunft und Löschung.</p>")
    );
    let (_, a11y) = named.get_html("/barrierefreiheit?lang=en", "de").await;
    assert!(a11y.contains("Report a barrier") && a11y.contains("mailto:barrierefreiheit@musterstadt.example"));

    // Mail names the operator too.
    let mut browser = named.browser();
    let form = browser.get("/registrieren").await;
    let password = "ein langes Passwort für Musterstadt";
    let done = browser
        .post(
            "/registrieren",
            &[("email", "neu@musterstadt.example"), ("password", password), ("csrf", &form.input("csrf"))],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let mail = named.mail(0).await;
    assert!(mail.contains("Betrieben von Stadt Musterstadt · beteiligung@musterstadt.example"), "{mail}");
    assert!(mail.contains("Impressum: https://www.musterstadt.example/impressum"), "{mail}");
}

pub async fn the_portal_lists_the_processes_of_every_tool(app: TestApp) {
    use crate::data::{process, push, tool_token};
    let (source, token) = tool_token(&app).await;
    for (id, status, municipality) in [
        ("rad", "open", "05315000"),
        ("park", "upcoming", "05315000"),
        ("alt", "closed", "05315000"),
        ("bonn", "open", "05314000"),
    ] {
        let mut p = process(&format!("Verfahren {id}"));
        p["status"] = serde_json::json!(status);
        p["municipality"] = serde_json::json!(municipality);
        match id {
            "rad" => p["phases"][0]["end"] = serde_json::json!("2026-09-30T23:59:59+02:00"),
            "park" => p["phases"][0]["end"] = serde_json::json!("2026-07-15T23:59:59+02:00"),
            "bonn" => p["phases"] = serde_json::json!([]),
            _ => {}
        }
        assert_eq!(push(&app, &token, &format!("/api/v1/data/processes/{id}"), &p).await.status(), 201);
        app.clock.advance(time::Duration::seconds(1)); // so that "latest change" has an order
    }
    let (status, all) = app.get_html("/beteiligung", "de").await;
    assert_eq!(status, 200);
    assert!(all.contains("3 Verfahren") && !all.contains("Verfahren alt"), "open and upcoming by default");
    // Closing soonest first, a process without a closing date last; or the latest change first.
    let at = |html: &str, id: &str| html.find(&format!(">Verfahren {id}<")).unwrap_or(usize::MAX);
    assert!(at(&all, "park") < at(&all, "rad") && at(&all, "rad") < at(&all, "bonn"), "{all}");
    let (_, changed) = app.get_html("/beteiligung?sort=aenderung", "de").await;
    assert!(at(&changed, "bonn") < at(&changed, "park"), "{changed}");
    assert!(all.contains("href=\"https://decidim.example/processes/rad\""));
    // The pushing tool by its client's name, and as a choice of the tool filter.
    assert!(all.contains("Werkzeug: Decidim Musterstadt"), "{all}");
    assert!(all.contains(&format!("<option value=\"{source}\">Decidim Musterstadt</option>")), "{all}");
    let (_, koeln) = app.get_html("/beteiligung?municipality=05315000&status=open", "de").await;
    assert!(koeln.contains("1 Verfahren") && koeln.contains("Verfahren rad"), "{koeln}");
    let (_, closed) = app.get_html("/beteiligung?status=closed&lang=en", "de").await;
    assert!(closed.contains("1 processes") && closed.contains(">Cycling plan</a></h2>"), "the English title");
    let (_, bad) = app.get_html("/beteiligung?municipality=123", "de").await;
    assert!(bad.contains("aria-invalid=\"true\"") && bad.contains("3 Verfahren"), "a wrong key is named, not fatal");
    let (_, none) = app.get_html("/beteiligung?q=gibtsnicht", "de").await;
    assert!(none.contains("Kein Verfahren passt"));

    // A process's page: phases, the number and the latest of its contributions, "Mitmachen".
    let contribution = serde_json::json!({"process": "rad", "kind": "idea", "title": {"de": "Mehr Bügel am Bahnhof"},
        "created_at": "2026-05-03T08:00:00Z", "updated_at": "2026-05-03T08:00:00Z"});
    assert_eq!(push(&app, &token, "/api/v1/data/contributions/i1", &contribution).await.status(), 201);
    let listed = app.get_json(&format!("/api/v1/processes?source={source}")).await;
    let rad = listed["items"].as_array().unwrap().iter().find(|p| p["external_id"] == "rad").unwrap();
    let id = rad["id"].as_str().unwrap().to_owned();
    assert!(all.contains(&format!("href=\"/beteiligung/{id}\"")), "the list links the process's page");
    let (status, page) = app.get_html(&format!("/beteiligung/{id}"), "de").await;
    assert_eq!(status, 200);
    assert!(page.contains("Ideen sammeln</span>: 01.05.2026 – 30.09.2026"), "{page}");
    assert!(page.contains("<dd>1</dd>") && page.contains("Mehr Bügel am Bahnhof</span> (03.05.2026)"), "{page}");
    assert!(page.contains("<dd>Decidim Musterstadt</dd>"), "{page}");
    assert!(
        page.contains("href=\"https://decidim.example/processes/rad\"><span class=\"kern-label\">Mitmachen"),
        "{page}"
    );
    assert_eq!(app.get_html("/beteiligung/gibt-es-nicht", "de").await.0, 404);
}

pub async fn the_language_choice_is_remembered(app: TestApp) {
    let r = app.client.get(app.url("/marktplatz?lang=en")).send().await.unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("lang=en;"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let next = app
        .client
        .get(app.url("/marktplatz/schnittstellen"))
        .header("cookie", "lang=en")
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert!(next.text().await.unwrap().contains("<html lang=\"en\">"));
}

pub async fn search_and_facets_work_without_javascript(app: TestApp) {
    let (status, html) = app.get_html("/marktplatz?q=B%C3%BCrgerhaushalte", "de").await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/marktplatz/werkzeuge/decidim\""));
    assert!(!html.contains("href=\"/marktplatz/werkzeuge/limesurvey\""));
    assert!(html.contains("value=\"Bürgerhaushalte\""), "the search box keeps the query");
    let (_, filtered) = app.get_html("/marktplatz?functions=defect-reports&hosting=self-hosted", "de").await;
    assert!(filtered.contains("werkzeuge/fixmystreet"));
    assert!(!filtered.contains("werkzeuge/decidim\""));
    assert!(filtered.contains("id=\"f-functions-defect-reports\" name=\"functions\" value=\"defect-reports\" checked"));
    let (_, paged) = app.get_html("/marktplatz?per_page=5&sort=name", "de").await;
    assert!(paged.contains("rel=\"next\""));
    assert!(paged.contains("Seite 1 von"));
    assert!(!html.contains("<script"), "pages need no JavaScript");
}

pub async fn a_tool_page_shows_sources_and_unknown_facts(app: TestApp) {
    let (status, html) = app.get_html("/marktplatz/werkzeuge/go-vocal", "de").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1 class=\"kern-heading-large\">Go Vocal</h1>"));
    assert!(html.contains("keine Angabe"), "unknown costs are shown as such");
    assert!(html.contains("Quelle: <a href=\"https://github.com/CitizenLabDotCo/citizenlab"));
    assert!(html.contains("Stand: 26.11.2026"));
    assert!(!html.contains("publiccode.yml</a>"), "no publiccode link for a closed-source tool");
    let (_, en) = app.get_html("/marktplatz/werkzeuge/decidim", "en").await;
    assert!(en.contains("not stated") || en.contains("as of 2026-11-26"));
    assert!(en.contains("/api/v1/tools/decidim/publiccode.yml"));
    let (_, interface) = app.get_html("/marktplatz/schnittstellen/open311-georeport-v2", "de").await;
    assert!(interface.contains("werkzeuge/mark-a-spot"));
}

pub async fn the_comparison_marks_differences(app: TestApp) {
    let (status, html) = app.get_html("/marktplatz/vergleich?tools=decidim,consul-democracy,limesurvey", "de").await;
    assert_eq!(status, 200);
    assert!(html.contains(
        "<th class=\"kern-table__header\" scope=\"col\"><a href=\"/marktplatz/werkzeuge/decidim\">Decidim</a>"
    ));
    assert!(html.contains("class=\"differs\""));
    assert!(html.contains("unterschiedlich"), "differences are marked in text, not only by colour");
    // A yes/no row per function.
    assert!(
        html.contains("<th class=\"kern-table__header\" scope=\"row\">Umfragen")
            && html.contains("✓ ja")
            && html.contains("✗ nein"),
        "{html}"
    );
    // Tools are removed and added in place.
    assert!(
        html.contains("href=\"/marktplatz/vergleich?tools=consul-democracy&#38;tools=limesurvey\""),
        "remove Decidim"
    );
    assert!(
        html.contains("<select class=\"kern-form-input__select\" id=\"add-tool\" name=\"tools\">")
            && html.contains("<option value=\"polis\">Polis</option>")
    );
    assert!(!html.contains("<option value=\"decidim\">"), "a compared tool is not offered again");
    // Only the differences.
    let (_, only) =
        app.get_html("/marktplatz/vergleich?tools=decidim,consul-democracy,limesurvey&nur=unterschiede", "de").await;
    assert!(only.contains("Alle Angaben zeigen"));
    assert_eq!(
        only.matches("<tr class=\"differs\">").count(),
        only.matches("<tr").count() - only.matches("<tr class=\"group\">").count() - 1
    );
    // The form on the list page submits repeated keys.
    let (status, repeated) = app.get_html("/marktplatz/vergleich?tools=decidim&tools=polis", "de").await;
    assert_eq!(status, 200);
    assert!(repeated.contains("werkzeuge/polis"));
}

pub async fn lists_compare_as_sets(app: TestApp) {
    // The same facts in another order are not a difference.
    let mut a = app.tool_json("polis").await;
    a["slug"] = serde_json::json!("polis-a");
    a["name"] = serde_json::json!("Polis A");
    a["functions"]["values"] = serde_json::json!(["voting", "deliberation"]);
    let mut b = a.clone();
    b["slug"] = serde_json::json!("polis-b");
    b["name"] = serde_json::json!("Polis B");
    b["functions"]["values"] = serde_json::json!(["deliberation", "voting"]);
    for t in [&a, &b] {
        let r = app.put(&format!("/api/v1/tools/{}", t["slug"].as_str().unwrap())).json(t).send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
    let (_, html) = app.get_html("/marktplatz/vergleich?tools=polis-a,polis-b&nur=unterschiede", "de").await;
    assert!(html.contains("0 Angaben unterscheiden sich"), "{html}");
}

pub async fn bad_page_requests_get_localized_error_pages(app: TestApp) {
    let (status, html) = app.get_html("/marktplatz/werkzeuge/gibt-es-nicht", "de").await;
    assert_eq!(status, 404);
    assert!(html.contains("Diese Seite gibt es nicht"));
    let (status, html) = app.get_html("/nirgendwo", "en").await;
    assert_eq!(status, 404);
    assert!(html.contains("This page does not exist"));
    let (status, html) = app.get_html("/marktplatz?page=0", "de").await;
    assert_eq!(status, 400);
    assert!(html.contains("ungültige Angabe"));
    // Errors are worded for people, in the page language, on the page they concern.
    let (status, html) =
        app.get_html("/marktplatz/vergleich?tools=decidim,polis,limesurvey,fixmystreet,klarschiff", "de").await;
    assert_eq!(status, 400);
    assert!(html.contains("Höchstens 4 Werkzeuge lassen sich vergleichen"), "{html}");
    assert!(!html.contains("at most four"), "no English on a German page");
    let (status, html) = app.get_html("/marktplatz/vergleich?tools=decidim,gibt-es-nicht", "de").await;
    assert_eq!(status, 400);
    assert!(html.contains("Nicht im Katalog und daher nicht gezeigt: gibt-es-nicht."));
    let (status, html) = app.get_html("/marktplatz/vergleich", "de").await;
    assert_eq!(status, 200);
    assert!(html.contains("Wählen Sie bis zu vier Werkzeuge"));
    let (status, html) = app.get_html("/marktplatz?functions=telepathie", "de").await;
    assert_eq!(status, 400);
    assert!(html.contains("Bitte prüfen Sie die Angabe „Funktionen“."), "{html}");
    assert!(!html.contains("is not"), "no English detail");
}

pub async fn pages_send_security_headers(app: TestApp) {
    let r = app.get("/marktplatz").await;
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let css = app.get("/assets/style.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    // KERN UX and its fonts come from the hub, by the package's own relative paths.
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<link rel="stylesheet" href="/assets/vendor/kern/kern.min.css">"#));
    assert!(csp.contains("font-src 'self'"), "{csp}");
    let fonts = app.get("/assets/vendor/kern/fonts/fira-sans.css").await.text().await.unwrap();
    let face = app.get("/assets/vendor/kern/fonts/fira-sans/FiraSans-Regular.woff2").await;
    assert!(fonts.contains("./fira-sans/FiraSans-Regular.woff2"));
    assert_eq!(face.headers()["content-type"], "font/woff2");
    assert_eq!(app.get("/assets/vendor/kern/../style.css").await.status(), 404);
    assert_eq!(app.get("/assets/vendor/kern/fonts/fira-sans/FiraSans-Thin.woff2").await.status(), 404);
}

pub async fn the_marketplace_guides_instead_of_dead_ends(app: TestApp) {
    // Active filters as chips that remove themselves; the apply button at the top.
    let (_, html) = app.get_html("/marktplatz?functions=defect-reports&licence=open-source&q=Karte", "de").await;
    assert!(html.contains("class=\"chips\""));
    assert!(html.contains("href=\"/marktplatz?licence=open-source&#38;q=Karte\">Mängelmeldungen entfernen"), "{html}");
    assert!(html.contains("Suche „Karte“ entfernen"));
    assert!(html.find("sticky-apply").unwrap() < html.find("name=\"q\"").unwrap(), "apply before the filters");
    // An option that would leave nothing is shown with its 0 and cannot be chosen.
    let zero = html.split("<input").find(|i| i.contains("disabled")).expect("a disabled option");
    assert!(zero.contains("type=\"checkbox\""), "{zero}");
    // Umlauts typed without umlauts, synonyms of the field, and a suggestion for a typo.
    let (_, plain) = app.get_html("/marktplatz?q=Buergerbudget", "de").await;
    assert!(plain.contains("werkzeuge/consul-democracy\""), "Bürgerbudget finds the participatory budgets");
    let (_, typo) = app.get_html("/marktplatz?q=Umfrgen", "de").await;
    assert!(typo.contains("Meinten Sie:") && typo.contains("q=umfragen\">umfragen</a>"), "{typo}");
    // Language names from CLDR in the page language.
    let (_, en) = app.get_html("/marktplatz", "en").await;
    assert!(en.contains(">German <span class=\"count\">") && en.contains(">Ukrainian"), "CLDR names");
}

pub async fn a_card_never_states_more_than_its_record(app: TestApp) {
    let (_, html) = app.get_html("/marktplatz?per_page=100", "de").await;
    let catalogue: serde_json::Value = app.get_json("/api/v1/catalogue").await;
    for tool in catalogue["tools"].as_array().unwrap() {
        let slug = tool["slug"].as_str().unwrap();
        let card = html.split(&format!("id=\"tool-{slug}\"")).nth(1).unwrap().split("</article>").next().unwrap();
        // The card's cost line, not its description.
        let card = card.split("<dt>Kosten</dt><dd>").nth(1).unwrap().split("</dd>").next().unwrap();
        let model = tool["costs"]["model"].as_str();
        if model != Some("free") {
            assert!(!card.contains("kostenlos"), "{slug}: the card says free, the record {model:?}");
        }
        if model != Some("open-source-self-operated") {
            assert!(!card.contains("keine Lizenzgebühr"), "{slug}: the card says no licence fee");
        }
        let listed = tool["costs"]["yearly_eur"].is_object() || tool["costs"]["one_time_eur"].is_object();
        if !listed {
            assert!(!card.contains(" im Jahr") && !card.contains("einmalig"), "{slug}: an amount the record lacks");
        }
    }
    let maengelmelder =
        html.split("id=\"tool-maengelmelder\"").nth(1).unwrap().split("<dt>Kosten</dt>").nth(1).unwrap();
    let maengelmelder = maengelmelder.split("</dd>").next().unwrap();
    assert!(
        maengelmelder.contains("Preis auf Anfrage") && maengelmelder.contains("Kostenangaben aus öffentlichen Quellen"),
        "{maengelmelder}"
    );
}

pub async fn the_portal_filters_by_kind_and_nearness_and_shows_the_same_on_a_map(app: TestApp) {
    use crate::data::{process, push, tool_token};
    let app = app
        .spawn_with(|c| {
            c.portal.map_tiles = Some("https://kacheln.example/{z}/{x}/{y}.png".into());
            c.portal.map_attribution = Some("© Kacheln".into());
            c.portal.postcodes = [("50667".to_owned(), (50.94, 6.96))].into_iter().collect();
            c.portal.municipalities =
                vec![mitsprache::config::MunicipalityName { ags: "05315000".into(), name: "Köln".into() }];
        })
        .await;
    let (_, token) = tool_token(&app).await;
    for (id, kind, lon, lat, municipality) in [
        ("dom", "consultation", 6.958, 50.941, "05315000"),
        ("ehrenfeld", "budget", 6.91, 50.95, "05315000"),
        ("bonn", "consultation", 7.10, 50.73, "05314000"),
    ] {
        let mut p = process(&format!("Verfahren {id}"));
        p["process_type"] = serde_json::json!(kind);
        p["geometry"] = serde_json::json!({"type": "Point", "coordinates": [lon, lat]});
        p["municipality"] = serde_json::json!(municipality);
        assert_eq!(push(&app, &token, &format!("/api/v1/data/processes/{id}"), &p).await.status(), 201);
    }
    let titles = |v: &serde_json::Value| -> Vec<String> {
        let mut t: Vec<String> =
            v["items"].as_array().unwrap().iter().map(|i| i["external_id"].as_str().unwrap().to_owned()).collect();
        t.sort();
        t
    };
    // The API: by process type, and within a radius (Bonn is 24 km from the cathedral).
    assert_eq!(titles(&app.get_json("/api/v1/processes?process_type=budget").await), vec!["ehrenfeld"]);
    assert_eq!(titles(&app.get_json("/api/v1/processes?near=50.941,6.958&radius=10").await), vec!["dom", "ehrenfeld"]);
    assert_eq!(titles(&app.get_json("/api/v1/processes?near=50.941,6.958&radius=2").await), vec!["dom"]);
    assert_eq!(titles(&app.get_json("/api/v1/processes?near=50.941,6.958&radius=40").await).len(), 3);
    crate::helpers::assert_problem(app.get("/api/v1/processes?near=91,0").await, 400, "invalid-parameter").await;
    crate::helpers::assert_problem(app.get("/api/v1/processes?radius=5").await, 400, "invalid-parameter").await;
    crate::helpers::assert_problem(app.get("/api/v1/processes?near=").await, 400, "invalid-parameter").await;
    crate::helpers::assert_problem(app.get("/api/v1/processes?near=50.9%2C%206.9").await, 400, "invalid-parameter")
        .await;
    // The portal: the same by postcode, shareable in the URL, and the regional municipality choice.
    let (_, near) = app.get_html("/beteiligung?plz=50667&radius=5&typ=consultation", "de").await;
    assert!(near.contains("1 Verfahren") && near.contains("Verfahren dom"), "{near}");
    assert!(near.contains(r#"<option value="05315000">Köln (05315000)</option>"#), "{near}");
    assert!(
        near.contains("/api/v1/processes.atom?status=open%2Cupcoming&#38;process_type=consultation&#38;near="),
        "the feeds keep the filters"
    );
    let (_, unknown) = app.get_html("/beteiligung?plz=99999", "de").await;
    assert!(unknown.contains("Diese Postleitzahl kennt der Hub nicht") && unknown.contains("3 Verfahren"));
    // The map: the same filters, the list beneath it, Leaflet from the hub, tiles only from the
    // configured host.
    let r = app.get("/beteiligung/karte?typ=consultation").await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("img-src 'self' data: https://kacheln.example;"),
        "{csp}"
    );
    let html = r.text().await.unwrap();
    assert!(
        html.contains(
            r#"data-geojson="/api/v1/processes.geojson?status=open%2Cupcoming&#38;process_type=consultation""#
        ),
        "{html}"
    );
    assert!(html.contains(r#"data-tiles="https://kacheln.example/{z}/{x}/{y}.png""#));
    assert!(html.contains("Verfahren dom") && html.contains("Verfahren bonn") && !html.contains("Verfahren ehrenfeld"));
    assert!(html.contains(r#"<script src="/assets/vendor/leaflet/leaflet.js"></script>"#));
    assert_eq!(app.get("/assets/vendor/leaflet/leaflet.js").await.status(), 200);
    // Other pages still allow no script at all.
    let list = app.get("/beteiligung").await;
    assert!(!list.headers()["content-security-policy"].to_str().unwrap().contains("script-src"));
}

pub async fn without_a_tile_source_the_map_requests_no_other_host(app: TestApp) {
    let r = app.get("/beteiligung/karte").await;
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    assert!(r.text().await.unwrap().contains(r#"data-tiles="""#));
}
