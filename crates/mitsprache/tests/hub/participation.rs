//! "Meine Beteiligung" end to end inside the hub: a tool logs a citizen in, pushes contributions
//! in the citizen's name with the pairwise subject it got, and the citizen finds them, follows
//! the process, hears of status changes in the portal and by digest (with a one-click
//! unsubscribe), enters the tool through "Mitmachen" with a login hint, and deletes the account:
//! the tool gets a signed RISC account-purged event, and the contributions lose their author.

use crate::data::{process, push};
use crate::flows::*;
use crate::helpers::TestApp;
use mitsprache_oidc::client::{DeletionReceiver, GrantType};
use mitsprache_oidc::jose::verify;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// What an RFC 8935 receiver got: the request's content type, Authorization header and body.
type Received = Arc<Mutex<Vec<(String, String, String)>>>;

/// An RFC 8935 push receiver answering `status` (202 on success).
async fn set_receiver(status: u16, body: &'static str) -> (String, Received) {
    use axum::routing::post;
    let seen: Received = Arc::new(Mutex::new(Vec::new()));
    let store = seen.clone();
    let router = axum::Router::new().route(
        "/events",
        post(move |headers: axum::http::HeaderMap, body_in: String| {
            let store = store.clone();
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                store.lock().unwrap().push((h("content-type"), h("authorization"), body_in));
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, seen)
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{what} did not happen");
}

async fn data_token(app: &TestApp, client: &(String, String)) -> String {
    let r = app
        .client
        .post(app.url("/oidc/token"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[("grant_type", "client_credentials"), ("scope", "data:write")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

fn contribution(text: &str, author: &str, status: &str) -> Value {
    json!({
        "process": "rad", "kind": "proposal", "title": {"de": text}, "author": author, "status": status,
        "created_at": "2026-05-03T08:00:00Z", "updated_at": "2026-05-03T08:00:00Z"
    })
}

pub async fn a_citizen_finds_follows_and_deletes_their_participation_across_tools(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let (events, received) = set_receiver(202, "").await;
    let mut registration = tool("Decidim Musterstadt");
    registration.grant_types =
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials];
    registration.scopes = vec!["data:write".into()];
    registration.initiate_login_uri = Some("https://tool.example/users/auth/mitsprache".into());
    registration.deletion_receiver =
        Some(DeletionReceiver::Push { endpoint_url: events, authorization_header: Some("Bearer empfang".into()) });
    let client = app.add_client(registration).await;
    let mut browser = app.browser();
    let tokens = full_login(&app, &client, &mut browser).await;
    let sub = verify(tokens["id_token"].as_str().unwrap(), &keys(&app).await).unwrap().claims["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = data_token(&app, &client).await;
    assert_eq!(push(&app, &token, "/api/v1/data/processes/rad", &process("Radverkehrskonzept")).await.status(), 201);
    for (id, text, author) in [("c1", "Radweg an der Hauptstraße", sub.as_str()), ("c2", "Mehr Bügel am Bahnhof", &sub)]
    {
        let r =
            push(&app, &token, &format!("/api/v1/data/contributions/{id}"), &contribution(text, author, "received"))
                .await;
        assert_eq!(r.status(), 201);
    }
    // Someone else's, and an anonymous one: not the citizen's.
    push(&app, &token, "/api/v1/data/contributions/c3", &contribution("Tempo 30", "jemand-anderes", "received")).await;

    let mine = browser.get("/meine-beteiligung").await;
    assert_eq!(mine.status, 200);
    assert!(mine.body.contains("Radweg an der Hauptstraße") && mine.body.contains("Mehr Bügel am Bahnhof"));
    assert!(!mine.body.contains("Tempo 30"), "only the person's own contributions");
    assert!(mine.body.contains("Decidim Musterstadt"), "the tool is named");
    // Without a login the page sends to the login.
    let anonymous = app.browser().get("/meine-beteiligung").await;
    assert_eq!(anonymous.status, 303);

    let list = app.get_json(&format!("/api/v1/processes?source={}", client.0)).await;
    let process_id = list["items"][0]["id"].as_str().unwrap().to_owned();
    // "Mitmachen" enters the tool through its initiate_login_uri with the subject it knows.
    let page = browser.get(&format!("/beteiligung/{process_id}")).await;
    assert!(page.body.contains("https://tool.example/users/auth/mitsprache?iss="), "{}", page.body);
    assert!(
        page.body.contains(&format!("login_hint={sub}&#38;target_link_uri=https%3A%2F%2Fdecidim.example")),
        "{}",
        page.body.lines().find(|l| l.contains("login_hint")).unwrap_or_default()
    );
    let signed_out = app.browser().get(&format!("/beteiligung/{process_id}")).await;
    assert!(signed_out.body.contains(r#"href="https://decidim.example/processes/rad""#), "signed out: the plain link");
    // The hub answers that login hint silently for this person, and asks for a login for another.
    let silent = browser.get(&authorize_url(&client.0, &[("login_hint", &sub), ("prompt", "none")])).await;
    assert!(query_of(silent.location.as_deref().unwrap()).contains_key("code"));
    let other = browser.get(&authorize_url(&client.0, &[("login_hint", "someone-else"), ("prompt", "none")])).await;
    assert_eq!(query_of(other.location.as_deref().unwrap())["error"], "login_required");

    let followed = browser
        .post(&format!("/beteiligung/{process_id}/folgen"), &[("csrf", &page.input("csrf")), ("action", "follow")])
        .await;
    assert_eq!(followed.status, 303);
    assert!(browser.get(&format!("/beteiligung/{process_id}")).await.body.contains("Nicht mehr folgen"));

    // The tool reports changes: the contribution is accepted, the process closes.
    app.clock.advance(time::Duration::hours(1));
    let token = data_token(&app, &client).await;
    let r = push(
        &app,
        &token,
        "/api/v1/data/contributions/c1",
        &contribution("Radweg an der Hauptstraße", &sub, "accepted"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let mut closed = process("Radverkehrskonzept");
    closed["status"] = json!("closed");
    assert_eq!(push(&app, &token, "/api/v1/data/processes/rad", &closed).await.status(), 200);
    let mine = browser.get("/meine-beteiligung").await;
    assert!(mine.body.contains("Neu:"), "{}", mine.body);
    assert!(mine.body.contains("eingegangen → angenommen"), "the contribution's status change");
    assert!(mine.body.contains("laufend → abgeschlossen"), "the followed process's status change");
    assert!(!browser.get("/meine-beteiligung").await.body.contains("Neu:"), "seen once shown");

    // The digest a day later: one mail, with RFC 8058 one-click headers.
    app.clock.advance(time::Duration::hours(24));
    assert_eq!(app.hub.send_digests().await.unwrap(), 1);
    let mail = app.mail(0).await;
    assert!(mail.contains("eingegangen → angenommen"), "{mail}");
    assert!(mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{mail}");
    let unsubscribe = mail
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .map(|l| l.trim_end_matches('>').to_owned())
        .expect("a List-Unsubscribe header");
    assert_eq!(app.hub.send_digests().await.unwrap(), 0, "not due again within the day");
    app.clock.advance(time::Duration::hours(25));
    assert_eq!(app.hub.send_digests().await.unwrap(), 0, "nothing changed: no mail");
    // Opening the link only asks; the mail client's one-click POST, without cookies, stops it.
    // The link is on the issuer's address; this test hub listens elsewhere.
    let path =
        unsubscribe[unsubscribe.find("/benachrichtigungen/abbestellen/").expect("the unsubscribe path")..].to_owned();
    let ask = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(ask.status(), 200);
    let account_id = app.hub.account_by_email(EMAIL).await.unwrap().unwrap().id;
    let digest = || async { app.store().await.participation().settings(&account_id).await.unwrap().unwrap().digest };
    assert_eq!(digest().await.as_str(), "daily");
    let forged = app.client.post(app.url("/benachrichtigungen/abbestellen/x.y")).send().await.unwrap();
    assert_eq!(forged.status(), 404);
    let one_click = app
        .client
        .post(app.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), 200);
    assert_eq!(digest().await.as_str(), "none");
    // Two days on, the session has ended: the person signs in again.
    full_login(&app, &client, &mut browser).await;
    assert!(browser.get("/meine-beteiligung").await.body.contains(r#"value="none" checked"#));

    // The export holds the contributions mapped to the person.
    let export: Value = serde_json::from_str(&browser.get("/konto/daten.json").await.body).unwrap();
    assert_eq!(export["contributions"].as_array().unwrap().len(), 2);
    assert_eq!(export["follows"][0]["process"], process_id.as_str());

    // Deletion: a signed account-purged event reaches the tool, and the receipt shows it.
    let account = browser.get("/konto").await;
    let deleted = browser.post("/konto/loeschen", &[("csrf", &account.input("csrf")), ("password", PASSWORD)]).await;
    assert_eq!(deleted.status, 303);
    let receipt = deleted.location.clone().unwrap();
    assert!(receipt.starts_with("/konto/geloescht/"));
    wait_until("the deletion event", || !received.lock().unwrap().is_empty()).await;
    let (content_type, authorization, set) = received.lock().unwrap()[0].clone();
    assert_eq!(content_type, "application/secevent+jwt");
    assert_eq!(authorization, "Bearer empfang");
    let event = verify(&set, &keys(&app).await).unwrap();
    assert_eq!(event.header["typ"], "secevent+jwt");
    assert_eq!(event.claims["aud"], client.0.as_str());
    assert_eq!(event.claims["sub_id"]["sub"], sub.as_str());
    assert_eq!(event.claims["sub_id"]["format"], "iss_sub");
    assert!(event.claims["events"]["https://schemas.openid.net/secevent/risc/event-type/account-purged"].is_object());
    for _ in 0..100 {
        if app.browser().get(&receipt).await.body.contains("zugestellt") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let receipt_page = app.browser().get(&receipt).await;
    assert!(receipt_page.body.contains("Decidim Musterstadt") && receipt_page.body.contains("zugestellt"));
    assert_eq!(app.hub.deletion_log(10).await.unwrap()[0].state, "delivered");
    // The contributions stay, without the person's subject.
    let c1 = app.get_json(&format!("/api/v1/contributions?source={}", client.0)).await;
    let items = c1["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items.iter().filter(|i| i.get("author").is_some()).count(),
        1,
        "only the other person's keeps an author"
    );
    assert!(items.iter().all(|i| i.get("author").is_none_or(|a| a != sub.as_str())));
}

pub async fn deletion_events_are_retried_refused_or_sent_by_scim(app: TestApp) {
    use axum::routing::get;
    app.add_account(EMAIL, PASSWORD).await;
    // A receiver that refuses the event for good, one that is down, and a SCIM service.
    let (refusing, _) = set_receiver(400, r#"{"err":"invalid_audience","description":"not for us"}"#).await;
    let (down, down_seen) = set_receiver(503, "").await;
    let deleted_users = Arc::new(Mutex::new(Vec::<String>::new()));
    let searched = Arc::new(Mutex::new(Vec::<String>::new()));
    let (d, s) = (deleted_users.clone(), searched.clone());
    let scim = axum::Router::new()
        .route(
            "/scim/v2/Users",
            get(move |q: axum::extract::Query<std::collections::HashMap<String, String>>| {
                let s = s.clone();
                async move {
                    s.lock().unwrap().push(q.get("filter").cloned().unwrap_or_default());
                    axum::Json(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                        "totalResults": 1, "Resources": [{"id": "u-17"}]}))
                }
            }),
        )
        .route(
            "/scim/v2/Users/{id}",
            axum::routing::delete(move |axum::extract::Path(id): axum::extract::Path<String>| {
                let d = d.clone();
                async move {
                    d.lock().unwrap().push(id);
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let scim_base = format!("http://{}/scim/v2", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, scim).await });
    let mut subs = Vec::new();
    let mut browser = app.browser();
    for (name, receiver) in [
        ("Verweigert", DeletionReceiver::Push { endpoint_url: refusing, authorization_header: None }),
        ("Nicht erreichbar", DeletionReceiver::Push { endpoint_url: down, authorization_header: None }),
        (
            "SCIM-Werkzeug",
            DeletionReceiver::Scim { base_url: scim_base, authorization_header: Some("Bearer scim".into()) },
        ),
    ] {
        let mut registration = tool(name);
        registration.deletion_receiver = Some(receiver);
        let client = app.add_client(registration).await;
        let tokens = full_login(&app, &client, &mut browser).await;
        subs.push(verify(tokens["id_token"].as_str().unwrap(), &keys(&app).await).unwrap().claims["sub"].clone());
    }
    let account = browser.get("/konto").await;
    let deleted = browser.post("/konto/loeschen", &[("csrf", &account.input("csrf")), ("password", PASSWORD)]).await;
    let receipt = deleted.location.unwrap();
    wait_until("the SCIM deletion", || !deleted_users.lock().unwrap().is_empty()).await;
    assert_eq!(deleted_users.lock().unwrap()[0], "u-17");
    assert_eq!(searched.lock().unwrap()[0], format!("externalId eq \"{}\"", subs[2].as_str().unwrap()));
    wait_until("the first delivery to the tool that is down", || !down_seen.lock().unwrap().is_empty()).await;
    let mut states = Vec::new();
    for _ in 0..200 {
        states = app.hub.deletion_log(10).await.unwrap().into_iter().map(|d| (d.state, d.attempts)).collect();
        states.sort();
        if states.iter().filter(|(s, n)| s != "pending" || *n > 0).count() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    // Refused for good, delivered by SCIM, and the one that is down waits for its next attempt.
    assert_eq!(states, vec![("delivered".into(), 1), ("failed".into(), 1), ("pending".into(), 1)], "{states:?}");
    let page = app.browser().get(&receipt).await;
    assert!(page.body.contains("gescheitert") && page.body.contains("HTTP 400 invalid_audience"));
    assert!(page.body.contains("wird zugestellt") && page.body.contains("HTTP 503"));
    // The backoff passes: the tool that was down is asked again (once the worker has noted
    // the failure, or the retry would be due after the advanced time).
    for _ in 0..100 {
        let jobs = app.hub.jobs(Some("account.deletion_event"), 10).await.unwrap();
        if jobs.iter().any(|j| j.state == mitsprache_store::JobState::Queued && j.last_error.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    app.clock.advance(time::Duration::seconds(30));
    wait_until("a second attempt", || down_seen.lock().unwrap().len() >= 2).await;
}

pub async fn the_municipality_page_charts_contributions_across_tools(app: TestApp) {
    let (source, token) = crate::data::tool_token(&app).await;
    assert_eq!(push(&app, &token, "/api/v1/data/processes/rad", &process("Radverkehrskonzept")).await.status(), 201);
    let mut elsewhere = process("Anderswo");
    elsewhere["municipality"] = json!("09162000");
    push(&app, &token, "/api/v1/data/processes/anderswo", &elsewhere).await;
    for (id, created, process) in [
        ("a", "2026-03-04T10:00:00Z", "rad"),
        ("b", "2026-05-01T10:00:00Z", "rad"),
        ("c", "2026-05-20T10:00:00Z", "rad"),
        ("d", "2026-04-20T10:00:00Z", "anderswo"),
    ] {
        let mut c = contribution(id, "x", "received");
        c["process"] = json!(process);
        c["created_at"] = json!(created);
        c["updated_at"] = json!(created);
        assert_eq!(push(&app, &token, &format!("/api/v1/data/contributions/{id}"), &c).await.status(), 201);
    }
    let (status, html) = app.get_html("/kommune/05315000", "de").await;
    assert_eq!(status, 200);
    assert!(html.contains("Radverkehrskonzept") && !html.contains("Anderswo"), "only this municipality's processes");
    // The table beside the chart: April counts 0 here (its contribution is elsewhere).
    let html = html.replace(r#" class="kern-table__cell""#, "");
    let rows: Vec<&str> = html.match_indices("<tr><td>2026-").map(|(i, _)| &html[i + 8..i + 30]).collect();
    assert_eq!(rows, vec!["2026-03</td><td>1</td>", "2026-04</td><td>0</td>", "2026-05</td><td>2</td>"], "{rows:?}");
    assert_eq!(html.matches(r#"class="bar""#).count(), 3, "a bar per month");
    assert!(html.contains("Decidim Musterstadt: 1 Verfahren"), "the pushing tool, named: {source}");
    assert_eq!(app.get_html("/kommune/123", "de").await.0, 404);
}
