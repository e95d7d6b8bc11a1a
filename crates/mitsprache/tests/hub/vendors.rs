//! Vendors supply and keep their facts: linked by an editor, they propose; editors publish or
//! reject with a reason; the vendor is told by mail; every change is in the record's history;
//! people ask vendors for what is unknown. End to end, through the pages.

use crate::helpers::{Browser, Page, TestApp};
use mitsprache_domain::Role;
use serde_json::Value;

const PASSWORD: &str = "ein ziemlich langes Passwort";

async fn account(app: &TestApp, email: &str, role: Role) -> String {
    let id = app.add_account(email, PASSWORD).await;
    if role != Role::Citizen {
        app.hub.set_role(&id, role).await.unwrap();
    }
    id
}

async fn sign_in(app: &TestApp, email: &str) -> Browser {
    let mut browser = app.browser();
    let login = browser.get("/anmelden").await;
    assert_eq!(login.status, 200);
    let done =
        browser.post("/anmelden", &[("email", email), ("password", PASSWORD), ("csrf", &login.input("csrf"))]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    browser
}

/// The CSRF token of a form page.
fn csrf(page: &Page) -> String {
    page.input("csrf")
}

async fn mail_containing(app: &TestApp, from: usize, needle: &str) -> (usize, String) {
    for n in from..from + 20 {
        let mail = app.mail(n).await;
        if mail.contains(needle) {
            return (n, mail);
        }
    }
    panic!("no mail with {needle}");
}

pub async fn a_vendor_proposes_an_editor_publishes_and_the_history_shows_it(app: TestApp) {
    account(&app, "redaktion@example.org", Role::Editor).await;
    account(&app, "vertrieb@compdemocracy.example", Role::Citizen).await;
    let mut editor = sign_in(&app, "redaktion@example.org").await;
    let mut vendor = sign_in(&app, "vertrieb@compdemocracy.example").await;

    // Before the link, the vendor may not propose.
    let refused = vendor.get("/anbieter/werkzeuge/polis/vorschlag?feld=costs").await;
    assert_eq!(refused.status, 403);

    let home = editor.get("/redaktion").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Erklärung zur Barrierefreiheit"), "the report's facts");
    assert!(home.body.contains("href=\"/anbieter/werkzeuge/polis/vorschlag?feld=accessibility\""), "the to-do list");
    let linked = editor
        .post(
            "/redaktion/anbieter",
            &[
                ("csrf", &csrf(&home)),
                ("email", "vertrieb@compdemocracy.example"),
                ("tool", "polis"),
                ("evidence", "Adresse bei der Domain des Anbieters"),
            ],
        )
        .await;
    assert_eq!(linked.status, 303, "{}", linked.body);
    let (after_link, mail) = mail_containing(&app, 0, "Polis").await;
    assert!(mail.contains("To: vertrieb@compdemocracy.example") && mail.contains("/anbieter"), "{mail}");

    // The vendor proposes its prices as its own statement.
    let mine = vendor.get("/anbieter").await;
    assert!(mine.body.contains("href=\"/anbieter/werkzeuge/polis/vorschlag?feld=costs\""), "{}", mine.body);
    let form = vendor.get("/anbieter/werkzeuge/polis/vorschlag?feld=costs").await;
    assert_eq!(form.status, 200);
    let proposed = vendor
        .post(
            "/anbieter/werkzeuge/polis/vorschlag",
            &[
                ("csrf", &csrf(&form)),
                ("feld", "costs"),
                ("model", "subscription"),
                ("yearly_min", "1200"),
                ("yearly_max", "4800"),
                ("included_de", "Betrieb, Hosting und Support"),
                ("source", ""),
                ("note", "Preise 2027"),
            ],
        )
        .await;
    assert_eq!(proposed.status, 303, "{}", proposed.body);
    assert_eq!(proposed.location.as_deref(), Some("/anbieter?hinweis=vorgeschlagen"));
    // Nothing is public before the review.
    assert_ne!(app.tool_json("polis").await["costs"]["yearly_eur"]["min"], 1200.0);

    // The editor sees the difference fact by fact and publishes.
    let queue = editor.get("/redaktion/vorschlaege").await;
    assert!(
        queue.body.contains("<code>yearly_eur.min</code>")
            && queue.body.contains("<td class=\"kern-table__cell\">1200</td>"),
        "{}",
        queue.body
    );
    assert!(queue.body.contains("Angabe des Anbieters (ohne öffentliche Quelle)"));
    assert!(queue.body.contains("Preise 2027"));
    let action = queue.body.split("action=\"/redaktion/vorschlaege/").nth(1).unwrap().split('"').next().unwrap();
    let published = editor
        .post(&format!("/redaktion/vorschlaege/{action}"), &[("csrf", &csrf(&queue)), ("decision", "publish")])
        .await;
    assert_eq!(published.status, 303, "{}", published.body);

    // The record carries the vendor's statement, sourced by its entry in the history.
    let tool = app.tool_json("polis").await;
    assert_eq!(tool["costs"]["yearly_eur"], serde_json::json!({"min": 1200.0, "max": 4800.0}));
    assert_eq!(tool["costs"]["origin"], "vendor");
    let source = tool["costs"]["source"].as_str().unwrap();
    assert!(source.contains("/marktplatz/werkzeuge/polis/verlauf#vorschlag-"), "{source}");
    let (_, page) = app.get_html("/marktplatz/werkzeuge/polis", "de").await;
    let today = app.clock_now().date();
    let date = format!("{:02}.{:02}.{}", today.day(), u8::from(today.month()), today.year());
    assert!(page.contains(&format!("Angabe des Anbieters vom {date}, geprüft am {date}")), "{page}");
    let (_, history) = app.get_html("/marktplatz/werkzeuge/polis/verlauf", "de").await;
    let anchor = source.split('#').nth(1).unwrap();
    assert!(history.contains(&format!("id=\"{anchor}\"")), "{history}");
    assert!(history.contains("Vorschlag des Anbieters, von der Redaktion geprüft"));
    assert!(history.contains("Erstausstattung des Katalogs"), "the first import is history too");
    let (after_publish, mail) = mail_containing(&app, after_link + 1, "veröffentlicht").await;
    assert!(mail.contains("To: vertrieb@compdemocracy.example"), "{mail}");

    // A rejection carries its reason to the vendor.
    let form = vendor.get("/anbieter/werkzeuge/polis/vorschlag?feld=hosting").await;
    let proposed = vendor
        .post(
            "/anbieter/werkzeuge/polis/vorschlag",
            &[
                ("csrf", &csrf(&form)),
                ("feld", "hosting"),
                ("saas", "yes"),
                ("self_hosted", "yes"),
                ("hosted_in_germany", "yes"),
            ],
        )
        .await;
    assert_eq!(proposed.status, 303, "{}", proposed.body);
    let queue = editor.get("/redaktion/vorschlaege").await;
    let action = queue.body.split("action=\"/redaktion/vorschlaege/").nth(1).unwrap().split('"').next().unwrap();
    let without_reason = editor
        .post(&format!("/redaktion/vorschlaege/{action}"), &[("csrf", &csrf(&queue)), ("decision", "reject")])
        .await;
    assert_eq!(without_reason.status, 409);
    assert!(without_reason.body.contains("Bitte begründen Sie die Ablehnung"));
    let rejected = editor
        .post(
            &format!("/redaktion/vorschlaege/{action}"),
            &[("csrf", &csrf(&queue)), ("decision", "reject"), ("reason", "Bitte mit Quelle zum Serverstandort")],
        )
        .await;
    assert_eq!(rejected.status, 303);
    let (_, mail) = mail_containing(&app, after_publish + 1, "nicht übernommen").await;
    assert!(mail.contains("Bitte mit Quelle zum Serverstandort"), "{mail}");
    let mine = vendor.get("/anbieter").await;
    assert!(mine.body.contains("abgelehnt: Bitte mit Quelle zum Serverstandort"), "{}", mine.body);
    assert_eq!(app.tool_json("polis").await["hosting"]["hosted_in_germany"], "unknown");
}

pub async fn a_stale_proposal_is_not_published_over_a_newer_change(app: TestApp) {
    account(&app, "redaktion@example.org", Role::Editor).await;
    let vendor_id = account(&app, "anbieter@example.org", Role::Citizen).await;
    let mut editor = sign_in(&app, "redaktion@example.org").await;
    let mut vendor = sign_in(&app, "anbieter@example.org").await;
    let home = editor.get("/redaktion").await;
    editor
        .post(
            "/redaktion/anbieter",
            &[("csrf", &csrf(&home)), ("email", "anbieter@example.org"), ("tool", "loomio"), ("evidence", "geprüft")],
        )
        .await;
    let form = vendor.get("/anbieter/werkzeuge/loomio/vorschlag?feld=data_protection").await;
    let proposed = vendor
        .post(
            "/anbieter/werkzeuge/loomio/vorschlag",
            &[
                ("csrf", &csrf(&form)),
                ("feld", "data_protection"),
                ("data_location", "Neuseeland"),
                ("processor_agreement", "yes"),
            ],
        )
        .await;
    assert_eq!(proposed.status, 303, "{}", proposed.body);
    // Meanwhile an editor changes the same facts with a source.
    let edit = editor.get("/anbieter/werkzeuge/loomio/vorschlag?feld=data_protection").await;
    assert!(edit.body.contains("Änderung veröffentlichen"), "editors publish at once");
    let direct = editor
        .post(
            "/anbieter/werkzeuge/loomio/vorschlag",
            &[
                ("csrf", &csrf(&edit)),
                ("feld", "data_protection"),
                ("data_location", "Europäische Union"),
                ("processor_agreement", "unknown"),
                ("source", "https://www.loomio.com/privacy"),
            ],
        )
        .await;
    assert_eq!(direct.status, 303, "{}", direct.body);
    let queue = editor.get("/redaktion/vorschlaege").await;
    assert!(queue.body.contains("Der Eintrag hat sich seit dem Vorschlag geändert"), "{}", queue.body);
    let action = queue.body.split("action=\"/redaktion/vorschlaege/").nth(1).unwrap().split('"').next().unwrap();
    let refused = editor
        .post(&format!("/redaktion/vorschlaege/{action}"), &[("csrf", &csrf(&queue)), ("decision", "publish")])
        .await;
    assert_eq!(refused.status, 409);
    assert_eq!(app.tool_json("loomio").await["data_protection"]["data_location"], "Europäische Union");
    // A citizen may neither open the editors' pages nor publish.
    let mut citizen = sign_in(&app, "anbieter@example.org").await;
    assert_eq!(citizen.get("/redaktion").await.status, 403);
    assert_eq!(citizen.get("/redaktion/vorschlaege").await.status, 403);
    let _ = vendor_id;
}

pub async fn people_ask_the_vendor_for_an_unknown_fact(app: TestApp) {
    account(&app, "redaktion@example.org", Role::Editor).await;
    account(&app, "anbieter@example.org", Role::Citizen).await;
    account(&app, "verwaltung@stadt.example", Role::Citizen).await;
    // Without a linked account, the vendor's published address or page.
    let (_, page) = app.get_html("/marktplatz/werkzeuge/civicom", "de").await;
    let ask = page.split("href=\"/marktplatz/werkzeuge/civicom/anfragen?feld=").nth(1).expect("an ask link");
    let group = ask.split('"').next().unwrap().to_owned();
    let (status, enquiry) = app.get_html(&format!("/marktplatz/werkzeuge/civicom/anfragen?feld={group}"), "de").await;
    assert_eq!(status, 200);
    assert!(enquiry.contains("Seite des Anbieters öffnen") || enquiry.contains("mailto:"), "{enquiry}");
    // With a linked account, a form that mails it, with the asker's address to reply to.
    let mut editor = sign_in(&app, "redaktion@example.org").await;
    let home = editor.get("/redaktion").await;
    editor
        .post(
            "/redaktion/anbieter",
            &[("csrf", &csrf(&home)), ("email", "anbieter@example.org"), ("tool", "civicom"), ("evidence", "geprüft")],
        )
        .await;
    let (linked, _) = mail_containing(&app, 0, "Civicom").await;
    let mut asker = sign_in(&app, "verwaltung@stadt.example").await;
    let form = asker.get("/marktplatz/werkzeuge/civicom/anfragen?feld=costs").await;
    assert!(form.body.contains("name=\"share\""), "{}", form.body);
    let without_consent = asker
        .post(
            "/marktplatz/werkzeuge/civicom/anfragen",
            &[("csrf", &csrf(&form)), ("feld", "costs"), ("message", "Was kostet es?")],
        )
        .await;
    assert_eq!(without_consent.status, 422);
    let sent = asker
        .post(
            "/marktplatz/werkzeuge/civicom/anfragen",
            &[
                ("csrf", &csrf(&form)),
                ("feld", "costs"),
                ("message", "Was kostet es für 50.000 Einwohner?"),
                ("share", "1"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let (_, mail) = mail_containing(&app, linked + 1, "50.000 Einwohner").await;
    assert!(mail.contains("To: anbieter@example.org"), "{mail}");
    assert!(mail.contains("Reply-To: verwaltung@stadt.example"), "{mail}");
    let tool: Value = app.tool_json("civicom").await;
    assert!(tool["costs"] == "unknown" || tool["costs"].is_object());
}
