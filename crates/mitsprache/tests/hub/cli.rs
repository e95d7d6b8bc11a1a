//! The command line: imports and what they leave behind, configuration errors, shutdown.

use crate::helpers::TestApp;
use mitsprache::config::Config;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

async fn revision(app: &TestApp) -> String {
    app.get("/api/v1/catalogue").await.headers()["etag"].to_str().unwrap().to_owned()
}

/// Runs an import against the app's database and lets the app pick the change up.
async fn import(app: &TestApp, dir: &Path) -> anyhow::Result<()> {
    let config: Config = app.config.clone();
    let result = mitsprache::commands::import(&config, dir, false).await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    result
}

pub async fn a_failed_import_changes_nothing(app: TestApp) {
    let before = revision(&app).await;
    let polis = app.tool_json("polis").await;
    let dir = tempfile::tempdir().unwrap();
    let mut renamed = polis.clone();
    renamed["name"] = serde_json::json!("Polis, changed by a good file");
    write(dir.path(), "1-good.json", &renamed.to_string());
    let mut bad = polis.clone();
    bad["slug"] = serde_json::json!("polis-two");
    bad["functions"]["values"] = serde_json::json!(["levitation"]);
    write(dir.path(), "2-bad-record.json", &bad.to_string());
    write(dir.path(), "3-broken.json", "{ not json");
    write(dir.path(), "4-bad.publiccode.yml", "publiccodeYmlVersion: \"0.7\"\nname: Nothing\n");
    let err = import(&app, dir.path()).await.unwrap_err().to_string();
    assert!(err.contains("nothing was imported"), "{err}");
    assert!(err.contains("2-bad-record.json") && err.contains("levitation"), "{err}");
    assert!(err.contains("3-broken.json"), "{err}");
    assert!(err.contains("4-bad.publiccode.yml") && err.contains("`url` is required"), "{err}");
    assert_eq!(revision(&app).await, before);
    assert_eq!(app.tool_json("polis").await, polis, "the good file of a failed import is not applied either");
}

pub async fn importing_the_same_files_twice_changes_nothing(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let mut tool = app.tool_json("polis").await;
    tool["slug"] = serde_json::json!("polis-luebeck");
    tool["name"] = serde_json::json!("Polis Lübeck");
    write(dir.path(), "tool.json", &tool.to_string());
    import(&app, dir.path()).await.unwrap();
    assert_eq!(app.tool_json("polis-luebeck").await["name"], "Polis Lübeck");
    let after_first = revision(&app).await;
    import(&app, dir.path()).await.unwrap();
    assert_eq!(revision(&app).await, after_first);
}

pub async fn publiccode_files_update_only_their_fields(app: TestApp) {
    let decidim = app.tool_json("decidim").await;
    let exported = app.get("/api/v1/tools/decidim/publiccode.yml").await.text().await.unwrap();
    let changed = exported.replace("license: AGPL-3.0-or-later", "license: AGPL-3.0-only");
    assert_ne!(changed, exported);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "decidim.publiccode.yml", &changed);
    import(&app, dir.path()).await.unwrap();
    let after = app.tool_json("decidim").await;
    assert_eq!(after["licence"]["spdx"], "AGPL-3.0-only");
    for kept in ["costs", "training", "hosting", "interfaces", "references", "multi_tenancy", "functions"] {
        assert_eq!(after[kept], decidim[kept], "{kept} is not in publiccode.yml and must stay");
    }
}

// ---------------------------------------------------------------- the binary as a process

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn hub() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mitsprache"));
    // The test process's own MITSPRACHE_ variables must not leak into the hub under test.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MITSPRACHE_")) {
        cmd.env_remove(k);
    }
    cmd
}

#[test]
fn sigterm_stops_the_hub_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let mut child = hub()
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("the hub logs its address").unwrap();
        if let Some(rest) = line.split("address=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let health = std::net::TcpStream::connect(&address);
    assert!(health.is_ok(), "the hub accepts connections at {address}");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}; log: {rest:?}");
    assert!(rest.iter().any(|l| l.contains("mitsprache stopped")), "{rest:?}");
}

#[test]
fn a_wrong_configuration_value_stops_start_up_naming_the_key() {
    let out = hub().args(["serve"]).env("MITSPRACHE_LISTEN", "everywhere").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("key `listen`"), "{stderr}");
    let out = hub().args(["serve", "--database", "mysql://localhost/x"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("key `database`"));
}

#[test]
fn migrate_applies_each_migration_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let first = hub().args(["migrate", "--database", &db]).output().unwrap();
    assert!(first.status.success());
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        format!("{} migration(s) applied\n", mitsprache_store::MIGRATIONS.len())
    );
    let second = hub().args(["migrate", "--database", &db]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&second.stdout), "0 migration(s) applied\n");
}

/// A SQLite store with 300 generated processes (and statistics: `demo generate` analyses).
fn demo_store() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let generated = hub()
        .args(["demo", "generate", "--database", &db, "--processes", "300", "--contributions", "0"])
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    (dir, db)
}

