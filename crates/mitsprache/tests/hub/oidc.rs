//! The OpenID provider end to end: the code flow with PKCE and consent, tokens, refresh
//! rotation, revocation, introspection, logout, accounts; every error path named by RFC 9700.

use crate::helpers::{Browser, Page, TestApp};
use mitsprache_oidc::client::{AuthMethod, GrantType, Registration};
use mitsprache_oidc::jose::{Jwk, verify};
use serde_json::{Value, json};

const CB: &str = "https://tool.example/cb";
const BYE: &str = "https://tool.example/bye";
// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const EMAIL: &str = "erika@example.org";
const PASSWORD: &str = "ein langer geheimer Satz";

fn tool(name: &str) -> Registration {
    Registration {
        name: name.into(),
        redirect_uris: vec![CB.into()],
        post_logout_redirect_uris: vec![BYE.into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        ..Registration::default()
    }
}

fn authorize_url(client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CB),
        ("scope", "openid email profile"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in extra {
        pairs.retain(|(pk, _)| pk != k);
        if !v.is_empty() {
            pairs.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
    let query: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("/oidc/authorize?{query}")
}

/// Logs in on the login page the flow leads to and agrees on the consent page if one comes.
async fn login_and_consent(browser: &mut Browser, url: &str, email: &str, password: &str) -> Page {
    let page = browser.get(url).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let login = browser.follow(page).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let submitted = submit_login(browser, &login, email, password).await;
    assert_eq!(submitted.status, 303, "{}", submitted.body);
    consent_if_asked(browser, submitted).await
}

/// Submits the login form of `login` (a login page) with these credentials.
async fn submit_login(browser: &mut Browser, login: &Page, email: &str, password: &str) -> Page {
    let form = [
        ("email", email),
        ("password", password),
        ("csrf", &login.input("csrf")),
        ("anfrage", &login.input("anfrage")),
    ];
    browser.post("/anmelden", &form).await
}

async fn consent_if_asked(browser: &mut Browser, page: Page) -> Page {
    let page = browser.follow(page).await;
    if page.status == 200 && page.body.contains("/oidc/zustimmung") {
        let done = browser
            .post(
                "/oidc/zustimmung",
                &[("csrf", &page.input("csrf")), ("anfrage", &page.input("anfrage")), ("decision", "allow")],
            )
            .await;
        return browser.follow(done).await;
    }
    page
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

async fn token(app: &TestApp, client: &(String, String), form: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(app.url("/oidc/token")).basic_auth(&client.0, Some(&client.1)).form(form).send().await.unwrap()
}

async fn exchange(app: &TestApp, client: &(String, String), code: &str, verifier: &str) -> reqwest::Response {
    token(
        app,
        client,
        &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB), ("code_verifier", verifier)],
    )
    .await
}

async fn keys(app: &TestApp) -> Vec<Jwk> {
    serde_json::from_value(app.get_json("/oidc/jwks").await["keys"].clone()).unwrap()
}

async fn introspect(app: &TestApp, client: &(String, String), token: &str) -> Value {
    let r = app
        .client
        .post(app.url("/oidc/introspect"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// A complete login: returns the token response.
async fn full_login(app: &TestApp, client: &(String, String), browser: &mut Browser) -> Value {
    let done = login_and_consent(browser, &authorize_url(&client.0, &[]), EMAIL, PASSWORD).await;
    let location = done.location.expect("redirect to the tool");
    assert!(location.starts_with(CB), "{location}");
    let q = query_of(&location);
    let r = exchange(app, client, &q["code"], VERIFIER).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub async fn discovery_and_keys_describe_the_provider(app: TestApp) {
    let meta = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(meta["issuer"], app.config.public_url.trim_end_matches('/'));
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["response_types_supported"], json!(["code"]));
    assert!(meta["id_token_signing_alg_values_supported"].as_array().unwrap().contains(&json!("RS256")));
    let keys = keys(&app).await;
    let algs: Vec<&str> = keys.iter().filter_map(|k| k.alg.as_deref()).collect();
    assert!(algs.contains(&"ES256") && algs.contains(&"RS256"), "{algs:?}");
    // A second instance on the same database serves the same keys.
    let other = app.another_instance().await;
    let theirs: Vec<Jwk> = serde_json::from_value(other.get_json("/oidc/jwks").await["keys"].clone()).unwrap();
    assert_eq!(keys, theirs);
}

pub async fn the_code_flow_issues_verified_pairwise_tokens(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let client = app.add_client(tool("Decidim Musterstadt")).await;
    let mut browser = app.browser();
    let done = login_and_consent(&mut browser, &authorize_url(&client.0, &[]), EMAIL, PASSWORD).await;
    assert_eq!(done.status, 303);
    let q = query_of(done.location.as_deref().unwrap());
    assert_eq!(q["state"], "st-1");
    assert_eq!(q["iss"], app.config.public_url.trim_end_matches('/'));
    let r = exchange(&app, &client, &q["code"], VERIFIER).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    let id = verify(body["id_token"].as_str().unwrap(), &keys(&app).await).unwrap();
    assert_eq!(id.header["alg"], "ES256");
    assert_eq!(id.claims["aud"], client.0.as_str());
    assert_eq!(id.claims["nonce"], "n-1");
    assert_eq!(id.claims["email"], EMAIL);
    let sub = id.claims["sub"].as_str().unwrap().to_owned();
    assert!(!sub.starts_with("acct"), "pairwise, not the account id: {sub}");
    // Userinfo by header (GET) and form body (POST) says the same.
    let at = body["access_token"].as_str().unwrap();
    let info: Value =
        app.client.get(app.url("/oidc/userinfo")).bearer_auth(at).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["sub"], sub.as_str());
    assert_eq!(info["name"], "Erika Mustermann");
    let posted: Value = app
        .client
        .post(app.url("/oidc/userinfo"))
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(posted, info);
    // A second tool on another host sees another subject; the session spares a second login.
    let mut other_tool = tool("CONSUL");
    other_tool.redirect_uris = vec!["https://consul.example/cb".into()];
    other_tool.first_party = true;
    let other = app.add_client(other_tool).await;
    let url = authorize_url(&other.0, &[("redirect_uri", "https://consul.example/cb")]);
    let page = browser.get(&url).await;
    assert_eq!(page.status, 303);
    let q2 = query_of(page.location.as_deref().unwrap());
    let r2 = app
        .client
        .post(app.url("/oidc/token"))
        .basic_auth(&other.0, Some(&other.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &q2["code"]),
            ("redirect_uri", "https://consul.example/cb"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    let body2: Value = r2.json().await.unwrap();
    let id2 = verify(body2["id_token"].as_str().unwrap(), &keys(&app).await).unwrap();
    assert_ne!(id2.claims["sub"], sub.as_str());
    assert_eq!(id2.claims["sid"], id.claims["sid"]);
}

pub async fn refresh_tokens_rotate_and_reuse_revokes_the_family(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let client = app.add_client(tool("Tool")).await;
    let first = full_login(&app, &client, &mut app.browser()).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();
    let second: Value =
        token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &r1)]).await.json().await.unwrap();
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    assert!(second["id_token"].is_string());
    // Presenting the rotated token again is theft: the whole grant ends.
    let reuse = token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &r1)]).await;
    assert_eq!(reuse.status(), 400);
    assert_eq!(reuse.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let after = token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &r2)]).await;
    assert_eq!(after.status(), 400, "the newest token of the family is revoked too");
    assert_eq!(introspect(&app, &client, second["access_token"].as_str().unwrap()).await, json!({"active": false}));
    // Another client cannot use (or burn) someone else's refresh token.
    let fresh = full_login(&app, &client, &mut app.browser()).await;
    let thief = app.add_client(tool("Thief")).await;
    let stolen = token(
        &app,
        &thief,
        &[("grant_type", "refresh_token"), ("refresh_token", fresh["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(stolen.status(), 400);
    let owner = token(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", fresh["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(owner.status(), 200);
}

pub async fn code_exchange_error_paths(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let client = app.add_client(tool("Tool")).await;
    let mut browser = app.browser();
    let code_of = |p: Page| query_of(p.location.as_deref().unwrap())["code"].clone();
    // Wrong PKCE verifier.
    let code = code_of(login_and_consent(&mut browser, &authorize_url(&client.0, &[]), EMAIL, PASSWORD).await);
    let r = exchange(&app, &client, &code, "wrong-verifier-wrong-verifier-wrong-verifier-1").await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    // Missing verifier (PKCE downgrade).
    let code = code_of(browser.get(&authorize_url(&client.0, &[])).await);
    let r = token(&app, &client, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CB)]).await;
    assert_eq!(r.status(), 400);
    // A replayed code fails and revokes what the first exchange produced.
    let code = code_of(browser.get(&authorize_url(&client.0, &[])).await);
    let good: Value = exchange(&app, &client, &code, VERIFIER).await.json().await.unwrap();
    let at = good["access_token"].as_str().unwrap();
    assert_eq!(introspect(&app, &client, at).await["active"], true);
    let replay = exchange(&app, &client, &code, VERIFIER).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(introspect(&app, &client, at).await, json!({"active": false}));
    let refresh = token(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", good["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(refresh.status(), 400);
    // Another redirect_uri than the request's.
    let code = code_of(browser.get(&authorize_url(&client.0, &[])).await);
    let r = token(
        &app,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://tool.example/other"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);
    // An expired code.
    let code = code_of(browser.get(&authorize_url(&client.0, &[])).await);
    app.clock.advance(time::Duration::seconds(61));
    assert_eq!(exchange(&app, &client, &code, VERIFIER).await.status(), 400);
    // A wrong client secret, and the wrong method.
    let wrong = (client.0.clone(), "not-the-secret".to_owned());
    let r = exchange(&app, &wrong, "whatever", VERIFIER).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    let post = app
        .client
        .post(app.url("/oidc/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client.0.as_str()),
            ("client_secret", client.1.as_str()),
            ("code", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 401, "a client_secret_basic client cannot switch to client_secret_post");
}

pub async fn authorization_request_error_paths(app: TestApp) {
    let client = app.add_client(tool("Tool")).await;
    let mut browser = app.browser();
    // A foreign redirect URI gets a page, never a redirect (no open redirector).
    for url in [
        authorize_url(&client.0, &[("redirect_uri", "https://evil.example/cb")]),
        authorize_url("no-such-client", &[]),
        authorize_url(&client.0, &[("redirect_uri", "")]),
    ] {
        let page = browser.get(&url).await;
        assert_eq!(page.status, 400, "{url}");
        assert!(page.location.is_none());
        assert!(page.body.contains("<h1>"), "an explanatory page");
    }
    let error_of = |p: &Page| query_of(p.location.as_deref().unwrap())["error"].clone();
    // prompt=none without a session.
    let page = browser.get(&authorize_url(&client.0, &[("prompt", "none")])).await;
    assert_eq!(error_of(&page), "login_required");
    assert_eq!(query_of(page.location.as_deref().unwrap())["state"], "st-1");
    // No PKCE, or plain PKCE.
    assert_eq!(error_of(&browser.get(&authorize_url(&client.0, &[("code_challenge", "")])).await), "invalid_request");
    assert_eq!(
        error_of(&browser.get(&authorize_url(&client.0, &[("code_challenge_method", "plain")])).await),
        "invalid_request"
    );
    assert_eq!(
        error_of(&browser.get(&authorize_url(&client.0, &[("response_type", "token")])).await),
        "unsupported_response_type"
    );
    // form_post delivers errors as a self-submitting form to the registered URI.
    let page = browser.get(&authorize_url(&client.0, &[("prompt", "none"), ("response_mode", "form_post")])).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"action="https://tool.example/cb""#));
    assert!(page.body.contains(r#"name="error" value="login_required""#));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("form-action https://tool.example") && !csp.contains("unsafe-inline"), "{csp}");
}

pub async fn consent_is_asked_remembered_and_revocable(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let client = app.add_client(tool("Beteiligung Musterstadt")).await;
    let mut browser = app.browser();
    let page = browser.get(&authorize_url(&client.0, &[])).await;
    let login = browser.follow(page).await;
    let after_login = submit_login(&mut browser, &login, EMAIL, PASSWORD).await;
    let consent = browser.follow(after_login).await;
    assert_eq!(consent.status, 200);
    assert!(consent.body.contains("Beteiligung Musterstadt"));
    assert!(consent.body.contains("Ihre E-Mail-Adresse"), "the claims are listed");
    assert!(consent.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    // Declining sends access_denied.
    let declined = browser
        .post(
            "/oidc/zustimmung",
            &[("csrf", &consent.input("csrf")), ("anfrage", &consent.input("anfrage")), ("decision", "deny")],
        )
        .await;
    assert_eq!(query_of(declined.location.as_deref().unwrap())["error"], "access_denied");
    // Agreeing is remembered: the next request goes straight back with a code.
    let first = browser.get(&authorize_url(&client.0, &[])).await;
    let again = consent_if_asked(&mut browser, first).await;
    assert!(query_of(again.location.as_deref().unwrap()).contains_key("code"));
    let direct = browser.get(&authorize_url(&client.0, &[])).await;
    assert!(query_of(direct.location.as_deref().unwrap()).contains_key("code"));
    // prompt=consent asks again.
    let ask = browser.get(&authorize_url(&client.0, &[("prompt", "consent")])).await;
    let asked = browser.follow(ask).await;
    assert!(asked.body.contains("/oidc/zustimmung"));
    // The account page lists the tool; revoking it brings the consent screen back.
    let account = browser.get("/konto").await;
    assert!(account.body.contains("Beteiligung Musterstadt"));
    let revoked = browser
        .post("/konto/zustimmung-widerrufen", &[("csrf", &account.input("csrf")), ("client_id", &client.0)])
        .await;
    assert_eq!(revoked.status, 303);
    let ask = browser.get(&authorize_url(&client.0, &[])).await;
    let after = browser.follow(ask).await;
    assert!(after.body.contains("/oidc/zustimmung"));
}

pub async fn client_credentials_tokens_are_jwts_with_audience(app: TestApp) {
    let machine = app
        .add_client(Registration {
            name: "Datenabgleich".into(),
            grant_types: vec![GrantType::ClientCredentials],
            resources: vec!["https://api.example/v1".into()],
            ..Registration::default()
        })
        .await;
    // Only what the client is registered for gets signed (probe L3).
    for (scope, resource, error) in [
        ("admin catalogue:write", "https://api.example/v1", "invalid_scope"),
        ("", "javascript:alert(1)", "invalid_target"),
        ("", "https://evil.example/api", "invalid_target"),
    ] {
        let r =
            token(&app, &machine, &[("grant_type", "client_credentials"), ("scope", scope), ("resource", resource)])
                .await;
        assert_eq!(r.status(), 400, "{scope} {resource}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"], error, "{scope} {resource}");
    }
    let r =
        token(&app, &machine, &[("grant_type", "client_credentials"), ("resource", "https://api.example/v1")]).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let at = body["access_token"].as_str().unwrap();
    let v = verify(at, &keys(&app).await).unwrap();
    assert_eq!(v.header["typ"], "at+jwt");
    assert_eq!(v.claims["aud"], json!(["https://api.example/v1"]));
    assert_eq!(v.claims["client_id"], machine.0.as_str());
    assert!(body.get("refresh_token").is_none());
    assert_eq!(introspect(&app, &machine, at).await["active"], true);
    // Person scopes need a person.
    let r = token(&app, &machine, &[("grant_type", "client_credentials"), ("scope", "openid email")]).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_scope");
    // A code-flow client may not use client_credentials.
    let web = app.add_client(tool("Web")).await;
    let r = token(&app, &web, &[("grant_type", "client_credentials")]).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "unauthorized_client");
    // Revocation always answers 200; the revoked token introspects inactive.
    let r = app
        .client
        .post(app.url("/oidc/revoke"))
        .basic_auth(&machine.0, Some(&machine.1))
        .form(&[("token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(introspect(&app, &machine, at).await, json!({"active": false}));
    let r = app
        .client
        .post(app.url("/oidc/revoke"))
        .basic_auth(&machine.0, Some(&machine.1))
        .form(&[("token", "unknown")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Introspection needs an authenticated caller.
    let r = app.client.post(app.url("/oidc/introspect")).form(&[("token", at)]).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // and a confidential one: a public client's id is no credential.
    let mut spa = tool("Öffentliche App");
    spa.auth_method = Some(AuthMethod::None);
    let (spa_id, _) = app.add_client(spa).await;
    let r = app
        .client
        .post(app.url("/oidc/introspect"))
        .form(&[("token", at), ("client_id", spa_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

pub async fn private_key_jwt_authenticates_once_per_assertion(app: TestApp) {
    use mitsprache_oidc::jose::{Alg, Jwks, SigningKey};
    let key = SigningKey::generate(Alg::ES256, "tool-key".into()).unwrap();
    let machine = app
        .add_client(Registration {
            name: "Signierender Dienst".into(),
            grant_types: vec![GrantType::ClientCredentials],
            auth_method: Some(AuthMethod::PrivateKeyJwt),
            jwks: Some(Jwks { keys: vec![key.public_jwk()] }),
            ..Registration::default()
        })
        .await;
    let now = app.clock_now().unix_timestamp();
    let assertion = key
        .sign("JWT", &json!({"iss": machine.0, "sub": machine.0, "aud": format!("{}/oidc/token", app.config.public_url), "exp": now + 60, "jti": "a-1"}))
        .unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion.as_str()),
    ];
    let r = app.client.post(app.url("/oidc/token")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let replay = app.client.post(app.url("/oidc/token")).form(&form).send().await.unwrap();
    assert_eq!(replay.status(), 401, "an assertion is single use");
}

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

/// A relying party's back-channel logout endpoint: records the logout tokens it receives.
async fn logout_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::routing::post;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/backchannel",
        post(move |body: String| {
            let store = store.clone();
            async move {
                let token = form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned());
                store.lock().unwrap().push(token.unwrap_or_default());
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn wait_for(seen: &std::sync::Arc<std::sync::Mutex<Vec<String>>>, n: usize) -> Vec<String> {
    for _ in 0..100 {
        if seen.lock().unwrap().len() >= n {
            return seen.lock().unwrap().clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no back-channel logout arrived");
}

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
    assert_eq!(deleted.status, 200);
    wait_for(&seen, 2).await;
    assert!(app.hub.account_by_email(EMAIL).await.unwrap().is_none());
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

pub async fn dynamic_registration_needs_the_initial_token(app: TestApp) {
    let r = app
        .client
        .post(app.url("/oidc/register"))
        .json(&json!({"client_name": "x", "redirect_uris": [CB]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no initial access token, no registration");
}

pub async fn people_edit_the_catalogue_by_their_role(app: TestApp) {
    let account = app.add_account(EMAIL, PASSWORD).await;
    let mut registration = tool("Redaktionssystem");
    registration.scopes = vec![mitsprache_oidc::CATALOGUE_WRITE.into()];
    let client = app.add_client(registration).await;
    let mut browser = app.browser();
    let url = authorize_url(&client.0, &[("scope", "openid catalogue:write")]);
    let done = login_and_consent(&mut browser, &url, EMAIL, PASSWORD).await;
    let code = query_of(done.location.as_deref().unwrap())["code"].clone();
    let tokens: Value = exchange(&app, &client, &code, VERIFIER).await.json().await.unwrap();
    assert_eq!(tokens["scope"], "openid catalogue:write");
    let at = tokens["access_token"].as_str().unwrap().to_owned();
    let tool_json = app.tool_json("polis").await;
    let put = |token: String| {
        let body = tool_json.clone();
        let request = app.client.put(app.url("/api/v1/tools/polis")).bearer_auth(token).json(&body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(put(at.clone()).await, 403, "a citizen may not edit");
    app.hub.set_role(&account, mitsprache_domain::Role::Editor).await.unwrap();
    assert!(matches!(put(at.clone()).await, 200 | 201), "the same person as editor may");
    // Logging out ends the grant, and with it the token's right to write.
    app.hub.logout_everywhere(&account).await.unwrap();
    assert_eq!(put(at).await, 401);
}

pub async fn keys_rotate_and_old_keys_stay_published(app: TestApp) {
    let machine = app
        .add_client(Registration {
            name: "M".into(),
            grant_types: vec![GrantType::ClientCredentials],
            ..Registration::default()
        })
        .await;
    let before: Value = token(&app, &machine, &[("grant_type", "client_credentials")]).await.json().await.unwrap();
    let old = before["access_token"].as_str().unwrap().to_owned();
    let old_kid = verify(&old, &keys(&app).await).unwrap().header["kid"].clone();
    // Another instance (or the CLI) rotates; this one picks the new keys up within its refresh
    // interval (1 s in tests).
    app.another_instance().await.hub.rotate_keys().await.unwrap();
    let mut published = Vec::new();
    for _ in 0..50 {
        published = keys(&app).await;
        if published.len() == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(published.len(), 4, "new and retired keys are published");
    let after: Value = token(&app, &machine, &[("grant_type", "client_credentials")]).await.json().await.unwrap();
    let new_kid = verify(after["access_token"].as_str().unwrap(), &published).unwrap().header["kid"].clone();
    assert_ne!(new_kid, old_kid, "new tokens use the new key");
    assert_eq!(introspect(&app, &machine, &old).await["active"], true, "old tokens stay valid");
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

pub async fn max_age_login_hint_and_ui_locales_shape_the_login(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let client = app.add_client(tool("Tool")).await;
    let mut browser = app.browser();
    // login_hint fills the address, ui_locales picks the language of the login page.
    let page = browser.get(&authorize_url(&client.0, &[("login_hint", EMAIL), ("ui_locales", "en de")])).await;
    let login = browser.follow(page).await;
    assert!(login.body.contains(r#"<html lang="en">"#));
    assert!(login.body.contains(&format!(r#"value="{EMAIL}""#)), "login_hint prefills the address");
    let submitted = submit_login(&mut browser, &login, EMAIL, PASSWORD).await;
    let done = consent_if_asked(&mut browser, submitted).await;
    assert!(query_of(done.location.as_deref().unwrap()).contains_key("code"));
    // max_age: a login older than it asks again; auth_time is in the ID token.
    app.clock.advance(time::Duration::seconds(120));
    let again = browser.get(&authorize_url(&client.0, &[("max_age", "60")])).await;
    assert!(again.location.as_deref().unwrap().starts_with("/anmelden"), "a fresh login is needed");
    let login = browser.follow(again).await;
    let submitted = submit_login(&mut browser, &login, EMAIL, PASSWORD).await;
    let done = browser.follow(submitted).await;
    let q = query_of(done.location.as_deref().unwrap());
    let body: Value = exchange(&app, &client, &q["code"], VERIFIER).await.json().await.unwrap();
    let id = verify(body["id_token"].as_str().unwrap(), &keys(&app).await).unwrap();
    assert_eq!(id.claims["auth_time"], app.clock_now().unix_timestamp());
    // prompt=login forces a login despite the session; id_token_hint of another client is refused.
    let forced = browser.get(&authorize_url(&client.0, &[("prompt", "login")])).await;
    assert!(forced.location.as_deref().unwrap().starts_with("/anmelden"));
    let other = app.add_client(tool("Other")).await;
    let hinted = browser.get(&authorize_url(&other.0, &[("id_token_hint", body["id_token"].as_str().unwrap())])).await;
    assert_eq!(query_of(hinted.location.as_deref().unwrap())["error"], "invalid_request");
}

pub async fn clients_may_ask_for_rs256_id_tokens(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let mut registration = tool("Altes Portal");
    registration.id_token_alg = Some(mitsprache_oidc::jose::Alg::RS256);
    let client = app.add_client(registration).await;
    let body = full_login(&app, &client, &mut app.browser()).await;
    let id = verify(body["id_token"].as_str().unwrap(), &keys(&app).await).unwrap();
    assert_eq!(id.header["alg"], "RS256");
}

pub async fn rfc9700_items_without_their_own_test(app: TestApp) {
    let client = app.add_client(tool("Tool")).await;
    // #5 No resource owner password credentials grant; #4 no implicit flow.
    let r = token(&app, &client, &[("grant_type", "password"), ("username", EMAIL), ("password", PASSWORD)]).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
    let mut browser = app.browser();
    let implicit = browser.get(&authorize_url(&client.0, &[("response_type", "id_token token")])).await;
    assert_eq!(query_of(implicit.location.as_deref().unwrap())["error"], "unsupported_response_type");
    // #15 No CORS on the authorization endpoint.
    let r = app
        .client
        .get(app.url(&authorize_url(&client.0, &[])))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // #14 Redirects after forms are 303, never 307.
    assert_eq!(r.status(), 303);
    // #18 No access token in a query string.
    let machine = app
        .add_client(Registration {
            name: "M".into(),
            grant_types: vec![GrantType::ClientCredentials],
            ..Registration::default()
        })
        .await;
    let at: Value = token(&app, &machine, &[("grant_type", "client_credentials")]).await.json().await.unwrap();
    let r = app
        .client
        .get(app.url(&format!("/oidc/userinfo?access_token={}", at["access_token"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // #13 Clickjacking: the login page may not be framed.
    let login = browser.get("/anmelden").await;
    assert!(login.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(login.headers["x-frame-options"], "DENY");
    // Unknown repeated parameters at the token endpoint are refused (RFC 6749 §3.2).
    let r = app
        .client
        .post(app.url("/oidc/token"))
        .basic_auth(&machine.0, Some(&machine.1))
        .body("grant_type=client_credentials&grant_type=client_credentials")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
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

pub async fn dynamic_registration_with_the_initial_token(app: TestApp) {
    let token_value = crate::helpers::REGISTRATION_TOKEN;
    let bad = app
        .client
        .post(app.url("/oidc/register"))
        .bearer_auth("wrong")
        .json(&json!({"client_name": "x", "redirect_uris": [CB]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let refused = app
        .client
        .post(app.url("/oidc/register"))
        .bearer_auth(token_value)
        .json(&json!({"client_name": "Umfragewerkzeug", "redirect_uris": ["http://tool.example/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_redirect_uri");
    let public = app
        .client
        .post(app.url("/oidc/register"))
        .bearer_auth(token_value)
        .json(&json!({"client_name": "x", "redirect_uris": [CB], "subject_type": "public"}))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 400, "self-registration cannot ask for public subjects");
    let r = app
        .client
        .post(app.url("/oidc/register"))
        .bearer_auth(token_value)
        .json(&json!({"client_name": "Umfragewerkzeug", "redirect_uris": [CB], "post_logout_redirect_uris": [BYE], "id_token_signed_response_alg": "RS256"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let registered: Value = r.json().await.unwrap();
    let id = registered["client_id"].as_str().unwrap().to_owned();
    let secret = registered["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(registered["subject_type"], "pairwise");
    // The registration can be read back with its own token, and the client logs people in.
    let read = app
        .client
        .get(registered["registration_client_uri"].as_str().unwrap().replace(&app.config.public_url, &app.address))
        .bearer_auth(registered["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    app.add_account(EMAIL, PASSWORD).await;
    let body = full_login(&app, &(id, secret), &mut app.browser()).await;
    assert_eq!(verify(body["id_token"].as_str().unwrap(), &keys(&app).await).unwrap().header["alg"], "RS256");
}

pub async fn every_form_needs_its_csrf_token(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let id = app.hub.account_by_email(EMAIL).await.unwrap().unwrap().id;
    app.hub.set_role(&id, mitsprache_domain::Role::Admin).await.unwrap();
    let client = app.add_client(tool("Tool")).await;
    let mut browser = app.browser();
    full_login(&app, &client, &mut browser).await;
    let forms: [(&str, &[(&str, &str)]); 12] = [
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

pub async fn a_sector_identifier_gives_one_subject_across_hosts(app: TestApp) {
    use axum::routing::get;
    // The tool's sector document, served from its own host.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sector_uri = format!("http://{}/sector.json", listener.local_addr().unwrap());
    let doc = json!([CB, "https://zweiter-host.example/cb"]).to_string();
    tokio::spawn(async move {
        axum::serve(listener, axum::Router::new().route("/sector.json", get(move || async move { doc.clone() }))).await
    });
    let register = |redirect: &str| {
        let body =
            json!({"client_name": "Mehrere Hosts", "redirect_uris": [redirect], "sector_identifier_uri": sector_uri});
        app.client.post(app.url("/oidc/register")).bearer_auth(crate::helpers::REGISTRATION_TOKEN).json(&body).send()
    };
    let missing = register("https://nicht-gelistet.example/cb").await.unwrap();
    assert_eq!(missing.status(), 400, "a redirect URI the document does not list is refused");
    let a: Value = register(CB).await.unwrap().json().await.unwrap();
    let b: Value = register("https://zweiter-host.example/cb").await.unwrap().json().await.unwrap();
    app.add_account(EMAIL, PASSWORD).await;
    let mut browser = app.browser();
    let first = full_login(
        &app,
        &(a["client_id"].as_str().unwrap().into(), a["client_secret"].as_str().unwrap().into()),
        &mut browser,
    )
    .await;
    let second_client = (b["client_id"].as_str().unwrap().to_owned(), b["client_secret"].as_str().unwrap().to_owned());
    let url = authorize_url(&second_client.0, &[("redirect_uri", "https://zweiter-host.example/cb")]);
    let asked = browser.get(&url).await;
    let done = consent_if_asked(&mut browser, asked).await;
    let q = query_of(done.location.as_deref().unwrap());
    let r = token(
        &app,
        &second_client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", "https://zweiter-host.example/cb"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    let second: Value = r.json().await.unwrap();
    let keys = keys(&app).await;
    let sub_a = verify(first["id_token"].as_str().unwrap(), &keys).unwrap().claims["sub"].clone();
    let sub_b = verify(second["id_token"].as_str().unwrap(), &keys).unwrap().claims["sub"].clone();
    assert_eq!(sub_a, sub_b, "one sector, one subject");
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
    // The retry is due 20 seconds later (hub time); the delivery task looks every 5 seconds.
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

pub async fn a_refresh_token_sent_twice_at_once_rotates_once(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let client = app.add_client(tool("Tool")).await;
    let tokens = full_login(&app, &client, &mut app.browser()).await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", rt)];
    // Both may share one group-commit transaction or not: either way exactly one wins.
    let (a, b) = tokio::join!(token(&app, &client, &form), token(&app, &client, &form));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400]);
    let winner: Value = if a.status() == 200 { a.json().await.unwrap() } else { b.json().await.unwrap() };
    // The loser was reuse: the whole family is revoked, the winner's new token included.
    let after = token(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", winner["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(after.status(), 400);
}
