//! The OpenID flows as a browser and a tool drive them, shared by the test modules: the
//! authorization URL, the login and consent forms, the token endpoint, a tool's back-channel
//! logout receiver.

use crate::helpers::{Browser, Page, TestApp};
use mitsprache_oidc::client::{GrantType, Registration};
use mitsprache_oidc::jose::Jwk;
use serde_json::Value;

pub const CB: &str = "https://tool.example/cb";

pub const BYE: &str = "https://tool.example/bye";

// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub const EMAIL: &str = "erika@example.org";

pub const PASSWORD: &str = "ein langer geheimer Satz";

pub fn tool(name: &str) -> Registration {
    Registration {
        name: name.into(),
        redirect_uris: vec![CB.into()],
        post_logout_redirect_uris: vec![BYE.into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        ..Registration::default()
    }
}

pub fn authorize_url(client_id: &str, extra: &[(&str, &str)]) -> String {
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
pub async fn login_and_consent(browser: &mut Browser, url: &str, email: &str, password: &str) -> Page {
    let page = browser.get(url).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let login = browser.follow(page).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let submitted = submit_login(browser, &login, email, password).await;
    assert_eq!(submitted.status, 303, "{}", submitted.body);
    consent_if_asked(browser, submitted).await
}

/// Submits the login form of `login` (a login page) with these credentials.
pub async fn submit_login(browser: &mut Browser, login: &Page, email: &str, password: &str) -> Page {
    let form = [
        ("email", email),
        ("password", password),
        ("csrf", &login.input("csrf")),
        ("anfrage", &login.input("anfrage")),
    ];
    browser.post("/anmelden", &form).await
}

pub async fn consent_if_asked(browser: &mut Browser, page: Page) -> Page {
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

pub fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

pub async fn token(app: &TestApp, client: &(String, String), form: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(app.url("/oidc/token")).basic_auth(&client.0, Some(&client.1)).form(form).send().await.unwrap()
}

pub async fn exchange(app: &TestApp, client: &(String, String), code: &str, verifier: &str) -> reqwest::Response {
    token(
        app,
        client,
        &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB), ("code_verifier", verifier)],
    )
    .await
}

pub async fn keys(app: &TestApp) -> Vec<Jwk> {
    serde_json::from_value(app.get_json("/oidc/jwks").await["keys"].clone()).unwrap()
}

pub async fn introspect(app: &TestApp, client: &(String, String), token: &str) -> Value {
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
pub async fn full_login(app: &TestApp, client: &(String, String), browser: &mut Browser) -> Value {
    let done = login_and_consent(browser, &authorize_url(&client.0, &[]), EMAIL, PASSWORD).await;
    let location = done.location.expect("redirect to the tool");
    assert!(location.starts_with(CB), "{location}");
    let q = query_of(&location);
    let r = exchange(app, client, &q["code"], VERIFIER).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// A relying party's back-channel logout endpoint: records the logout tokens it receives.
pub async fn logout_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
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

pub async fn wait_for(seen: &std::sync::Arc<std::sync::Mutex<Vec<String>>>, n: usize) -> Vec<String> {
    for _ in 0..100 {
        if seen.lock().unwrap().len() >= n {
            return seen.lock().unwrap().clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no back-channel logout arrived");
}
