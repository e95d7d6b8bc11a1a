//! The data standard's push and read API: a tool pushes its own records with a
//! client_credentials token (`data:write`), anyone reads them, deletions stay visible to
//! syncing clients, and a bulk import keeps the valid lines and names the rest.

use crate::helpers::{TestApp, assert_problem};
use serde_json::{Value, json};

/// A tool's client registered for `data:write`, and a token of it.
pub(crate) async fn tool_token(app: &TestApp) -> (String, String) {
    use mitsprache_oidc::client::{GrantType, Registration};
    let registration = Registration {
        name: "Decidim Musterstadt".into(),
        grant_types: vec![GrantType::ClientCredentials],
        scopes: vec!["data:write".into()],
        ..Registration::default()
    };
    let (id, secret) = app.add_client(registration).await;
    let r = app
        .client
        .post(app.url("/oidc/token"))
        .basic_auth(&id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "data:write")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    (id, body["access_token"].as_str().unwrap().to_owned())
}

pub(crate) fn process(title: &str) -> Value {
    json!({
        "title": {"de": title, "en": "Cycling plan"},
        "description": {"de": "Wo fehlen Radwege?"},
        "status": "open",
        "phases": [{"title": {"de": "Ideen sammeln"}, "start": "2026-05-01T00:00:00+02:00", "end": "2026-06-30T23:59:59+02:00"}],
        "topics": ["Verkehr", "Klima"],
        "process_type": "consultation",
        "municipality": "05315000",
        "url": "https://decidim.example/processes/rad",
        "geometry": {"type": "Point", "coordinates": [6.95, 50.94]},
        "updated_at": "2026-05-02T10:00:00Z"
    })
}

fn contribution(process: &str, text: &str) -> Value {
    json!({
        "process": process, "kind": "proposal", "title": {"de": text}, "text": {"de": text},
        "author": null, "votes": {"up": 4, "down": 1}, "status": "in-review",
        "created_at": "2026-05-03T08:00:00Z", "updated_at": "2026-05-03T08:00:00Z"
    })
}

pub(crate) async fn push(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client.put(app.url(path)).bearer_auth(token).json(body).send().await.unwrap()
}

