//! The JSON API under /api/v1.

use crate::flows::*;
use crate::helpers::{TestApp, assert_problem};
use serde_json::{Value, json};

fn slugs(list: &Value) -> Vec<String> {
    let mut s: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["slug"].as_str().unwrap_or_default().to_owned())
        .collect();
    s.sort();
    s
}

pub async fn health_check_answers_once_the_hub_serves(app: TestApp) {
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
}

pub async fn a_first_start_loads_the_bundled_catalogue(app: TestApp) {
    assert!(app.total_tools().await >= 15);
    let interfaces = app.get_json("/api/v1/interfaces").await;
    let open311 = interfaces.as_array().unwrap().iter().find(|i| i["slug"] == "open311-georeport-v2").expect("open311");
    assert!(open311["implemented_by"].as_array().unwrap().len() >= 3, "{open311}");
    let functions = app.get_json("/api/v1/functions").await;
    assert!(
        functions
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"] == "participatory-budgeting" && f["label"]["de"] == "Bürgerhaushalt")
    );
}

pub async fn search_finds_german_word_forms(app: TestApp) {
    let plural = app.get_json("/api/v1/tools?q=B%C3%BCrgerhaushalte&per_page=100").await;
    let singular = app.get_json("/api/v1/tools?q=B%C3%BCrgerhaushalt&per_page=100").await;
    assert!(slugs(&plural).contains(&"decidim".to_owned()));
    assert_eq!(slugs(&plural), slugs(&singular));
    let english = app.get_json("/api/v1/tools?q=participatory%20budgeting&per_page=100").await;
    assert!(slugs(&english).contains(&"consul-democracy".to_owned()));
    let nothing = app.get_json("/api/v1/tools?q=Raumfahrtbeh%C3%B6rde").await;
    assert_eq!(nothing["total"], 0);
}

pub async fn filters_combine_and_facets_count_the_result(app: TestApp) {
    let both =
        app.get_json("/api/v1/tools?functions=defect-reports&interfaces=open311-georeport-v2&per_page=100").await;
    let only = app.get_json("/api/v1/tools?functions=defect-reports&per_page=100").await;
    assert!(both["total"].as_u64() < only["total"].as_u64() || both["total"] == only["total"]);
    assert!(both["total"].as_u64().unwrap() >= 2);
    for item in both["items"].as_array().unwrap() {
        assert!(item["functions"].as_array().unwrap().contains(&json!("defect-reports")));
        assert!(item["interfaces"].as_array().unwrap().contains(&json!("open311-georeport-v2")));
    }
    // Repeated keys and comma lists mean the same.
    let repeated =
        app.get_json("/api/v1/tools?functions=defect-reports&functions=map-contributions&per_page=100").await;
    let comma = app.get_json("/api/v1/tools?functions=defect-reports,map-contributions&per_page=100").await;
    assert_eq!(slugs(&repeated), slugs(&comma));
    let open = app.get_json("/api/v1/tools?licence=open-source&per_page=100").await;
    let facet =
        open["facets"]["licence"].as_array().unwrap().iter().find(|f| f["key"] == "open-source").unwrap().clone();
    assert_eq!(facet["count"], open["total"]);
    // Licence values are alternatives: the other values stay countable and selectable.
    let proprietary =
        open["facets"]["licence"].as_array().unwrap().iter().find(|f| f["key"] == "proprietary").unwrap().clone();
    assert!(proprietary["count"].as_u64().unwrap() > 0);
    let either = app.get_json("/api/v1/tools?licence=open-source,proprietary&per_page=100").await;
    assert_eq!(
        either["total"].as_u64().unwrap(),
        open["total"].as_u64().unwrap() + proprietary["count"].as_u64().unwrap()
    );
}

pub async fn paging_is_consistent(app: TestApp) {
    let all = app.get_json("/api/v1/tools?sort=name&per_page=100").await;
    let mut seen = Vec::new();
    let pages = app.get_json("/api/v1/tools?sort=name&per_page=4").await["pages"].as_u64().unwrap();
    for page in 1..=pages {
        let p = app.get_json(&format!("/api/v1/tools?sort=name&per_page=4&page={page}")).await;
        seen.extend(p["items"].as_array().unwrap().iter().map(|i| i["slug"].clone()));
    }
    let expected: Vec<Value> = all["items"].as_array().unwrap().iter().map(|i| i["slug"].clone()).collect();
    assert_eq!(seen, expected);
    let beyond = app.get_json(&format!("/api/v1/tools?per_page=4&page={}", pages + 1)).await;
    assert_eq!(beyond["items"].as_array().unwrap().len(), 0);
}

