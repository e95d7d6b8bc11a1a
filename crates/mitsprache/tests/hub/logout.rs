//! Logout: RP-initiated and the hub's own, with back-channel logout tokens to every tool.

use crate::flows::*;
use crate::helpers::TestApp;
use mitsprache_oidc::jose::verify;

pub async fn logout_reaches_every_tool_of_the_session(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let (backchannel, seen) = logout_receiver().await;
    let mut registration = tool("Tool mit Abmeldung");
    registration.backchannel_logout_uri = Some(backchannel);
    let client = app.add_client(registration).await;
    let mut browser = app.browser();
    let tokens = full_login(&app, &client, &mut browser).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let id = verify(id_token, &keys(&app).await).unwrap();
    // An unregistered post-logout address is refused with a page.
    let bad = browser
        .get(&format!("/oidc/logout?id_token_hint={id_token}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F"))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.location.is_none());
    // With the ID token of this session, logout needs no confirmation and returns to the tool.
    let out = browser
        .get(&format!(
            "/oidc/logout?id_token_hint={id_token}&post_logout_redirect_uri=https%3A%2F%2Ftool.example%2Fbye&state=s9"
        ))
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("https://tool.example/bye?state=s9"));
    let tokens_seen = wait_for(&seen, 1).await;
    let logout = verify(&tokens_seen[0], &keys(&app).await).unwrap();
    assert_eq!(logout.header["typ"], "logout+jwt");
    assert_eq!(logout.claims["sid"], id.claims["sid"]);
    assert_eq!(logout.claims["sub"], id.claims["sub"]);
    assert!(logout.claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(logout.claims.get("nonce").is_none());
    // The session is over: prompt=none now fails.
    let page = browser.get(&authorize_url(&client.0, &[("prompt", "none")])).await;
    assert_eq!(query_of(page.location.as_deref().unwrap())["error"], "login_required");
    // Without a hint the hub asks first.
    let tokens = full_login(&app, &client, &mut browser).await;
    assert!(tokens["id_token"].is_string());
    let ask = browser.get("/oidc/logout").await;
    assert_eq!(ask.status, 200);
    assert!(ask.body.contains("/oidc/logout/bestaetigen"));
    // Deleting the account logs the tool out as well.
    let account = browser.get("/konto").await;
    let deleted = browser.post("/konto/loeschen", &[("csrf", &account.input("csrf")), ("password", PASSWORD)]).await;
    assert_eq!(deleted.status, 303, "on to the deletion receipt");
    wait_for(&seen, 2).await;
    assert!(app.hub.account_by_email(EMAIL).await.unwrap().is_none());
}

pub async fn a_failed_back_channel_logout_is_retried(app: TestApp) {
    use axum::routing::post;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // The tool is down for the first delivery and up for the next.
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/backchannel", listener.local_addr().unwrap());
    let router = axum::Router::new().route(
        "/backchannel",
        post(move || {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move { if n == 0 { axum::http::StatusCode::SERVICE_UNAVAILABLE } else { axum::http::StatusCode::OK } }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    app.add_account(EMAIL, PASSWORD).await;
    let mut registration = tool("Zeitweise erreichbar");
    registration.backchannel_logout_uri = Some(uri);
    let client = app.add_client(registration).await;
    let mut browser = app.browser();
    let tokens = full_login(&app, &client, &mut browser).await;
    let out = browser.get(&format!("/oidc/logout?id_token_hint={}", tokens["id_token"].as_str().unwrap())).await;
    assert_eq!(out.status, 200);
    for _ in 0..100 {
        if calls.load(Ordering::SeqCst) >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "first attempt made");
    // The failure is recorded after the tool answered: advancing the clock before it would
    // put the retry 20 seconds after the advanced time.
    for _ in 0..100 {
        let jobs = app.hub.jobs(Some("logout.backchannel"), 10).await.unwrap();
        if jobs.iter().any(|j| j.last_error.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The retry is due 20 seconds later (hub time); the worker looks every second.
    app.clock.advance(time::Duration::seconds(30));
    for _ in 0..160 {
        if calls.load(Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2, "retried after the backoff");
    let mut jobs = Vec::new();
    for _ in 0..100 {
        jobs = app.hub.jobs(Some("logout.backchannel"), 10).await.unwrap();
        if jobs.iter().all(|j| j.state == mitsprache_store::JobState::Done) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].state, mitsprache_store::JobState::Done, "delivered, nothing left to send");
    assert_eq!(jobs[0].attempts, 2);
}

/// Stock OmniAuth logs out with only `post_logout_redirect_uri` (no ID token hint, no client
/// id). The hub cannot tell whose address that is: it asks, ends the session, and shows its
/// own page instead of redirecting anywhere (RP-Initiated Logout 1.0 §2, §3).
pub async fn a_logout_with_only_a_return_address_asks_and_ends_the_session(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let client = app.add_client(tool("OmniAuth")).await;
    let mut browser = app.browser();
    full_login(&app, &client, &mut browser).await;
    let ask = browser.get("/oidc/logout?post_logout_redirect_uri=https%3A%2F%2Ftool.example%2Fbye").await;
    assert_eq!(ask.status, 200, "a question, not an error");
    assert!(ask.body.contains("/oidc/logout/bestaetigen"));
    let confirmed = browser
        .post(
            "/oidc/logout/bestaetigen",
            &[("csrf", &ask.input("csrf")), ("post_logout_redirect_uri", "https://tool.example/bye")],
        )
        .await;
    assert_eq!(confirmed.status, 200, "the hub's own page");
    assert!(confirmed.location.is_none(), "no redirect to an address no tool vouched for");
    assert!(confirmed.body.contains("Abgemeldet"));
    assert_eq!(browser.get("/konto").await.status, 303, "the hub session has ended");
    // Without a session there is nothing to ask.
    let again = browser.get("/oidc/logout?post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F").await;
    assert_eq!(again.status, 200);
    assert!(again.location.is_none());
}
