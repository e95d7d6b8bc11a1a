//! The findings of the December 2026 security probe (`shared/research/security-probe-2026-12.md`),
//! each driven as the probe drove it, each failing without its fix.

use crate::flows::*;
use crate::helpers::{Browser, Page, TestApp, assert_problem};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A browser with its own CSRF cookie, on the login page.
async fn login_page(app: &TestApp) -> (Browser, Page) {
    let mut b = app.browser();
    let page = b.get("/anmelden").await;
    (b, page)
}

/// Runs the tasks at once and returns their outputs.
async fn all<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// M1: 40 wrong passwords sent at once are all counted before any is checked: the limit per
/// account (5) holds, and the right password behind them is refused too.
pub async fn parallel_logins_cannot_outrun_the_limit(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let mut ready = Vec::new();
    for i in 0..40 {
        let (b, page) = login_page(&app).await;
        ready.push((b, page.input("csrf"), format!("falsches Passwort Nummer {i}")));
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(40));
    let tasks = ready
        .into_iter()
        .map(|(mut b, csrf, wrong)| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let form = [("email", EMAIL), ("password", wrong.as_str()), ("csrf", csrf.as_str()), ("anfrage", "")];
                b.post("/anmelden", &form).await.status
            })
        })
        .collect();
    let statuses = all(tasks).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 35), "{statuses:?}");
    let (mut b, page) = login_page(&app).await;
    assert_eq!(submit_login(&mut b, &page, EMAIL, PASSWORD).await.status, 429, "the right password waits too");
}

/// M2: a registration with a taken address answers exactly like one with a new address, and
/// neither signs anybody in.
pub async fn registration_tells_nobody_whether_an_address_is_taken(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let register = |email: &'static str| {
        let mut b = app.browser();
        async move {
            let page = b.get("/registrieren").await;
            b.post(
                "/registrieren",
                &[("email", email), ("password", "ein Satz für die Probe"), ("csrf", &page.input("csrf"))],
            )
            .await
        }
    };
    let known = register(EMAIL).await;
    let new = register("neu-bei-der-probe@example.org").await;
    assert_eq!((known.status, new.status), (200, 200));
    assert_eq!(known.body, new.body);
    assert_eq!(known.location, new.location);
    for page in [&known, &new] {
        let cookies: Vec<_> =
            page.headers.get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_owned()).collect();
        assert!(!cookies.iter().any(|c| c.contains("session")), "no session: {cookies:?}");
    }
}

/// M3: three catalogue writers at once, with refresh-token rotations beside them, never get a
/// 5xx (on SQLite every writer takes the write lock at BEGIN and waits its turn).
pub async fn concurrent_writers_and_rotations_never_fail(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let client = app.add_client(tool("Dauerläufer")).await;
    let tokens = full_login(&app, &client, &mut app.browser()).await;
    let template = app.tool_json("decidim").await;
    let before = app.total_tools().await;
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (http, base, token, template) =
                (app.client.clone(), app.address.clone(), app.editor_token.clone(), template.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..15 {
                    let slug = format!("probe-{w}-{i}");
                    let mut body = template.clone();
                    body["slug"] = json!(slug);
                    body["name"] = json!(slug);
                    let r = http
                        .put(format!("{base}/api/v1/tools/{slug}"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    statuses.push(r.status().as_u16());
                }
                statuses
            })
        })
        .collect();
    let rotations = {
        let (http, base, client) = (app.client.clone(), app.address.clone(), client.clone());
        let mut refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..30 {
                let r = http
                    .post(format!("{base}/oidc/token"))
                    .basic_auth(&client.0, Some(&client.1))
                    .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())])
                    .send()
                    .await
                    .unwrap();
                statuses.push(r.status().as_u16());
                if let Ok(body) = r.json::<Value>().await
                    && let Some(next) = body["refresh_token"].as_str()
                {
                    refresh = next.to_owned();
                }
            }
            statuses
        })
    };
    let written: Vec<u16> = all(writers).await.into_iter().flatten().collect();
    let rotated = rotations.await.unwrap();
    assert!(written.iter().all(|s| *s == 201), "catalogue writes: {written:?}");
    assert!(rotated.iter().all(|s| *s == 200), "rotations: {rotated:?}");
    assert_eq!(app.total_tools().await, before + 45);
}

