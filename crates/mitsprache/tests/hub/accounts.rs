//! Accounts in the browser: registration with verification, login and its limits, password
//! reset, the account page and its export, and what every form and cookie must carry.

use crate::flows::*;
use crate::helpers::{Browser, TestApp};
use serde_json::Value;

pub async fn login_is_rate_limited_without_revealing_accounts(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let mut browser = app.browser();
    let login = browser.get("/anmelden").await;
    let csrf = login.input("csrf");
    let attempt = |email: &'static str, password: &'static str| {
        let csrf = csrf.clone();
        let mut b =
            Browser { base: browser.base.clone(), client: app.client.clone(), cookies: browser.cookies.clone() };
        async move {
            b.post("/anmelden", &[("email", email), ("password", password), ("csrf", &csrf), ("anfrage", "")]).await
        }
    };
    let unknown = attempt("nobody@example.org", "irgendein Passwort").await;
    let wrong = attempt(EMAIL, "falsches Passwort!!").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    assert!(unknown.body.contains("E-Mail-Adresse oder Passwort ist falsch"));
    assert!(wrong.body.contains("E-Mail-Adresse oder Passwort ist falsch"));
    for _ in 0..4 {
        attempt(EMAIL, "falsches Passwort!!").await;
    }
    // Even the right password is refused now, with a clear message.
    let limited = attempt(EMAIL, PASSWORD).await;
    assert_eq!(limited.status, 429);
    assert!(limited.body.contains("Zu viele fehlgeschlagene Anmeldeversuche"));
    // After the window the right password works again.
    app.clock.advance(time::Duration::minutes(16));
    assert_eq!(attempt(EMAIL, PASSWORD).await.status, 303);
    // Without the CSRF token nothing is checked.
    let r = app
        .client
        .post(app.url("/anmelden"))
        .form(&[("email", EMAIL), ("password", PASSWORD), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

pub async fn registration_verification_and_password_reset_go_by_mail(app: TestApp) {
    let register = |email: &'static str, password: &'static str| {
        let mut b = app.browser();
        async move {
            let page = b.get("/registrieren").await;
            let done = b
                .post("/registrieren", &[("email", email), ("password", password), ("csrf", &page.input("csrf"))])
                .await;
            (done, b)
        }
    };
    let (done, mut browser) = register("Neu@Example.org", PASSWORD).await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("Bitte prüfen Sie Ihr Postfach"));
    assert!(
        !done.headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap().contains("session")),
        "no session yet"
    );
    assert_eq!(browser.get("/konto").await.status, 303, "nobody is signed in before the address is confirmed");
    let mail = app.mail(0).await;
    assert!(mail.contains("To: neu@example.org"), "{mail}");
    let link_in = |mail: &str, path: &str| {
        let line = mail.lines().find(|l| l.contains(&format!("{path}?token="))).expect("link").trim().to_owned();
        line.split_once(path).map(|(_, rest)| format!("{path}{rest}")).unwrap()
    };
    // The right password before the confirmation: refused, and a fresh link is on its way.
    let login = browser.get("/anmelden").await;
    let early = submit_login(&mut browser, &login, "neu@example.org", PASSWORD).await;
    assert_eq!(early.status, 403);
    assert!(early.body.contains("bestätigen"));
    assert!(app.mail(1).await.contains("/email-bestaetigen?token="), "a fresh link");
    let path = link_in(&mail, "/email-bestaetigen");
    let verified = browser.get(&path).await;
    assert_eq!(verified.status, 200);
    assert!(verified.body.contains(r#"href="/anmelden""#), "the page leads to the login");
    assert_eq!(browser.get(&path).await.status, 400, "a link works once");
    let login = browser.get("/anmelden").await;
    assert_eq!(submit_login(&mut browser, &login, "neu@example.org", PASSWORD).await.status, 303);
    assert!(!browser.get("/konto").await.body.contains("noch nicht bestätigt"));
    // A second registration with the same address answers exactly the same; the owner is mailed.
    let (again, _) = register("neu@example.org", "ein anderes Passwort").await;
    assert_eq!(again.status, done.status);
    assert_eq!(again.body, done.body);
    assert!(app.mail(2).await.contains("/passwort-vergessen"));
    // Password reset by mail ends every session.
    let mut other = app.browser();
    let page = other.get("/passwort-vergessen").await;
    other.post("/passwort-vergessen", &[("email", "neu@example.org"), ("csrf", &page.input("csrf"))]).await;
    let path = link_in(&app.mail(3).await, "/passwort-neu");
    let form = other.get(&path).await;
    assert_eq!(form.headers["referrer-policy"], "no-referrer");
    let token = form.input("token");
    let reset = other
        .post(
            "/passwort-neu",
            &[("token", &token), ("password", "ein ganz neues Passwort"), ("csrf", &form.input("csrf"))],
        )
        .await;
    assert_eq!(reset.status, 200);
    assert_eq!(browser.get("/konto").await.status, 303, "the old session ended");
    // Nothing is mailed for unknown addresses, and the page says the same.
    let page = other.get("/passwort-vergessen").await;
    let unknown =
        other.post("/passwort-vergessen", &[("email", "nobody@example.org"), ("csrf", &page.input("csrf"))]).await;
    assert_eq!(unknown.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail.lock().unwrap().len(), 4);
}

pub async fn the_account_page_exports_everything_about_the_person(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let client = app.add_client(tool("Umfragen")).await;
    let mut browser = app.browser();
    full_login(&app, &client, &mut browser).await;
    let account = browser.get("/konto").await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains(EMAIL) && account.body.contains("Umfragen"));
    let export = browser.get("/konto/daten.json").await;
    let data: Value = serde_json::from_str(&export.body).unwrap();
    assert_eq!(data["account"]["email"], EMAIL);
    assert!(data["account"].get("password_hash").is_none(), "no hash in the export");
    assert_eq!(data["grants"][0]["tool"], "Umfragen");
    assert_eq!(data["sessions"].as_array().unwrap().len(), 1);
    // Logging out everywhere ends the session.
    let out = browser.post("/konto/ueberall-abmelden", &[("csrf", &account.input("csrf"))]).await;
    assert_eq!(out.status, 200);
    assert_eq!(browser.get("/konto").await.status, 303);
    // Session cookies are HttpOnly and SameSite=Lax.
    let mut b = app.browser();
    let page = b.get("/anmelden").await;
    let r = app
        .client
        .post(app.url("/anmelden"))
        .header("cookie", format!("mitsprache_csrf={}", page.input("csrf")))
        .form(&[("email", EMAIL), ("password", PASSWORD), ("csrf", &page.input("csrf")), ("anfrage", "")])
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
}

pub async fn passwords_are_rehashed_when_parameters_change(app: TestApp) {
    use mitsprache_oidc::password::{Cost, hash};
    let id = app.add_account(EMAIL, PASSWORD).await;
    let store = app.store().await;
    let weak =
        hash(PASSWORD, Cost { memory_kib: 4096, iterations: 1, parallelism: 1 }, &mitsprache_oidc::random::OsRandom)
            .unwrap();
    store.accounts().set_password(&id, &weak, app.clock_now()).await.unwrap();
    let mut browser = app.browser();
    let page = browser.get("/anmelden").await;
    let r = browser
        .post("/anmelden", &[("email", EMAIL), ("password", PASSWORD), ("csrf", &page.input("csrf")), ("anfrage", "")])
        .await;
    assert_eq!(r.status, 303);
    let stored = store.accounts().find(&id).await.unwrap().unwrap().password_hash.unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
}

pub async fn behind_a_proxy_the_forwarded_address_is_limited(app: TestApp) {
    // A second hub on the same database, configured for a reverse proxy that writes X-Forwarded-For.
    let proxied = app.spawn_with(|c| c.identity.client_ip_header = Some("x-forwarded-for".into())).await;
    let mut browser = proxied.browser();
    let csrf = browser.get("/anmelden").await.input("csrf");
    let attempt = |email: String, forwarded: &'static str| {
        let request = proxied
            .client
            .post(proxied.url("/anmelden"))
            .header("cookie", browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
            .header("x-forwarded-for", forwarded)
            .form(&[
                ("email", email.as_str()),
                ("password", "falsches Passwort!!"),
                ("csrf", csrf.as_str()),
                ("anfrage", ""),
            ]);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // A client cannot escape the limit by sending its own header entries: the proxy's last one counts.
    for n in 0..30 {
        assert_eq!(
            attempt(format!("person{n}@example.org"), if n % 2 == 0 { "1.2.3.4, 203.0.113.7" } else { "203.0.113.7" })
                .await,
            401
        );
    }
    assert_eq!(
        attempt("another@example.org".into(), "9.9.9.9, 203.0.113.7").await,
        429,
        "30 failures from one address"
    );
    assert_eq!(attempt("another@example.org".into(), "198.51.100.1").await, 401, "another address is not limited");
    browser.cookies.clear();
}

pub async fn every_form_needs_its_csrf_token(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let id = app.hub.account_by_email(EMAIL).await.unwrap().unwrap().id;
    app.hub.set_role(&id, mitsprache_domain::Role::Admin).await.unwrap();
    let client = app.add_client(tool("Tool")).await;
    let mut browser = app.browser();
    full_login(&app, &client, &mut browser).await;
    let forms: [(&str, &[(&str, &str)]); 14] = [
        ("/anmelden", &[("email", EMAIL), ("password", PASSWORD)]),
        ("/registrieren", &[("email", "x@example.org"), ("password", PASSWORD)]),
        ("/passwort-vergessen", &[("email", EMAIL)]),
        ("/passwort-neu", &[("token", "x"), ("password", PASSWORD)]),
        ("/abmelden", &[]),
        ("/konto/profil", &[("name", "X"), ("locale", "de")]),
        ("/konto/zustimmung-widerrufen", &[("client_id", "x")]),
        ("/konto/ueberall-abmelden", &[]),
        ("/konto/loeschen", &[("password", PASSWORD)]),
        ("/oidc/zustimmung", &[("anfrage", "x"), ("decision", "allow")]),
        ("/admin/clients", &[("name", "X"), ("redirect_uris", CB)]),
        ("/admin/konten/rolle", &[("account_id", "x"), ("role", "admin")]),
        ("/meine-beteiligung/benachrichtigungen", &[("digest", "none")]),
        ("/beteiligung/x/folgen", &[("action", "follow")]),
    ];
    for (path, fields) in forms {
        let mut with_forged: Vec<(&str, &str)> = fields.to_vec();
        with_forged.push(("csrf", "forged-forged-forged-forged-forged-forged-1"));
        let page = browser.post(path, &with_forged).await;
        assert_eq!(page.status, 403, "{path} accepted a forged CSRF token");
    }
    // Still signed in: nothing above took effect.
    assert_eq!(browser.get("/konto").await.status, 200);
    // A form posted from another site is refused even with the right token.
    let account = browser.get("/konto").await;
    let r = app
        .client
        .post(app.url("/konto/ueberall-abmelden"))
        .header("cookie", browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
        .header("origin", "https://evil.example")
        .form(&[("csrf", account.input("csrf"))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

pub async fn over_tls_cookies_are_secure_and_host_bound(app: TestApp) {
    let tls = app.spawn_with(|c| c.public_url = "https://hub.example".into()).await;
    app.add_account(EMAIL, PASSWORD).await;
    let mut browser = tls.browser();
    let page = browser.get("/anmelden").await;
    let csrf_cookie = page.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(csrf_cookie.starts_with("__Host-mitsprache_csrf=") && csrf_cookie.contains("; Secure"), "{csrf_cookie}");
    let done = browser
        .post("/anmelden", &[("email", EMAIL), ("password", PASSWORD), ("csrf", &page.input("csrf")), ("anfrage", "")])
        .await;
    assert_eq!(done.status, 303);
    let session = done.headers["set-cookie"].to_str().unwrap();
    assert!(session.starts_with("__Host-mitsprache_session="), "{session}");
    for attribute in ["; Secure", "; HttpOnly", "; SameSite=Lax", "; Path=/"] {
        assert!(session.contains(attribute), "{session} lacks {attribute}");
    }
}

pub async fn the_last_admin_keeps_the_role(app: TestApp) {
    use mitsprache_domain::Role;
    let a = app.add_account("a@example.org", PASSWORD).await;
    let b = app.add_account("b@example.org", PASSWORD).await;
    app.hub.set_role(&a, Role::Admin).await.unwrap();
    let refused = app.hub.set_role(&a, Role::Citizen).await;
    assert!(matches!(refused, Err(mitsprache_hub::Error::Conflict(_))), "{refused:?}");
    app.hub.set_role(&b, Role::Admin).await.unwrap();
    // Two admins demote each other at once: one of them stays admin.
    let (x, y) = tokio::join!(app.hub.set_role(&a, Role::Citizen), app.hub.set_role(&b, Role::Citizen));
    assert!(x.is_ok() != y.is_ok(), "exactly one demotion wins: {x:?} {y:?}");
    let admins = app.hub.accounts(100).await.unwrap().into_iter().filter(|acc| acc.role == Role::Admin).count();
    assert_eq!(admins, 1);
}

pub async fn an_address_an_older_rule_accepted_can_still_log_in(app: TestApp) {
    // eef2958's CLI accepted anything with an @, e.g. a bare host name.
    let id = app.add_account(EMAIL, PASSWORD).await;
    let mut legacy = app.store().await.accounts().find(&id).await.unwrap().unwrap();
    legacy.id = "legacy-account".into();
    legacy.email = mitsprache_domain::Email::stored("admin@localhost".into());
    app.store().await.accounts().create(&legacy).await.unwrap();
    let login = mitsprache_hub::accounts::Login { email: " Admin@Localhost", password: PASSWORD, ip: "192.0.2.1" };
    let account = app.hub.login(login).await.unwrap();
    assert_eq!(account.id, "legacy-account");
}
