//! `TestApp`: a running hub on port 0 with its own database, and a client for it.

use mitsprache::config::{CatalogueConfig, Config};
use mitsprache::config::{MailConfig, SmtpSecurity};
use mitsprache::startup::App;
use mitsprache_domain::ManualClock;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::oneshot;

/// The RFC 7591 initial access token of test hubs.
pub const REGISTRATION_TOKEN: &str = "test-registration-token-0123456789abcdef";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    /// The application layer of this hub, to call use cases as the CLI does.
    pub hub: mitsprache_hub::Hub,
    /// An access token of a machine client with the editor role, for catalogue writes.
    pub editor_token: String,
    pub clock: Arc<ManualClock>,
    pub mail: Arc<Mutex<Vec<String>>>,
    pub client: reqwest::Client,
    pub config: Config,
    pub backend: Backend,
    _shutdown: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

fn pg_url() -> String {
    std::env::var("PG_TEST_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A new, empty database of `backend` (an SQLite file in the returned folder, or a PostgreSQL
/// schema), for a test that runs hubs of its own.
pub async fn fresh_database(backend: Backend) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = match backend {
        Backend::Sqlite => format!("sqlite://{}/hub.db", dir.path().display()),
        Backend::Postgres => fresh_postgres_schema().await,
    };
    (database, dir)
}

/// A fresh schema per test; schemas of earlier runs older than an hour are dropped.
async fn fresh_postgres_schema() -> String {
    use sqlx::Connection;
    let mut conn =
        sqlx::PgConnection::connect(&pg_url()).await.expect("PostgreSQL must run for the tests (see README)");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let old: Vec<(String,)> = sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'mtest\\_%'")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default();
    for (name,) in old {
        let ts: i64 = name.split('_').nth(1).and_then(|t| t.parse().ok()).unwrap_or(now);
        if now - ts > 3600 {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")).execute(&mut conn).await;
        }
    }
    let schema = format!("mtest_{now}_{}", std::process::id() as u64 * 1_000_003 + u64::from(rand_suffix()));
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\"")).execute(&mut conn).await.expect("create schema");
    let base = pg_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    nanos ^ NEXT.fetch_add(7919, Ordering::Relaxed)
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let (database, dir) = fresh_database(backend).await;
        Self::spawn_on(backend, database, dir, |_| {}).await
    }

    /// A hub whose configuration `adjust` changes first.
    pub async fn spawn_with(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_on(self.backend, self.config.database.clone(), tempfile::tempdir().expect("temp dir"), adjust).await
    }

    /// A second hub on the same database, as a state-wide deployment runs several.
    pub async fn another_instance(&self) -> TestApp {
        Self::spawn_on(self.backend, self.config.database.clone(), tempfile::tempdir().expect("temp dir"), |_| {}).await
    }

    async fn spawn_on(
        backend: Backend,
        database: String,
        dir: tempfile::TempDir,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        let defaults = Config::default();
        let (smtp_port, mail) = smtp_sink().await;
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            database,
            catalogue: CatalogueConfig { refresh_seconds: 1, ..defaults.catalogue },
            identity: mitsprache::config::IdentityConfig {
                registration_token: Some(REGISTRATION_TOKEN.into()),
                ..defaults.identity.clone()
            },
            mail: MailConfig {
                smtp_host: Some("127.0.0.1".into()),
                smtp_port,
                smtp_security: SmtpSecurity::None,
                ..defaults.mail
            },
            ..defaults
        };
        adjust(&mut config);
        // Today, not a fixed day: catalogue facts must not be dated after the hub's today, and the
        // bundled ones are dated the day they were read.
        let start = time::OffsetDateTime::now_utc().replace_nanosecond(0).expect("whole seconds");
        let clock = Arc::new(ManualClock::new(start));
        let app = App::build_with_clock(&config, clock.clone()).await.expect("the hub starts");
        let address = format!("http://{}", app.address);
        let hub = app.state.hub().clone();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(app.serve(async {
            let _ = rx.await;
        }));
        let mut app = TestApp {
            address,
            hub,
            editor_token: String::new(),
            clock,
            mail,
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
            config,
            backend,
            _shutdown: tx,
            _dir: dir,
        };
        app.editor_token = app.machine_token(Some(mitsprache_domain::Role::Editor)).await;
        app
    }

    /// A client_credentials access token of a new machine client acting with `role`.
    pub async fn machine_token(&self, role: Option<mitsprache_domain::Role>) -> String {
        use mitsprache_oidc::client::{GrantType, Registration};
        let registration = Registration {
            name: "Katalogpflege".into(),
            grant_types: vec![GrantType::ClientCredentials],
            machine_role: role,
            ..Registration::default()
        };
        let (id, secret) = self.add_client(registration).await;
        let r = self
            .client
            .post(self.url("/oidc/token"))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token request");
        let body: serde_json::Value = r.json().await.expect("token response");
        body["access_token"].as_str().expect("access token").to_owned()
    }

    /// The store of this hub, opened beside it (as a second instance would).
    pub async fn store(&self) -> mitsprache_store::Store {
        mitsprache_store::Store::connect(&self.config.database).await.expect("store")
    }

    /// Registers a tool and returns (client id, secret).
    pub async fn add_client(&self, registration: mitsprache_oidc::client::Registration) -> (String, String) {
        let id = format!("client-{}", rand_suffix());
        let secret = "s".repeat(20) + &rand_suffix().to_string() + &"x".repeat(20);
        let (client, _) =
            registration.into_client(id.clone(), secret.clone(), self.clock_now()).expect("valid registration");
        self.store().await.clients().put(&client, None, self.clock_now()).await.expect("client stored");
        (id, secret)
    }

    /// Adds an account with a password (verified address, role citizen), the way an operator does.
    pub async fn add_account(&self, email: &str, password: &str) -> String {
        let new = mitsprache_hub::accounts::NewAccount {
            email,
            password: Some(password),
            name: Some("Erika Mustermann"),
            locale: mitsprache_domain::Locale::De,
            role: mitsprache_domain::Role::Citizen,
            verified: true,
            upstream: None,
        };
        self.hub.create_account(new).await.expect("account created").id
    }

    pub fn clock_now(&self) -> time::OffsetDateTime {
        use mitsprache_domain::Clock;
        self.clock.now()
    }

    /// Waits for the n-th mail the hub sent through SMTP and returns it.
    pub async fn mail(&self, n: usize) -> String {
        for _ in 0..100 {
            if let Some(m) = self.mail.lock().unwrap().get(n) {
                return decode_quoted_printable(m);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no mail number {n} arrived");
    }

    pub fn browser(&self) -> Browser {
        Browser { base: self.address.clone(), client: self.client.clone(), cookies: HashMap::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.expect("json")
    }

    pub async fn get_html(&self, path: &str, accept_language: &str) -> (u16, String) {
        let r =
            self.client.get(self.url(path)).header("accept-language", accept_language).send().await.expect("request");
        (r.status().as_u16(), r.text().await.expect("text"))
    }

    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.put(self.url(path)).bearer_auth(&self.editor_token)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path)).bearer_auth(&self.editor_token)
    }

    /// A tool record of the bundled catalogue, as JSON to edit.
    pub async fn tool_json(&self, slug: &str) -> serde_json::Value {
        self.get_json(&format!("/api/v1/tools/{slug}")).await
    }

    pub async fn total_tools(&self) -> u64 {
        self.get_json("/api/v1/tools?per_page=1").await["total"].as_u64().expect("total")
    }
}