pub async fn a_tool_pushes_its_records_and_anyone_reads_them(app: TestApp) {
    let (source, token) = tool_token(&app).await;
    let r = push(&app, &token, "/api/v1/data/processes/rad-2026", &process("Radverkehrskonzept")).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["source"], source.as_str());
    assert_eq!(created["external_id"], "rad-2026");
    assert_eq!(created["title"]["de"], "Radverkehrskonzept");
    assert_eq!(created["provenance"]["via"], "push");
    let id = created["id"].as_str().unwrap().to_owned();

    // The same request again changes nothing, not even `modified`.
    let r = push(&app, &token, "/api/v1/data/processes/rad-2026", &process("Radverkehrskonzept")).await;
    assert_eq!(r.status(), 200);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again, created);

    let one = app.get_json(&format!("/api/v1/processes/{id}")).await;
    assert_eq!(one["phases"][0]["title"]["de"], "Ideen sammeln");
    for (query, expected) in [
        ("", 1),
        ("?municipality=05315000", 1),
        ("?municipality=05314000", 0),
        ("?status=open", 1),
        ("?status=closed", 0),
        ("?topic=verkehr", 1),
        ("?topic=Verk", 0),
        ("?topic=Klima&status=open,upcoming", 1),
        ("?topic=klima&status=closed", 0),
        ("?topic=verkehr&q=radwege", 1),
        ("?topic=verkehr&q=bahnhof", 0),
        ("?q=radverkehr%20RADWEGE", 1),
        // A word is found by its beginning: "radverk" finds "Radverkehrskonzept", "konzept"
        // does not, as in the index of the portal's text search.
        ("?q=radverk&status=open", 1),
        ("?q=konzept", 0),
        ("?q=wo-fehlen", 1),
        ("?q=Bahnhof", 0),
        ("?q=radwege&municipality=05315000", 1),
        ("?q=radwege&municipality=05314000", 0),
        (&format!("?source={source}"), 1),
        ("?source=another-tool", 0),
    ] {
        let list = app.get_json(&format!("/api/v1/processes{query}")).await;
        assert_eq!(list["total"], expected, "{query}: {list}");
        assert_eq!(list["items"].as_array().unwrap().len(), expected as usize, "{query}");
    }

    // The same filtered list as GeoJSON, Atom and iCalendar.
    let geo = app.get("/api/v1/processes.geojson?municipality=05315000").await;
    assert_eq!(geo.headers()["content-type"], "application/geo+json");
    let geo: Value = geo.json().await.unwrap();
    assert_eq!(geo["features"][0]["geometry"]["coordinates"], json!([6.95, 50.94]));
    assert_eq!(geo["features"][0]["properties"]["external_id"], "rad-2026");
    let empty: Value = app.get("/api/v1/processes.geojson?status=closed").await.json().await.unwrap();
    assert_eq!(empty["features"], json!([]));
    let atom = app.get("/api/v1/processes.atom?lang=en").await.text().await.unwrap();
    assert!(atom.contains("<title>Cycling plan</title>") && atom.contains("xml:lang=\"en\""), "{atom}");
    let ics = app.get("/api/v1/processes.ics").await;
    assert_eq!(ics.headers()["content-type"], "text/calendar; charset=utf-8");
    let ics = ics.text().await.unwrap();
    assert!(
        ics.contains("DTSTART:20260630T215959Z\r\n")
            && ics.contains("SUMMARY:Frist: Ideen sammeln – Radverkehrskonzept"),
        "{ics}"
    );
    assert_problem(app.get("/api/v1/processes.ics?lang=fr").await, 400, "invalid-parameter").await;

    // Contributions, by the hub's id of their process, paged with a next link.
    for n in 0..3 {
        let r = push(
            &app,
            &token,
            &format!("/api/v1/data/contributions/c{n}"),
            &contribution("rad-2026", &format!("Bügel {n}")),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    let page = app.get_json(&format!("/api/v1/contributions?process={id}&per_page=2")).await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let next = page["links"]["next"].as_str().unwrap();
    assert!(next.contains("page=2") && next.contains("per_page=2"), "{next}");
    // The link is absolute at the hub's public URL; this test hub listens elsewhere.
    let rest = app.get_json(&next[next.find("/api/").unwrap()..]).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["links"]["next"].is_null());
    assert_problem(app.get("/api/v1/contributions?process=nope").await, 400, "invalid-parameter").await;
    assert_problem(app.get("/api/v1/contributions?status=open").await, 400, "invalid-parameter").await;

    // Deleted: gone from lists and reads, a tombstone for syncing clients.
    let r = app.client.delete(app.url("/api/v1/data/contributions/c1")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = app.client.delete(app.url("/api/v1/data/contributions/c1")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 204, "deleting twice is no error");
    let r = app.client.delete(app.url("/api/v1/data/contributions/never")).bearer_auth(&token).send().await.unwrap();
    assert_problem(r, 404, "not-found").await;
    assert_eq!(app.get_json(&format!("/api/v1/contributions?process={id}")).await["total"], 2);
    let sync = app.get_json("/api/v1/contributions?modified_since=2000-01-01T00:00:00Z").await;
    assert_eq!(sync["total"], 3);
    let tombstone = sync["items"].as_array().unwrap().iter().find(|i| i["external_id"] == "c1").unwrap();
    assert_eq!(tombstone["deleted"], true);
    assert!(tombstone.get("text").is_none(), "a tombstone keeps no content: {tombstone}");
    let later = app.get_json("/api/v1/contributions?modified_since=2100-01-01T00:00:00Z").await;
    assert_eq!(later["total"], 0);
}

pub async fn a_rejected_record_names_its_fields(app: TestApp) {
    let (_, token) = tool_token(&app).await;
    let mut bad = process("Rad");
    bad["status"] = json!("running");
    bad["municipality"] = json!("5315000");
    bad["phases"][0]["end"] = json!("2026-04-01T00:00:00+02:00");
    bad["process_type"] = json!("referendum-by-post");
    let body =
        assert_problem(push(&app, &token, "/api/v1/data/processes/rad", &bad).await, 422, "validation-failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["status", "municipality", "phases[0].end"] {
        assert!(fields.contains(&f), "{f} in {body}");
    }
    // The vocabulary is checked once the record itself is sound.
    let mut vocab = process("Rad");
    vocab["process_type"] = json!("referendum-by-post");
    let body =
        assert_problem(push(&app, &token, "/api/v1/data/processes/rad", &vocab).await, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "process_type");
    let r = app
        .client
        .put(app.url("/api/v1/data/processes/rad"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "invalid-body").await;
    let r = app.client.put(app.url("/api/v1/data/processes/rad")).bearer_auth(&token).body("x").send().await.unwrap();
    assert_problem(r, 415, "unsupported-media-type").await;
    assert_eq!(app.get_json("/api/v1/processes").await["total"], 0, "nothing was stored");
}

pub async fn pushes_need_data_write_and_reach_only_their_own_records(app: TestApp) {
    let body = process("Rad");
    let r = app.client.put(app.url("/api/v1/data/processes/rad")).json(&body).send().await.unwrap();
    assert_problem(r, 401, "unauthorized").await;
    // An editor's catalogue token is not a tool's data token.
    let r = push(&app, &app.editor_token, "/api/v1/data/processes/rad", &body).await;
    let www = r.headers().get("www-authenticate").unwrap().to_str().unwrap().to_owned();
    assert!(www.contains("data:write"), "{www}");
    assert_problem(r, 403, "forbidden").await;

    let (a, token_a) = tool_token(&app).await;
    let (b, token_b) = tool_token(&app).await;
    assert_eq!(push(&app, &token_a, "/api/v1/data/processes/rad", &body).await.status(), 201);
    assert_eq!(push(&app, &token_b, "/api/v1/data/processes/rad", &process("Anderes")).await.status(), 201);
    let a_list = app.get_json(&format!("/api/v1/processes?source={a}")).await;
    let b_list = app.get_json(&format!("/api/v1/processes?source={b}")).await;
    assert_eq!(a_list["items"][0]["title"]["de"], "Rad");
    assert_eq!(b_list["items"][0]["title"]["de"], "Anderes");
    assert_ne!(a_list["items"][0]["id"], b_list["items"][0]["id"]);
    // B's deletion reaches only B's record.
    let r = app.client.delete(app.url("/api/v1/data/processes/rad")).bearer_auth(&token_b).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(app.get_json(&format!("/api/v1/processes?source={a}")).await["total"], 1);
    assert_eq!(app.get_json(&format!("/api/v1/processes?source={b}")).await["total"], 0);
}

pub async fn a_bulk_import_keeps_valid_lines_and_names_the_rest(app: TestApp) {
    let (source, token) = tool_token(&app).await;
    let mut lines = Vec::new();
    let mut p = process("Haushalt 2027");
    p["type"] = json!("process");
    p["id"] = json!("haushalt");
    lines.push(p.to_string());
    for n in 0..5 {
        let mut c = contribution("haushalt", &format!("Vorschlag {n}"));
        c["type"] = json!("contribution");
        c["id"] = json!(format!("v{n}"));
        lines.push(c.to_string());
    }
    lines.push(String::new()); // blank lines are skipped
    lines.push("{not json".into()); // line 8
    lines.push(json!({"type": "contribution", "id": "v9", "process": "haushalt", "kind": "tweet"}).to_string()); // 9
    lines.push(json!({"type": "contribution", "id": "v0", "deleted": true}).to_string()); // 10
    let ndjson = lines.join("\n") + "\n";
    let send = |body: String| {
        app.client
            .post(app.url("/api/v1/data/import"))
            .bearer_auth(&token)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
    };
    let r = send(ndjson.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["lines"], 9, "{report}");
    assert_eq!(report["created"], 6, "{report}");
    // v0 was created and deleted within the import.
    assert_eq!(report["deleted"], 1, "{report}");
    let rejected: Vec<u64> =
        report["rejected"].as_array().unwrap().iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(rejected, vec![8, 9]);
    let nine = &report["rejected"][1]["errors"];
    assert!(nine.as_array().unwrap().iter().any(|e| e["field"] == "kind"), "{nine}");

    let state = format!("/api/v1/contributions?source={source}&modified_since=2000-01-01T00:00:00Z&per_page=100");
    let before = app.get_json(&state).await;
    assert_eq!(before["total"], 5);
    // Idempotent: the same import again keeps the same state.
    let report: Value = send(ndjson).await.unwrap().json().await.unwrap();
    assert_eq!((report["created"].as_u64(), report["updated"].as_u64()), (Some(0), Some(1)), "{report}");
    let after = app.get_json(&state).await;
    let texts = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["external_id"].to_string(), i["text"].to_string(), i["deleted"].to_string()))
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(texts(&after), texts(&before));

    // Nothing kept: a problem naming each line, not a report of nothing done.
    let body = assert_problem(send("{\"type\": \"poll\"}\n{}\n".into()).await.unwrap(), 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["record"], "line 1", "{body}");
    assert!(body["errors"].as_array().unwrap().iter().any(|e| e["record"] == "line 2"), "{body}");

    let r = app
        .client
        .post(app.url("/api/v1/data/import"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(r, 415, "unsupported-media-type").await;
}

pub async fn the_schemas_are_served_where_their_ids_say(app: TestApp) {
    for kind in ["process", "contribution", "event", "result", "organisation"] {
        let path = format!("/standard/v1/{kind}.schema.json");
        let r = app.get(&path).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/schema+json");
        let schema: Value = r.json().await.unwrap();
        let id = schema["$id"].as_str().unwrap();
        assert!(id.starts_with("http") && id.ends_with(&path), "{kind}: {id}");
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert!(schema["required"].as_array().unwrap().contains(&json!("updated_at")), "{kind}");
    }
    assert_eq!(app.get("/standard/v1/poll.schema.json").await.status(), 404);
}

/// A data:write client registered in `database` (not the test app's), and a token for it from
/// the hub at `base`.
async fn tool_token_at(database: &str, base: &str, now: time::OffsetDateTime) -> String {
    use mitsprache_oidc::client::{GrantType, Registration};
    let registration = Registration {
        name: "Importeur".into(),
        grant_types: vec![GrantType::ClientCredentials],
        scopes: vec!["data:write".into()],
        ..Registration::default()
    };
    let (id, secret) = ("crash-importer".to_owned(), "s".repeat(43));
    let store = mitsprache_store::Store::connect(database).await.unwrap();
    if store.clients().find(&id).await.unwrap().is_none() {
        let (client, _) = registration.into_client(id.clone(), secret.clone(), now).unwrap();
        store.clients().put(&client, None, now).await.unwrap();
    }
    store.close().await;
    let r = reqwest::Client::new()
        .post(format!("{base}/oidc/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// Batch `b` of the crash test's import: 200 contributions with ids of their own.
fn batch(b: usize) -> String {
    (0..200)
        .map(|n| {
            let mut c = contribution("p", &format!("Beitrag {b}-{n}"));
            c["type"] = json!("contribution");
            c["id"] = json!(format!("b{b}-{n}"));
            c.to_string() + "\n"
        })
        .collect()
}

/// SIGKILL during bulk imports, 20 times at varying points: every acknowledged record survives,
/// the SQLite file stays sound, and importing everything again changes nothing.
pub async fn a_hub_killed_during_imports_keeps_every_acknowledged_record(app: TestApp) {
    let (database, dir) = crate::helpers::fresh_database(app.backend).await;
    let now = time::OffsetDateTime::now_utc();
    let mut acknowledged: Vec<usize> = Vec::new();
    let mut next_batch = 0;
    for round in 0..20u64 {
        let mut hub = crate::jobs::Process::start(&database, dir.path(), &format!("crash-{round}"), None).await;
        let token = tool_token_at(&database, &hub.base, now).await;
        // Every acknowledged batch of earlier rounds is there after the restart.
        let store = mitsprache_store::Store::connect(&database).await.unwrap();
        let live: std::collections::BTreeSet<String> =
            store.data().live_ids("crash-importer", "contribution").await.unwrap().into_iter().collect();
        store.close().await;
        for b in &acknowledged {
            for n in 0..200 {
                assert!(live.contains(&format!("b{b}-{n}")), "round {round}: batch {b} was acknowledged but is lost");
            }
        }
        // Import batches back to back; kill the hub after a delay that differs every round,
        // counted from the round's first acknowledgement: on a loaded machine a delay from the
        // start could end before anything was written, and the round would test nothing.
        let (base, client) = (hub.base.clone(), reqwest::Client::new());
        let first = next_batch;
        let (acked, mut first_ack) = tokio::sync::mpsc::unbounded_channel::<()>();
        let sender = tokio::spawn(async move {
            let mut done = Vec::new();
            for b in first..first + 50 {
                let r = client
                    .post(format!("{base}/api/v1/data/import"))
                    .bearer_auth(&token)
                    .header("content-type", "application/x-ndjson")
                    .body(batch(b))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        done.push(b);
                        let _ = acked.send(());
                    }
                    _ => break,
                }
            }
            done
        });
        tokio::time::timeout(std::time::Duration::from_secs(60), first_ack.recv())
            .await
            .unwrap_or_else(|_| panic!("round {round}: no batch acknowledged within a minute"));
        let delay = (round * 7919 % 23) * 15;
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        hub.child.kill().unwrap();
        let _ = hub.child.wait();
        let done = sender.await.unwrap();
        next_batch = first + 50;
        acknowledged.extend(done);
    }

    if app.backend == crate::Backend::Sqlite {
        let pool = sqlx::SqlitePool::connect(&database).await.unwrap();
        let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
        assert_eq!(check, "ok");
        pool.close().await;
    }

    // Importing every batch again (acknowledged or not) leaves each record as it was sent.
    let hub = crate::jobs::Process::start(&database, dir.path(), "crash-final", None).await;
    let token = tool_token_at(&database, &hub.base, now).await;
    let client = reqwest::Client::new();
    for b in 0..next_batch {
        let r = client
            .post(format!("{}/api/v1/data/import", hub.base))
            .bearer_auth(&token)
            .header("content-type", "application/x-ndjson")
            .body(batch(b))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["updated"], 0, "batch {b} was stored differently from what was sent: {report}");
        if acknowledged.contains(&b) {
            assert_eq!(report["created"], 0, "batch {b}: {report}");
        }
    }
    let total = client
        .get(format!("{}/api/v1/contributions?source=crash-importer&per_page=1", hub.base))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["total"]
        .clone();
    assert_eq!(total, json!(next_batch * 200));
}

/// Eight pushes of the same new record at once (as two instances of a tool, or a retry racing
/// its original, would send them): all succeed, exactly one creates it.
pub async fn concurrent_pushes_of_a_new_record_all_succeed(app: TestApp) {
    let (_, token) = tool_token(&app).await;
    let body = process("Gleichzeitig");
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = app.client.put(app.url("/api/v1/data/processes/gleichzeitig")).bearer_auth(&token).json(&body);
        sends.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    let statuses = sends.join_all().await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 200), "{statuses:?}");
    assert_eq!(app.get_json("/api/v1/processes?q=gleichzeitig").await["total"], 1);
}

