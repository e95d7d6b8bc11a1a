//! Background jobs: claimed once across instances, retried with backoff, taken over after a
//! crash; and the recurring housekeeping.

use crate::flows::*;
use crate::helpers::TestApp;

pub async fn expired_records_are_purged(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let client = app.add_client(tool("Tool")).await;
    let mut browser = app.browser();
    full_login(&app, &client, &mut browser).await;
    let store = app.store().await;
    let now = app.clock_now();
    assert_eq!(store.purge_expired(now).await.unwrap(), 0, "nothing has expired yet");
    // Two months on: the session, the code, the refresh token and the rate-limit rows are gone.
    let removed = store.purge_expired(now + time::Duration::days(60)).await.unwrap();
    assert!(removed >= 3, "removed {removed}");
    assert_eq!(browser.get("/konto").await.status, 303, "the session is gone");
}

/// A tool's back-channel endpoint that counts the logout tokens it receives per session id,
/// answering with what `answer` says for the n-th request (counting from 0).
async fn counting_receiver(
    answer: impl Fn(usize) -> (u16, std::time::Duration) + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::routing::post;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = seen.clone();
    let answer = std::sync::Arc::new(answer);
    let router = axum::Router::new().route(
        "/backchannel",
        post(move |body: String| {
            let (store, answer) = (store.clone(), answer.clone());
            async move {
                let token = form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let sid = mitsprache_oidc::jose::peek(&token).ok().and_then(|c| c["sid"].as_str().map(str::to_owned));
                let n = {
                    let mut seen = store.lock().unwrap();
                    seen.push(sid.unwrap_or_default());
                    seen.len() - 1
                };
                let (status, delay) = answer(n);
                tokio::time::sleep(delay).await;
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, seen)
}

/// Waits until `done` holds for the received session ids, up to `seconds`.
async fn until(
    seen: &std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    seconds: u64,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        let now = seen.lock().unwrap().clone();
        if done(&now) || std::time::Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn logout_job(app: &TestApp) -> mitsprache_store::JobRecord {
    let jobs = app.hub.jobs(Some("logout.backchannel"), 10).await.unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    jobs.into_iter().next().unwrap()
}

pub async fn two_instances_deliver_each_logout_once(app: TestApp) {
    let other = app.another_instance().await;
    let (uri, seen) = counting_receiver(|_| (200, std::time::Duration::ZERO)).await;
    let mut registration = tool("Zwei Instanzen");
    registration.backchannel_logout_uri = Some(uri);
    let client = app.add_client(registration).await;
    app.add_account(EMAIL, PASSWORD).await;
    // 20 logins and logouts, alternating between the instances; both workers look for due jobs.
    for i in 0..20 {
        let hub = if i % 2 == 0 { &app } else { &other };
        let mut browser = hub.browser();
        let tokens = full_login(hub, &client, &mut browser).await;
        let out = browser.get(&format!("/oidc/logout?id_token_hint={}", tokens["id_token"].as_str().unwrap())).await;
        assert_eq!(out.status, 200);
    }
    until(&seen, 20, |s| s.len() >= 20).await;
    // Time for a second delivery to show up, were one made.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let received = seen.lock().unwrap().clone();
    let mut sids = received.clone();
    sids.sort();
    sids.dedup();
    assert_eq!(sids.len(), 20, "20 sessions logged out");
    assert_eq!(received.len(), 20, "each delivered exactly once: {received:?}");
    let jobs = app.hub.jobs(Some("logout.backchannel"), 100).await.unwrap();
    assert_eq!(jobs.len(), 20);
    assert!(jobs.iter().all(|j| j.state == mitsprache_store::JobState::Done && j.attempts == 1), "{jobs:?}");
}

pub async fn a_refused_delivery_is_retried_with_backoff_and_keeps_its_error(app: TestApp) {
    // The tool refuses twice, then takes the logout.
    let (uri, seen) = counting_receiver(|n| (if n < 2 { 503 } else { 200 }, std::time::Duration::ZERO)).await;
    let mut registration = tool("Wackelig");
    registration.backchannel_logout_uri = Some(uri);
    let client = app.add_client(registration).await;
    app.add_account(EMAIL, PASSWORD).await;
    let mut browser = app.browser();
    let tokens = full_login(&app, &client, &mut browser).await;
    browser.get(&format!("/oidc/logout?id_token_hint={}", tokens["id_token"].as_str().unwrap())).await;
    until(&seen, 10, |s| !s.is_empty()).await;
    let failed_at = app.clock_now();
    let job = until_job(&app, |j| j.last_error.is_some()).await;
    assert_eq!(job.attempts, 1);
    assert_eq!(job.last_error.as_deref(), Some("HTTP 503"), "the error is kept in the row");
    assert_eq!(job.run_at, failed_at + time::Duration::seconds(20), "retried after the first backoff");
    assert_eq!(job.state, mitsprache_store::JobState::Queued);
    // Not before its time.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(seen.lock().unwrap().len(), 1);
    app.clock.advance(time::Duration::seconds(21));
    until(&seen, 10, |s| s.len() >= 2).await;
    let job = until_job(&app, |j| j.attempts == 2 && j.lease_owner.is_none()).await;
    assert_eq!(job.run_at, app.clock_now() + time::Duration::seconds(40), "the backoff doubles");
    app.clock.advance(time::Duration::seconds(41));
    until(&seen, 10, |s| s.len() >= 3).await;
    let job = until_job(&app, |j| j.state == mitsprache_store::JobState::Done).await;
    assert_eq!(job.attempts, 3);
    assert_eq!(job.last_error, None);
    let sids = seen.lock().unwrap().clone();
    assert!(sids.iter().all(|s| *s == sids[0]), "the same session each time: {sids:?}");
}

/// Waits until the one logout job satisfies `done`.
async fn until_job(app: &TestApp, done: impl Fn(&mitsprache_store::JobRecord) -> bool) -> mitsprache_store::JobRecord {
    for _ in 0..200 {
        let job = logout_job(app).await;
        if done(&job) {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    logout_job(app).await
}

pub async fn recurring_jobs_have_one_row_and_are_due_again_after_a_run(app: TestApp) {
    let other = app.another_instance().await;
    for kind in ["housekeeping", "keys.cleanup"] {
        let rows = other.hub.jobs(Some(kind), 10).await.unwrap();
        assert_eq!(rows.len(), 1, "{kind}: one row however many instances scheduled it");
        let row = &rows[0];
        assert!(row.lease_owner.is_none());
    }
    // Due at the first start: run once, then due again an hour (of hub time) later.
    let started = app.clock_now();
    for kind in ["housekeeping", "keys.cleanup"] {
        let mut row = other.hub.jobs(Some(kind), 1).await.unwrap().remove(0);
        for _ in 0..100 {
            if row.run_at > started {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            row = other.hub.jobs(Some(kind), 1).await.unwrap().remove(0);
        }
        assert_eq!(row.run_at, started + time::Duration::hours(1), "{kind} ran and is due again in an hour");
        assert_eq!(row.state, mitsprache_store::JobState::Queued);
        assert_eq!(row.attempts, 0);
    }
}

/// A hub process of its own (the built binary), killed with SIGKILL by the test.
pub(crate) struct Process {
    pub(crate) child: std::process::Child,
    pub(crate) base: String,
}

impl Process {
    /// Starts `mitsprache serve` on a free port; `public_url` is the deployment's (every
    /// instance of one has the same), `None` for this instance's own address.
    pub(crate) async fn start(database: &str, dir: &std::path::Path, name: &str, public_url: Option<&str>) -> Process {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mitsprache"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database", database])
            .env("MITSPRACHE_PUBLIC_URL", public_url.unwrap_or(&base))
            .env("MITSPRACHE_JOBS__LEASE_SECONDS", "3")
            .env("MITSPRACHE_MAIL__OUTBOX", dir.join("outbox"))
            .env("MITSPRACHE_LOG__LEVEL", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the hub binary starts");
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
                return Process { child, base };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "hub {name} did not start: {}",
            std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
        );
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn an_instance_killed_mid_delivery_loses_no_logout(app: TestApp) {
    let (database, dir) = crate::helpers::fresh_database(app.backend).await;
    // The tool takes its time with the first delivery (the instance dies meanwhile), and answers
    // the next at once.
    let (uri, seen) = counting_receiver(|n| {
        (200, if n == 0 { std::time::Duration::from_secs(30) } else { std::time::Duration::ZERO })
    })
    .await;
    let first = Process::start(&database, dir.path(), "first", None).await;
    // Set up through the application layer on the same database, as the CLI would.
    let mut config = app.config.clone();
    config.database = database.clone();
    config.public_url = first.base.clone();
    let hub = mitsprache::startup::hub(&config, std::sync::Arc::new(mitsprache_domain::SystemClock)).await.unwrap();
    hub.create_account(mitsprache_hub::accounts::NewAccount {
        email: EMAIL,
        password: Some(PASSWORD),
        name: None,
        locale: mitsprache_domain::Locale::De,
        role: mitsprache_domain::Role::Citizen,
        verified: true,
        upstream: None,
    })
    .await
    .unwrap();
    let mut registration = tool("Langsames Werkzeug");
    registration.backchannel_logout_uri = Some(uri);
    registration.first_party = true;
    let request = mitsprache_hub::clients::ClientRequest { registration, sector_identifier_uri: None };
    let registered = hub.register_client(request, false).await.unwrap();
    let client = (registered.client.id.clone(), registered.secret.clone().unwrap());
    // Log in and out through the first instance.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut browser =
        crate::helpers::Browser { base: first.base.clone(), client: http.clone(), cookies: Default::default() };
    let done = login_and_consent(&mut browser, &authorize_url(&client.0, &[]), EMAIL, PASSWORD).await;
    let code = query_of(done.location.as_deref().unwrap())["code"].clone();
    let tokens: serde_json::Value = http
        .post(format!("{}/oidc/token", first.base))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let out = browser.get(&format!("/oidc/logout?id_token_hint={}", tokens["id_token"].as_str().unwrap())).await;
    assert_eq!(out.status, 200);
    // The first instance is posting the logout token: kill it there.
    let received = until(&seen, 20, |s| !s.is_empty()).await;
    assert_eq!(received.len(), 1, "the first instance is delivering");
    let mut first = first;
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let leased = hub.jobs(Some("logout.backchannel"), 10).await.unwrap().remove(0);
    assert!(leased.lease_owner.is_some(), "the dead instance still holds the lease");
    assert_eq!(leased.state, mitsprache_store::JobState::Queued);
    // A second instance takes the job over once the lease has run out (3 s here).
    let _second = Process::start(&database, dir.path(), "second", Some(&config.public_url)).await;
    let received = until(&seen, 30, |s| s.len() >= 2).await;
    assert_eq!(received.len(), 2, "delivered again by the second instance");
    assert_eq!(received[0], received[1], "the same session");
    let mut job = hub.jobs(Some("logout.backchannel"), 10).await.unwrap().remove(0);
    for _ in 0..100 {
        if job.state == mitsprache_store::JobState::Done {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        job = hub.jobs(Some("logout.backchannel"), 10).await.unwrap().remove(0);
    }
    assert_eq!(job.state, mitsprache_store::JobState::Done, "{job:?}");
    assert_eq!(job.attempts, 2);
}

/// A claim is its own lease holder: when a job's lease expires and it is claimed again (by
/// another instance, or by the same worker), the first run can neither extend the lease nor
/// record an outcome, so its worker stops it.
pub async fn a_job_claimed_again_belongs_to_the_new_claim(app: TestApp) {
    let store = app.store().await;
    let jobs = store.jobs();
    let now = app.clock_now();
    let job = mitsprache_store::NewJob {
        id: "lease-test".into(),
        kind: "test.lease",
        payload: "null".into(),
        run_at: now,
        max_attempts: 3,
        created_at: now,
    };
    jobs.enqueue(&job).await.unwrap();
    let lease = time::Duration::seconds(30);
    let first = jobs.claim("worker-a/1", &["test.lease"], 5, now, now + lease).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(jobs.claim("worker-b/1", &["test.lease"], 5, now, now + lease).await.unwrap().is_empty(), "leased");
    let later = now + lease + time::Duration::seconds(1);
    let second = jobs.claim("worker-a/2", &["test.lease"], 5, later, later + lease).await.unwrap();
    assert_eq!(second.len(), 1, "an expired lease is claimed again");
    assert_eq!(second[0].attempts, 2);
    assert!(!jobs.heartbeat("lease-test", "worker-a/1", later + lease).await.unwrap(), "the old claim lost it");
    assert!(!jobs.succeed("lease-test", "worker-a/1", later, None).await.unwrap());
    assert!(jobs.succeed("lease-test", "worker-a/2", later, None).await.unwrap());
    let record = jobs.list(Some("test.lease"), 1).await.unwrap().remove(0);
    assert_eq!(record.state, mitsprache_store::JobState::Done);
    assert_eq!(record.created_at, now);
}
