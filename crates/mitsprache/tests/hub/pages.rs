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
    let root = app.get("/").await;
    assert_eq!(root.status(), 303);
    assert_eq!(root.headers()["location"], "/marktplatz");
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
    assert!(html.contains("<h1>Go Vocal</h1>"));
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
    assert!(html.contains("<th scope=\"col\"><a href=\"/marktplatz/werkzeuge/decidim\">Decidim</a></th>"));
    assert!(html.contains("class=\"differs\""));
    assert!(html.contains("unterschiedlich"), "differences are marked in text, not only by colour");
    // The form on the list page submits repeated keys.
    let (status, repeated) = app.get_html("/marktplatz/vergleich?tools=decidim&tools=polis", "de").await;
    assert_eq!(status, 200);
    assert!(repeated.contains("werkzeuge/polis"));
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
    let (status, _) = app.get_html("/marktplatz/vergleich?tools=a,b,c,d,e", "de").await;
    assert_eq!(status, 400);
    let (status, _) = app.get_html("/marktplatz/vergleich", "de").await;
    assert_eq!(status, 400);
}

pub async fn pages_send_security_headers(app: TestApp) {
    let r = app.get("/marktplatz").await;
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let css = app.get("/assets/style.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
}