/// The topic and word filters follow a process through a change of status, a deletion and its
/// return, and a second page of a topic's processes continues the first.
pub async fn topic_and_word_filters_follow_every_change(app: TestApp) {
    let (_, token) = tool_token(&app).await;
    let total = |query: &'static str| {
        let app = &app;
        async move { app.get_json(&format!("/api/v1/processes?{query}")).await["total"].clone() }
    };
    assert_eq!(push(&app, &token, "/api/v1/data/processes/rad", &process("Radverkehrskonzept")).await.status(), 201);
    assert_eq!(total("topic=klima&status=open").await, 1);
    let mut closed = process("Radverkehrskonzept Innenstadt");
    closed["status"] = json!("closed");
    closed["topics"] = json!(["Verkehr"]);
    assert_eq!(push(&app, &token, "/api/v1/data/processes/rad", &closed).await.status(), 200);
    assert_eq!(total("topic=klima").await, 0);
    assert_eq!(total("topic=verkehr&status=open").await, 0);
    assert_eq!(total("topic=verkehr&status=closed").await, 1);
    assert_eq!(total("q=innenstadt&status=closed").await, 1);
    let r = app.client.delete(app.url("/api/v1/data/processes/rad")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(total("topic=verkehr").await, 0);
    assert_eq!(total("q=innenstadt").await, 0);
    assert!(
        push(&app, &token, "/api/v1/data/processes/rad", &process("Radverkehrskonzept")).await.status().is_success()
    );
    assert_eq!(total("topic=verkehr&q=radverkehrskonzept").await, 1);

    for n in 0..5 {
        let status = if n % 2 == 0 { "open" } else { "upcoming" };
        let mut p = process(&format!("Spielplatz {n}"));
        p["status"] = json!(status);
        p["phases"][0]["end"] = json!(format!("2026-07-0{}T00:00:00Z", n + 1));
        assert_eq!(push(&app, &token, &format!("/api/v1/data/processes/s{n}"), &p).await.status(), 201);
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let list = app
            .get_json(&format!(
                "/api/v1/processes?topic=klima&q=spielplatz&status=open,upcoming&per_page=2&page={page}"
            ))
            .await;
        assert_eq!(list["total"], 5, "{list}");
        seen.extend(list["items"].as_array().unwrap().iter().map(|i| i["external_id"].as_str().unwrap().to_owned()));
    }
    seen.sort();
    assert_eq!(seen, ["s0", "s1", "s2", "s3", "s4"]);
}

