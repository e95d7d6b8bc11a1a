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
