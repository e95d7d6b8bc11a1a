//! Sources of pulled data: what `source add` accepts, one sync per source at a time, and a
//! failed sync logged without touching the records. The connectors themselves run against
//! servers in the tools' real API shapes in tests/connectors (scripts/test).

use crate::helpers::TestApp;
use mitsprache_hub::Error;
use mitsprache_hub::connectors::{NewSource, SourceKind};

fn source(name: &str, kind: SourceKind, url: &str) -> NewSource {
    NewSource {
        name: name.into(),
        kind,
        url: url.into(),
        municipality: Some("05315000".into()),
        credentials: None,
        interval_minutes: 60,
    }
}

pub async fn a_source_is_checked_and_synced_once_at_a_time(app: TestApp) {
    let hub = &app.hub;
    for (bad, field) in [
        (source("Decidim Köln", SourceKind::Decidim, "https://d.example"), "name"),
        (source("d", SourceKind::Decidim, "ftp://d.example"), "url"),
        (source("d", SourceKind::Decidim, "https://d.example/?x=1"), "url"),
        (
            NewSource { municipality: Some("123".into()), ..source("d", SourceKind::Decidim, "https://d.example") },
            "municipality",
        ),
        (NewSource { interval_minutes: 1, ..source("d", SourceKind::Decidim, "https://d.example") }, "interval"),
        (
            NewSource { credentials: Some("[1]".into()), ..source("d", SourceKind::Decidim, "https://d.example") },
            "credentials",
        ),
    ] {
        match hub.add_source(bad).await {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }

    // Port 9 (discard) refuses connections on this machine: the walk fails at its first request.
    let added = hub.add_source(source("open311-bonn", SourceKind::Open311, "http://127.0.0.1:9/")).await.unwrap();
    assert_eq!(added.url, "http://127.0.0.1:9");
    assert!(matches!(
        hub.add_source(source("open311-bonn", SourceKind::Open311, "http://127.0.0.1:9")).await,
        Err(Error::Conflict(_))
    ));

    let store = app.store().await;
    let now = app.clock_now();
    assert!(store.sources().lease("open311-bonn", now, now + time::Duration::hours(1)).await.unwrap());
    assert!(matches!(hub.sync_source("open311-bonn", &|_, _| {}).await, Err(Error::Conflict(_))));
    store.sources().release("open311-bonn").await.unwrap();
    assert!(matches!(hub.sync_source("open311-bonn", &|_, _| {}).await, Err(Error::Unavailable(_))));
    let log = hub.source_syncs("open311-bonn", 10).await.unwrap();
    assert_eq!(log.len(), 1);
    // Tried again twice, then given up.
    let tries = 1 + i64::from(mitsprache_hub::connectors::TRANSPORT_RETRIES);
    assert!(!log[0].ok && log[0].requests == tries && !log[0].message.is_empty(), "{log:?}");
    // The failed sync released its lease.
    assert!(store.sources().lease("open311-bonn", now, now + time::Duration::hours(1)).await.unwrap());
    assert!(matches!(hub.sync_source("nope", &|_, _| {}).await, Err(Error::NotFound)));

    // The operator's page shows the source and its failed sync; nobody else sees it.
    let password = "ein Passwort für den Quellentest";
    let admin = app.add_account("quellen@example.org", password).await;
    app.hub.set_role(&admin, mitsprache_domain::Role::Admin).await.unwrap();
    let mut browser = app.browser();
    let login = browser.get("/anmelden").await;
    let done = browser
        .post("/anmelden", &[("email", "quellen@example.org"), ("password", password), ("csrf", &login.input("csrf"))])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = browser.get("/admin/quellen").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("open311-bonn") && page.body.contains("http://127.0.0.1:9"), "{}", page.body);
    assert!(page.body.contains("fehlgeschlagen, nichts geändert"), "{}", page.body);
    assert_ne!(app.browser().get("/admin/quellen").await.status, 200);

    // Its sync is a recurring job, first due after one interval.
    let jobs = hub.jobs(Some("source.sync"), 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].run_at > now + time::Duration::minutes(59), "{:?}", jobs[0]);

    // A Go Vocal webhook signed with the source's secret brings its sync forward; a wrong or
    // missing signature, another kind of source or an unknown one change nothing.
    let secret = r#"{"client_id":"c","client_secret":"s","webhook_secret":"geheim"}"#;
    let govocal = NewSource {
        credentials: Some(secret.into()),
        ..source("govocal-test", SourceKind::Govocal, "http://127.0.0.1:9")
    };
    hub.add_source(govocal).await.unwrap();
    let body = br#"{"event":"idea.created","data":{}}"#;
    let sign = |secret: &[u8], body: &[u8]| {
        use base64::Engine;
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
        format!("sha256={}", base64::engine::general_purpose::STANDARD.encode(aws_lc_rs::hmac::sign(&key, body)))
    };
    let due = || async {
        let jobs = hub.jobs(Some("source.sync"), 10).await.unwrap();
        jobs.into_iter().find(|j| j.payload.contains("govocal-test")).unwrap().run_at
    };
    for signature in [None, Some(sign(b"anders", body)), Some(sign(b"geheim", b"{}"))] {
        assert!(matches!(
            hub.source_webhook("govocal-test", signature.as_deref(), body).await,
            Err(Error::Unauthenticated)
        ));
    }
    assert!(due().await > now + time::Duration::minutes(59));
    let good = sign(b"geheim", body);
    assert!(matches!(hub.source_webhook("open311-bonn", Some(&good), body).await, Err(Error::NotFound)));
    assert!(matches!(hub.source_webhook("nope", Some(&good), body).await, Err(Error::NotFound)));
    hub.source_webhook("govocal-test", Some(&good), body).await.unwrap();
    assert!(due().await <= app.clock_now());
    // The same delivery again is harmless: the sync is due already.
    hub.source_webhook("govocal-test", Some(&good), body).await.unwrap();
}