pub async fn a_pushing_tool_sees_its_conformance_report(app: TestApp) {
    let (source, token) = tool_token(&app).await;
    assert_problem(
        app.client.get(app.url(&format!("/api/v1/conformance/{source}"))).send().await.unwrap(),
        404,
        "not-found",
    )
    .await;
    assert_eq!(push(&app, &token, "/api/v1/data/processes/rad", &process("Radverkehr")).await.status(), 201);
    let mut thin = process("Haushalt");
    for field in ["description", "geometry", "url"] {
        thin.as_object_mut().unwrap().remove(field);
    }
    assert_eq!(push(&app, &token, "/api/v1/data/processes/haushalt", &thin).await.status(), 201);
    let mut bad = process("Rad");
    bad["phases"][0]["end"] = json!("2026-04-01T00:00:00+02:00");
    bad["status"] = json!("running");
    assert_eq!(push(&app, &token, "/api/v1/data/processes/kaputt", &bad).await.status(), 422);
    let lines = [
        json!({"type": "contribution", "id": "c1", "process": "rad", "kind": "tweet"}).to_string(),
        json!({"type": "contribution", "id": "c2", "process": "rad", "kind": "tweet"}).to_string(),
    ];
    let r = app
        .client
        .post(app.url("/api/v1/data/import"))
        .bearer_auth(&token)
        .header("content-type", "application/x-ndjson")
        .body(lines.join("\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    let report = app.get_json(&format!("/api/v1/conformance/{source}")).await;
    assert_eq!(report["via"], "push");
    assert!(report["last_write"].is_string(), "{report}");
    let process = &report["types"][0];
    assert_eq!((process["type"].as_str(), process["records"].as_i64()), (Some("process"), Some(2)), "{report}");
    let fill =
        |field: &str| process["fields"].as_array().unwrap().iter().find(|f| f["field"] == field).unwrap().clone();
    assert_eq!(fill("title")["percent"], 100);
    assert_eq!((fill("geometry")["filled"].as_i64(), fill("geometry")["percent"].as_i64()), (Some(1), Some(50)));
    let count = |reason: &str| {
        report["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["reason"] == reason)
            .map(|r| r["count"].as_i64().unwrap())
    };
    assert_eq!(count("phases[].end"), Some(1), "{report}");
    assert_eq!(count("status"), Some(1), "{report}");
    assert!(count("kind").unwrap_or(0) >= 2, "{report}");
    let examples = report["examples"].as_array().unwrap();
    assert!(
        examples.iter().any(|e| e["record"] == "kaputt") && examples.iter().any(|e| e["record"] == "line 2"),
        "{report}"
    );

    let page = app.client.get(app.url(&format!("/standard/quellen/{source}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Konformitätsbericht") && html.contains("phases[].end"), "{html}");
}

pub async fn a_council_paper_is_pushed_and_read_in_every_format(app: TestApp) {
    let (source, token) = tool_token(&app).await;
    let paper: Value = serde_json::from_str(include_str!("../../../../docs/standard/examples/paper.json")).unwrap();
    assert_eq!(push(&app, &token, "/api/v1/data/papers/bv-2025-0815", &paper).await.status(), 201);
    let mut bad = paper.clone();
    bad["date"] = json!("30.09.2025");
    let body =
        assert_problem(push(&app, &token, "/api/v1/data/papers/kaputt", &bad).await, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["field"], "date", "{body}");

    let list = app.get_json(&format!("/api/v1/papers?source={source}&municipality=05315000")).await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["reference"], "BV/2025/0815");
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get_json(&format!("/api/v1/papers/{id}")).await["paper_type"], "Beschlussvorlage");
    let atom = app.client.get(app.url("/api/v1/papers.atom")).send().await.unwrap();
    assert_eq!(atom.headers()["content-type"], "application/atom+xml");
    assert!(atom.text().await.unwrap().contains("Bebauungsplan Nr. 112"));
    let geojson: Value = app.client.get(app.url("/api/v1/papers.geojson")).send().await.unwrap().json().await.unwrap();
    assert_eq!(geojson["features"][0]["geometry"], Value::Null);
    assert_eq!(geojson["features"][0]["properties"]["file_url"], "https://ris.example.de/dokumente/4711.pdf");
    for path in [
        "/api/v1/results.atom",
        "/api/v1/results.geojson",
        "/api/v1/organisations.atom",
        "/api/v1/organisations.geojson",
    ] {
        assert_eq!(app.client.get(app.url(path)).send().await.unwrap().status(), 200, "{path}");
    }
}
