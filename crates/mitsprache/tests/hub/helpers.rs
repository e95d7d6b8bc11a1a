//! `TestApp`: a running hub on port 0 with its own database, and a client for it.

use mitsprache::config::{CatalogueConfig, Config};
use mitsprache::startup::App;
use mitsprache_domain::FixedClock;
use std::sync::Arc;
use tokio::sync::oneshot;

pub const EDITOR_TOKEN: &str = "test-editor-token-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub config: Config,
    pub backend: Backend,
    _shutdown: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

fn pg_url() -> String {
    std::env::var("PG_TEST_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
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
        let dir = tempfile::tempdir().expect("temp dir");
        let database = match backend {
            Backend::Sqlite => format!("sqlite://{}/hub.db", dir.path().display()),
            Backend::Postgres => fresh_postgres_schema().await,
        };
        Self::spawn_on(backend, database, dir).await
    }

    /// A second hub on the same database, as a state-wide deployment runs several.
    pub async fn another_instance(&self) -> TestApp {
        Self::spawn_on(self.backend, self.config.database.clone(), tempfile::tempdir().expect("temp dir")).await
    }

    async fn spawn_on(backend: Backend, database: String, dir: tempfile::TempDir) -> TestApp {
        let defaults = Config::default();
        let config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            database,
            catalogue: CatalogueConfig {
                editor_token: Some(EDITOR_TOKEN.into()),
                refresh_seconds: 1,
                ..defaults.catalogue
            },
            ..defaults
        };
        let clock = Arc::new(FixedClock(time::macros::datetime!(2026-11-26 12:00 UTC)));
        let app = App::build_with_clock(&config, clock).await.expect("the hub starts");
        let address = format!("http://{}", app.address);
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(app.serve(async {
            let _ = rx.await;
        }));
        TestApp {
            address,
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
            config,
            backend,
            _shutdown: tx,
            _dir: dir,
        }
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
        self.client.put(self.url(path)).bearer_auth(EDITOR_TOKEN)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path)).bearer_auth(EDITOR_TOKEN)
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
