//! The API contract as a snapshot: a change to the OpenAPI document shows up in review.
//! Refresh with `UPDATE_SNAPSHOTS=1 cargo test -p mitsprache --test hub openapi`.

#[test]
fn the_openapi_document_matches_its_snapshot() {
    let actual = mitsprache_web::openapi().to_pretty_json().unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hub/snapshots/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    assert!(actual == expected, "the OpenAPI document changed; review it and run with UPDATE_SNAPSHOTS=1");
}

#[test]
fn the_openapi_document_is_3_1_and_documents_every_api_route() {
    let doc: serde_json::Value = serde_json::from_str(&mitsprache_web::openapi().to_json().unwrap()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/tools",
        "/api/v1/tools/{slug}",
        "/api/v1/tools/{slug}/publiccode.yml",
        "/api/v1/interfaces",
        "/api/v1/interfaces/{slug}",
        "/api/v1/functions",
        "/api/v1/process-types",
        "/api/v1/catalogue",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    assert!(doc["components"]["securitySchemes"]["access_token"].is_object());
}