/// Asserts an RFC 9457 response with the given status and stable code.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("problem json");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    body
}

/// A minimal SMTP server (RFC 5321 subset: EHLO, MAIL, RCPT, DATA, QUIT) that keeps every
/// message: the hub talks real SMTP to it through lettre.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("smtp port");
    let port = listener.local_addr().expect("addr").port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            store.lock().unwrap().push(std::mem::take(body));
                            data = None;
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            body.push_str(line.strip_prefix('.').unwrap_or(&line));
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, mails)
}

/// A scripted browser: keeps cookies, follows no redirects, submits forms.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of a hidden or text input, by name.
    pub fn input(&self, name: &str) -> String {
        let needle = format!("name=\"{name}\" value=\"");
        let start =
            self.body.find(&needle).unwrap_or_else(|| panic!("no input {name} in {}", self.body)) + needle.len();
        let end = self.body[start..].find('"').expect("end of value") + start;
        self.body[start..end].replace("&amp;", "&")
    }
}

impl Browser {
    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http") { url.to_owned() } else { format!("{}{url}", self.base) }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Page {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = r.status().as_u16();
        let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        let headers = r.headers().clone();
        Page { status, location, headers, body: r.text().await.unwrap() }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let r = self.client.get(self.absolute(url)).header("cookie", self.cookie_header()).send().await.unwrap();
        self.finish(r).await
    }

    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let r = self
            .client
            .post(self.absolute(url))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// Follows redirects within the hub; stops at the first page or at a redirect elsewhere.
    pub async fn follow(&mut self, mut page: Page) -> Page {
        while let Some(location) = page.location.clone() {
            if location.starts_with("http") && !location.starts_with(&self.base) {
                break;
            }
            page = self.get(&location).await;
        }
        page
    }
}

/// Undoes quoted-printable (RFC 2045 §6.7), which lettre uses for bodies with umlauts.
fn decode_quoted_printable(mail: &str) -> String {
    if !mail.contains("quoted-printable") {
        return mail.to_owned();
    }
    let joined = mail.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