/// M4: an editor who logs into an ordinary tool gives that tool no right to edit the catalogue:
/// writes need the catalogue:write scope and the API's audience, not just the role.
pub async fn a_tools_login_token_cannot_edit_the_catalogue(app: TestApp) {
    let account = app.add_account(EMAIL, PASSWORD).await;
    app.hub.set_role(&account, mitsprache_domain::Role::Editor).await.unwrap();
    let client = app.add_client(tool("Irgendein Werkzeug")).await;
    // Asking for the scope does not help a tool that is not registered for it.
    let tokens = full_login(&app, &client, &mut app.browser()).await;
    let at = tokens["access_token"].as_str().unwrap();
    let body = app.tool_json("decidim").await;
    let r = app.client.put(app.url("/api/v1/tools/decidim")).bearer_auth(at).json(&body).send().await.unwrap();
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
    assert_problem(r, 403, "forbidden").await;
    let asked = authorize_url(&client.0, &[("scope", "openid catalogue:write")]);
    let done = login_and_consent(&mut app.browser(), &asked, EMAIL, PASSWORD).await;
    let code = query_of(done.location.as_deref().unwrap())["code"].clone();
    let tokens: Value = exchange(&app, &client, &code, VERIFIER).await.json().await.unwrap();
    assert_eq!(tokens["scope"], "openid", "the scope is dropped for a tool not registered for it");
    let r = app
        .client
        .put(app.url("/api/v1/tools/decidim"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, "forbidden").await;
}

/// L1: a password reset ends what the old password gave, offline_access grants included.
pub async fn a_password_reset_ends_offline_grants_too(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let client = app.add_client(tool("Mit Offline-Zugriff")).await;
    let url = authorize_url(&client.0, &[("scope", "openid email offline_access")]);
    let done = login_and_consent(&mut app.browser(), &url, EMAIL, PASSWORD).await;
    let code = query_of(done.location.as_deref().unwrap())["code"].clone();
    let tokens: Value = exchange(&app, &client, &code, VERIFIER).await.json().await.unwrap();
    assert!(tokens["scope"].as_str().unwrap().contains("offline_access"));
    let mut b = app.browser();
    let page = b.get("/passwort-vergessen").await;
    b.post("/passwort-vergessen", &[("email", EMAIL), ("csrf", &page.input("csrf"))]).await;
    let mail = app.mail(0).await;
    let line = mail.lines().find(|l| l.contains("/passwort-neu?token=")).unwrap().trim().to_owned();
    let path = format!("/passwort-neu{}", line.split_once("/passwort-neu").unwrap().1);
    let form = b.get(&path).await;
    let reset = b
        .post(
            "/passwort-neu",
            &[("token", &form.input("token")), ("password", "ein ganz neues Passwort"), ("csrf", &form.input("csrf"))],
        )
        .await;
    assert_eq!(reset.status, 200);
    let refresh = token(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(refresh.status(), 400, "the refresh token from before the reset is dead");
    let info = app
        .client
        .get(app.url("/oidc/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 401);
}

/// L2: a client learns nothing from introspecting another client's tokens.
pub async fn introspection_answers_only_about_the_callers_own_tokens(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let web = app.add_client(tool("Web Tool")).await;
    let tokens = full_login(&app, &web, &mut app.browser()).await;
    let machine = app
        .add_client(mitsprache_oidc::client::Registration {
            name: "Fremder Dienst".into(),
            grant_types: vec![mitsprache_oidc::client::GrantType::ClientCredentials],
            ..Default::default()
        })
        .await;
    let other_web = app.add_client(tool("Web Tool B")).await;
    for caller in [&machine, &other_web] {
        for t in ["access_token", "refresh_token"] {
            assert_eq!(introspect(&app, caller, tokens[t].as_str().unwrap()).await, json!({"active": false}), "{t}");
        }
    }
    assert_eq!(introspect(&app, &web, tokens["access_token"].as_str().unwrap()).await["active"], true);
    assert_eq!(introspect(&app, &web, tokens["refresh_token"].as_str().unwrap()).await["active"], true);
}

/// L4: a control character in `anfrage` is refused with a page before any session or account
/// exists (it used to reach the Location header and end in a 500).
pub async fn control_characters_in_the_request_reference_are_refused(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    for bad in ["a\nb", "x\u{7f}", "\0"] {
        let (mut b, page) = login_page(&app).await;
        let csrf = page.input("csrf");
        let form = [("email", EMAIL), ("password", PASSWORD), ("csrf", csrf.as_str()), ("anfrage", bad)];
        let r = b.post("/anmelden", &form).await;
        assert_eq!(r.status, 400, "{bad:?}");
        assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(!r.headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap().contains("session")));
        let page = b.get("/registrieren").await;
        let email = "kontrollzeichen@example.org";
        let csrf = page.input("csrf");
        let form = [("email", email), ("password", PASSWORD), ("csrf", csrf.as_str()), ("anfrage", bad)];
        assert_eq!(b.post("/registrieren", &form).await.status, 400);
        assert!(app.hub.account_by_email(email).await.unwrap().is_none(), "no account was created");
    }
}

/// L6: a client that sends half a request head is cut off after the header-read timeout.
pub async fn a_request_head_must_arrive_in_time(app: TestApp) {
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream.write_all(b"GET /marktplatz HTTP/1.1\r\nHost: hub\r\nX-a: ").await.unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 512];
    let limit = mitsprache_web::serve::HEADER_READ_TIMEOUT + std::time::Duration::from_secs(5);
    let read = tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the connection stayed open for {:?}", started.elapsed());
}

/// L8: common, repetitive and sequential passwords are refused (NIST SP 800-63B), on the form.
pub async fn guessable_passwords_are_refused(app: TestApp) {
    for weak in ["aaaaaaaaaa", "1234567890", "password123", "passwort12", "          "] {
        let mut b = app.browser();
        let page = b.get("/registrieren").await;
        let r = b
            .post(
                "/registrieren",
                &[("email", "schwach@example.org"), ("password", weak), ("csrf", &page.input("csrf"))],
            )
            .await;
        assert_eq!(r.status, 422, "{weak:?}");
        assert!(r.body.contains("zu leicht zu erraten"), "{weak:?}");
    }
    assert!(app.hub.account_by_email("schwach@example.org").await.unwrap().is_none());
}

/// L11: every 4xx is in the format of its route group, also those axum and the body limit make.
pub async fn every_route_group_answers_errors_in_its_own_format(app: TestApp) {
    let html = |r: &reqwest::Response| r.headers()["content-type"].to_str().unwrap().starts_with("text/html");
    // Pages: a form without a field, a repeated query field, an oversized form, a wrong method.
    let (b, page) = login_page(&app).await;
    let cookies: String = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let csrf = page.input("csrf");
    let missing = app
        .client
        .post(app.url("/anmelden"))
        .header("cookie", &cookies)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert!(html(&missing) && missing.headers().contains_key("content-security-policy"));
    let repeated = app.client.get(app.url("/anmelden?anfrage=a&anfrage=b")).send().await.unwrap();
    assert_eq!(repeated.status(), 400);
    assert!(html(&repeated));
    // A raw connection: oversized bodies are announced, not sent (the hub refuses them by
    // their Content-Length before reading), and unparseable requests are written as they are.
    let raw = |request: Vec<u8>| {
        let address = app.address.trim_start_matches("http://").to_owned();
        async move {
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            // The server may answer before it has read it all.
            let _ = stream.write_all(&request).await;
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer).await;
            String::from_utf8_lossy(&answer).into_owned()
        }
    };
    // 2 MiB announced, over the 1 MiB limit.
    let oversized = |path: &str, extra: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n{extra}\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 2097152\r\n\r\nemail=x"
        )
        .into_bytes()
    };
    let large = raw(oversized("/anmelden", &format!("Cookie: {cookies}\r\n"))).await;
    assert!(large.starts_with("HTTP/1.1 413"), "{}", &large[..large.len().min(300)]);
    assert!(large.contains("text/html") && large.contains("<h1 "), "{}", &large[..large.len().min(300)]);
    let wrong_method = app.client.put(app.url("/anmelden")).send().await.unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert!(html(&wrong_method));
    // The API: problem+json for a method the route lacks.
    assert_problem(app.client.delete(app.url("/api/v1/catalogue")).send().await.unwrap(), 405, "method-not-allowed")
        .await;
    assert_problem(app.client.patch(app.url("/api/v1/tools/decidim")).send().await.unwrap(), 405, "method-not-allowed")
        .await;
    // The OAuth endpoints: RFC 6749 JSON for an oversized body and a wrong method.
    let oauth = |r: reqwest::Response, status: u16| async move {
        assert_eq!(r.status(), status);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{body}");
    };
    let large = raw(oversized("/oidc/token", "")).await;
    assert!(large.starts_with("HTTP/1.1 413"), "{}", &large[..large.len().min(300)]);
    assert!(large.contains("application/json") && large.contains("\"error\":\"invalid_request\""), "{large}");
    oauth(app.client.get(app.url("/oidc/token")).send().await.unwrap(), 405).await;
    oauth(app.client.put(app.url("/oidc/introspect")).send().await.unwrap(), 405).await;
    let invalid = raw(b"GET /api/v1/tools/\xff\xfe HTTP/1.1\r\nHost: hub\r\n\r\n".to_vec()).await;
    assert!(invalid.starts_with("HTTP/1.1 400"), "{invalid}");
    assert!(invalid.contains("application/problem+json") && invalid.contains("\"code\":\"invalid-body\""), "{invalid}");
    let long =
        raw(format!("GET /marktplatz?q={} HTTP/1.1\r\nHost: hub\r\n\r\n", "a".repeat(100_000)).into_bytes()).await;
    assert!(long.starts_with("HTTP/1.1 414"), "{}", &long[..long.len().min(300)]);
    assert!(long.contains("text/html") && long.contains("content-security-policy") && long.contains("<h1 "));
    let headers =
        raw(format!("POST /oidc/token HTTP/1.1\r\nHost: hub\r\nX-Big: {}\r\n\r\n", "a".repeat(1_000_000)).into_bytes())
            .await;
    assert!(headers.starts_with("HTTP/1.1 431"), "{}", &headers[..headers.len().min(300)]);
    assert!(headers.contains("\"error\":\"invalid_request\""), "{}", &headers[..headers.len().min(300)]);
}

/// L12: the 404 page carries the pages' Content-Security-Policy.
pub async fn the_not_found_page_has_a_content_security_policy(app: TestApp) {
    let r = app.get("/nichts").await;
    assert_eq!(r.status(), 404);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(r.text().await.unwrap().contains("<h1 "));
}