pub async fn malformed_parameters_get_problem_details(app: TestApp) {
    for (query, name) in [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("per_page=1000", "per_page"),
        ("functions=telepathy", "functions"),
        ("licence=free", "licence"),
        ("accessibility=AAAA", "accessibility"),
        ("interfaces=nope", "interfaces"),
        ("sort=price", "sort"),
        ("colour=blue", "colour"),
        ("q=a&q=b", "q"),
    ] {
        let body = assert_problem(app.get(&format!("/api/v1/tools?{query}")).await, 400, "invalid-parameter").await;
        assert!(body["detail"].as_str().unwrap().contains(name), "{query}: {body}");
    }
    let long = "x".repeat(201);
    assert_problem(app.get(&format!("/api/v1/tools?q={long}")).await, 400, "invalid-parameter").await;
}

pub async fn unknown_records_are_404_problem_details(app: TestApp) {
    assert_problem(app.get("/api/v1/tools/no-such-tool").await, 404, "not-found").await;
    assert_problem(app.get("/api/v1/interfaces/no-such-interface").await, 404, "not-found").await;
    assert_problem(app.get("/api/v1/nothing-here").await, 404, "not-found").await;
    assert_problem(app.get("/api/v1/tools/..%2F..%2Fetc%2Fpasswd").await, 404, "not-found").await;
}

pub async fn writes_need_an_editor_role(app: TestApp) {
    let tool = app.tool_json("polis").await;
    let anonymous = app.client.put(app.url("/api/v1/tools/polis")).json(&tool).send().await.unwrap();
    let body = assert_problem(anonymous, 401, "unauthorized").await;
    assert!(body["detail"].is_string());
    let wrong = app
        .client
        .put(app.url("/api/v1/tools/polis"))
        .bearer_auth(format!("{}x", app.editor_token))
        .json(&tool)
        .send()
        .await
        .unwrap();
    assert_problem(wrong, 401, "unauthorized").await;
    // A valid token without the role is refused with 403.
    let citizen_machine = app.machine_token(None).await;
    let no_role =
        app.client.put(app.url("/api/v1/tools/polis")).bearer_auth(citizen_machine).json(&tool).send().await.unwrap();
    assert_problem(no_role, 403, "forbidden").await;
    let delete = app.client.delete(app.url("/api/v1/tools/polis")).send().await.unwrap();
    assert_problem(delete, 401, "unauthorized").await;
    // Nothing changed.
    assert_eq!(app.tool_json("polis").await, tool);
}

pub async fn a_written_tool_is_served_at_once_and_round_trips(app: TestApp) {
    let mut tool = app.tool_json("polis").await;
    tool["slug"] = json!("polis-kiel");
    tool["name"] = json!("Polis Kiel");
    let created = app.put("/api/v1/tools/polis-kiel").json(&tool).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let result: Value = created.json().await.unwrap();
    assert_eq!(result["outcome"], "created");
    assert_eq!(app.tool_json("polis-kiel").await, tool);
    let again = app.put("/api/v1/tools/polis-kiel").json(&tool).send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["outcome"], "unchanged");
    let found = app.get_json("/api/v1/tools?q=Polis%20Kiel").await;
    assert_eq!(slugs(&found), vec!["polis-kiel"]);
    let deleted = app.delete("/api/v1/tools/polis-kiel").send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_problem(app.get("/api/v1/tools/polis-kiel").await, 404, "not-found").await;
    assert_problem(app.delete("/api/v1/tools/polis-kiel").send().await.unwrap(), 404, "not-found").await;
}

pub async fn stale_edits_are_refused(app: TestApp) {
    let mut tool = app.tool_json("limesurvey").await;
    tool["name"] = json!("LimeSurvey (edited)");
    let first = app.put("/api/v1/tools/limesurvey").header("if-match", "\"1\"").json(&tool).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.json::<Value>().await.unwrap()["version"], 2);
    tool["name"] = json!("LimeSurvey (second edit on an old copy)");
    let stale = app.put("/api/v1/tools/limesurvey").header("if-match", "\"1\"").json(&tool).send().await.unwrap();
    assert_problem(stale, 409, "conflict").await;
    assert_eq!(app.tool_json("limesurvey").await["name"], "LimeSurvey (edited)");
    let bad = app.put("/api/v1/tools/limesurvey").header("if-match", "yesterday").json(&tool).send().await.unwrap();
    assert_problem(bad, 400, "invalid-parameter").await;
}

