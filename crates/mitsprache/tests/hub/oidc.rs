//! The OpenID provider end to end: discovery, the code flow with PKCE and consent, tokens,
//! refresh rotation, client credentials, registration, and every error path RFC 9700 names.

use crate::flows::*;
use crate::helpers::{Page, TestApp};
use mitsprache_oidc::client::{AuthMethod, GrantType, Registration};
use mitsprache_oidc::jose::{Jwk, verify};
use serde_json::{Value, json};

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
    let owned: Value = owner.json().await.unwrap();
    // A used token replayed by another client ends nothing: it is not that client's business.
    let replayed = token(
        &app,
        &thief,
        &[("grant_type", "refresh_token"), ("refresh_token", fresh["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(replayed.status(), 400);
    let current = owned["refresh_token"].as_str().unwrap();
    // Asking for more scope than granted is refused without using the token up: the retry
    // without it works, instead of looking like theft.
    let wider = token(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", current), ("scope", "openid offline_access")],
    )
    .await;
    assert_eq!(wider.status(), 400);
    assert_eq!(wider.json::<Value>().await.unwrap()["error"], "invalid_scope");
    let retry = token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", current)]).await;
    assert_eq!(retry.status(), 200, "the grant survived the other client's replay and the refused scope");
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
        assert!(page.body.contains("<h1 "), "an explanatory page");
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

/// Stock OmniAuth (the login of Decidim and CONSUL) sends no PKCE. An admin may allow that for
/// a confidential client (RFC 9700 §2.1.1); it must then send a nonce, which the ID token
/// carries, and a code issued without a challenge cannot be redeemed with a verifier.
pub async fn a_client_allowed_without_pkce_logs_in_with_a_nonce(app: TestApp) {
    app.add_account(EMAIL, PASSWORD).await;
    let strict = app.add_client(tool("Mit PKCE")).await;
    let no_pkce = [("code_challenge", ""), ("code_challenge_method", "")];
    let mut browser = app.browser();
    let refused = browser.get(&authorize_url(&strict.0, &no_pkce)).await;
    assert_eq!(query_of(refused.location.as_deref().unwrap())["error"], "invalid_request", "PKCE by default");
    let mut registration = tool("OmniAuth");
    registration.pkce = mitsprache_oidc::client::Pkce::Optional;
    let omniauth = app.add_client(registration).await;
    let without_nonce = browser.get(&authorize_url(&omniauth.0, &[no_pkce[0], no_pkce[1], ("nonce", "")])).await;
    let q = query_of(without_nonce.location.as_deref().unwrap());
    assert_eq!(q["error"], "invalid_request");
    assert!(q["error_description"].contains("nonce"));
    let url = authorize_url(&omniauth.0, &[no_pkce[0], no_pkce[1], ("nonce", "omniauth-nonce")]);
    let done = login_and_consent(&mut browser, &url, EMAIL, PASSWORD).await;
    let code = query_of(done.location.as_deref().unwrap())["code"].clone();
    let r =
        token(&app, &omniauth, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CB)]).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let id = verify(body["id_token"].as_str().unwrap(), &keys(&app).await).unwrap();
    assert_eq!(id.claims["nonce"], "omniauth-nonce");
    // A verifier for a code without a challenge is a downgrade attempt.
    let again = browser.get(&url).await;
    let code = query_of(again.location.as_deref().unwrap())["code"].clone();
    let r = exchange(&app, &omniauth, &code, VERIFIER).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
}