/// Runs `work` on a pool of the store at `db`, closed afterwards so that the CLI finds it free.
fn on_store<T, F: std::future::Future<Output = T>>(db: &str, work: impl FnOnce(sqlx::SqlitePool) -> F) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::SqlitePool::connect(db).await.unwrap();
        let out = work(pool.clone()).await;
        pool.close().await;
        out
    })
}

/// Migration 0012 indexes the processes a store holds already, with the terms a write gives them.
#[test]
fn the_terms_migration_indexes_the_processes_there_are() {
    let (_dir, db) = demo_store();
    let terms = |sql: &'static str| {
        on_store(&db, |pool| async move {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT record_id, 'topic ' || topic FROM data_topics UNION ALL SELECT record_id, word FROM data_words \
                     ORDER BY 1, 2",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            if !sql.is_empty() {
                for statement in sql.split(';') {
                    sqlx::query(statement).execute(&pool).await.unwrap();
                }
            }
            rows
        })
    };
    // As the store was before 0012.
    let written = terms(
        "DROP TABLE data_topics; DROP TABLE data_words; DELETE FROM schema_migrations WHERE name = '0012_process_terms'",
    );
    assert!(written.len() > 300 * 5, "{}", written.len());
    assert!(written.iter().any(|(_, t)| t == "topic klima") && written.iter().any(|(_, t)| t == "beispielverfahren"));
    let migrated = hub().args(["migrate", "--database", &db]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&migrated.stdout), "1 migration(s) applied\n");
    assert_eq!(terms(""), written);
}

/// An index a migration rebuilds comes with statistics when the store has them for the others:
/// SQLite weighs an index without them by a guess, and took the wrong one for "near" (0014).
#[test]
fn a_migration_leaves_an_analysed_store_with_statistics_for_every_index() {
    let (_dir, db) = demo_store();
    let unanalysed = |sql: &'static str| {
        on_store(&db, |pool| async move {
            sqlx::query(sql).execute(&pool).await.unwrap();
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'data_records' \
                 AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL) ORDER BY name",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            rows.into_iter().map(|(n,)| n).collect::<Vec<_>>()
        })
    };
    // As the store was before 0014, which drops and creates two indexes (and their statistics).
    assert_eq!(unanalysed("DELETE FROM schema_migrations WHERE name = '0014_process_indexes'"), Vec::<String>::new());
    let migrated = hub().args(["migrate", "--database", &db]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&migrated.stdout), "1 migration(s) applied\n");
    assert_eq!(unanalysed("SELECT 1"), Vec::<String>::new());
}

#[test]
fn the_catalogue_exports_as_json_and_as_publiccode() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let json = hub().args(["catalogue", "export", "--database", &db]).output().unwrap();
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(doc["tools"].as_array().unwrap().len() >= 15);
    // The export is an import file: importing it into a fresh hub changes nothing there.
    let file = dir.path().join("catalogue.json");
    std::fs::write(&file, &json.stdout).unwrap();
    let again = hub().args(["catalogue", "import", file.to_str().unwrap(), "--database", &db]).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 created, 0 updated"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );

    let folder = dir.path().join("publiccode");
    let pc = hub()
        .args([
            "catalogue",
            "export",
            "--format",
            "publiccode",
            "--output",
            folder.to_str().unwrap(),
            "--database",
            &db,
        ])
        .output()
        .unwrap();
    assert!(pc.status.success());
    let report = String::from_utf8_lossy(&pc.stdout);
    assert!(report.contains("go-vocal: "), "closed-source tools are listed as skipped: {report}");
    let decidim = std::fs::read_to_string(folder.join("decidim.publiccode.yml")).unwrap();
    assert_eq!(mitsprache_catalogue::publiccode::check(&decidim).unwrap(), Vec::<String>::new());
}

/// Secrets in requests (mail-link tokens in URLs, passwords, client secrets) never reach the
/// log, even at debug level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let mut child = hub()
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
        .env("MITSPRACHE_LOG__LEVEL", "debug")
        .env("MITSPRACHE_MAIL__OUTBOX", dir.path().join("outbox"))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    let address = loop {
        let line = rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the hub logs its address");
        log.push(line.clone());
        if let Some(rest) = line.split("address=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let secrets = ["MAILLINKTOKEN0123456789", "GeheimesPasswort-4711", "CLIENTSECRET-abcdef123456"];
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let base = format!("http://{address}");
    client.get(format!("{base}/passwort-neu?token={}", secrets[0])).send().await.unwrap();
    client.get(format!("{base}/email-bestaetigen?token={}", secrets[0])).send().await.unwrap();
    let page = client.get(format!("{base}/anmelden")).send().await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf = cookie.split_once('=').unwrap().1.to_owned();
    client
        .post(format!("{base}/anmelden"))
        .header("cookie", &cookie)
        .form(&[("email", "x@example.org"), ("password", secrets[1]), ("csrf", &csrf), ("anfrage", "")])
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/oidc/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", secrets[2])])
        .send()
        .await
        .unwrap();
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(2)) {
        log.push(line);
    }
    let text = log.join("\n");
    assert!(text.contains("/passwort-neu"), "requests are logged: {text}");
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} was logged");
    }
}