pub async fn invalid_records_are_rejected_with_field_errors(app: TestApp) {
    let before = app.tool_json("decidim").await;
    let mut tool = before.clone();
    tool["functions"]["values"] = json!(["proposals", "mind-reading"]);
    tool["costs"] = json!({"model": "subscription", "one_time_eur": "unknown", "yearly_eur": {"min": 900, "max": 100}, "included": "unknown", "source": "https://example.org/prices", "as_of": "2026-11-01"});
    tool["interfaces"][0]["interface"] = json!("carrier-pigeon");
    let body =
        assert_problem(app.put("/api/v1/tools/decidim").json(&tool).send().await.unwrap(), 422, "validation-failed")
            .await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"functions.values[1]"), "{fields:?}");
    assert!(fields.contains(&"costs.yearly_eur"), "{fields:?}");
    assert!(fields.contains(&"interfaces[0].interface"), "{fields:?}");
    // Format errors: a missing group is not "unknown" by accident.
    let mut missing = before.clone();
    missing.as_object_mut().unwrap().remove("costs");
    assert_problem(app.put("/api/v1/tools/decidim").json(&missing).send().await.unwrap(), 422, "unprocessable").await;
    let mut other = before.clone();
    other["slug"] = json!("consul-democracy");
    assert_problem(app.put("/api/v1/tools/decidim").json(&other).send().await.unwrap(), 422, "unprocessable").await;
    assert_eq!(app.tool_json("decidim").await, before);
}

pub async fn bad_bodies_are_rejected_without_touching_the_catalogue(app: TestApp) {
    let total = app.total_tools().await;
    let syntax =
        app.put("/api/v1/tools/x").header("content-type", "application/json").body("{\"slug\": ").send().await.unwrap();
    assert_problem(syntax, 400, "invalid-body").await;
    let not_json = app.put("/api/v1/tools/x").header("content-type", "text/plain").body("slug=x").send().await.unwrap();
    assert_problem(not_json, 415, "unsupported-media-type").await;
    // Announced larger than the limit: refused by its Content-Length before any of it is read
    // (a client still sending would see the connection close, so none is sent).
    let too_large = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap();
        let head = format!(
            "PUT /api/v1/tools/x HTTP/1.1\r\nHost: hub\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n{{",
            app.editor_token
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).into_owned()
    };
    assert!(too_large.starts_with("HTTP/1.1 413"), "{too_large}");
    assert!(too_large.contains("application/problem+json") && too_large.contains("\"code\":\"payload-too-large\""));
    assert_eq!(app.total_tools().await, total);
}

pub async fn an_interface_in_use_cannot_be_deleted(app: TestApp) {
    assert_problem(app.delete("/api/v1/interfaces/open311-georeport-v2").send().await.unwrap(), 409, "conflict").await;
    let oparl = app.get_json("/api/v1/interfaces/oparl").await;
    assert_eq!(oparl["implemented_by"].as_array().unwrap().len(), 0);
    assert_eq!(app.delete("/api/v1/interfaces/oparl").send().await.unwrap().status(), 204);
    let mut record = oparl.clone();
    record.as_object_mut().unwrap().remove("implemented_by");
    let restored = app.put("/api/v1/interfaces/oparl").json(&record).send().await.unwrap();
    assert_eq!(restored.status(), 201);
}

pub async fn the_catalogue_feed_supports_conditional_requests(app: TestApp) {
    let r = app.get("/api/v1/catalogue").await;
    assert_eq!(r.status(), 200);
    let etag = r.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let doc: Value = r.json().await.unwrap();
    assert!(doc["tools"].as_array().unwrap().len() >= 15);
    assert!(doc["taxonomy"]["functions"].is_array());
    let again = app.client.get(app.url("/api/v1/catalogue")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    // A write changes the tag.
    let mut tool = app.tool_json("polis").await;
    tool["name"] = json!("Polis (renamed)");
    app.put("/api/v1/tools/polis").json(&tool).send().await.unwrap();
    let after = app.client.get(app.url("/api/v1/catalogue")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(after.status(), 200);
}

pub async fn publiccode_is_exported_only_when_the_record_allows_it(app: TestApp) {
    let r = app.get("/api/v1/tools/decidim/publiccode.yml").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/yaml"));
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&r.text().await.unwrap()).unwrap();
    for key in [
        "publiccodeYmlVersion",
        "name",
        "url",
        "platforms",
        "developmentStatus",
        "softwareType",
        "description",
        "legal",
        "maintenance",
        "localisation",
    ] {
        assert!(yaml.get(key).is_some(), "{key}");
    }
    assert_eq!(yaml["legal"]["license"].as_str(), Some("AGPL-3.0-or-later"));
    // Slido's record says it is closed source.
    let closed = assert_problem(app.get("/api/v1/tools/slido/publiccode.yml").await, 409, "conflict").await;
    assert!(closed["detail"].as_str().unwrap().contains("source_repository"));
}

pub async fn a_second_instance_sees_writes_after_refresh(app: TestApp) {
    let other = app.another_instance().await;
    let mut tool = app.tool_json("dipas").await;
    tool["name"] = json!("DIPAS (Hamburg)");
    assert_eq!(app.put("/api/v1/tools/dipas").json(&tool).send().await.unwrap().status(), 200);
    // The other instance polls the revision every second.
    for _ in 0..50 {
        if other.tool_json("dipas").await["name"] == "DIPAS (Hamburg)" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the second instance never saw the write");
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
