//! Documentation served by the hub itself, for vendors and operators: the data standard (its
//! fields from the JSON Schemas, the connectors' mappings from their code), how to connect a
//! tool (with this hub's own addresses), and the API reference rendered from the OpenAPI
//! document. Generated from what the hub runs, so the pages cannot drift from it.

use crate::error::WebError;
use crate::render::{Ctx, Lang, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use mitsprache_standard::Kind;
use serde_json::Value;

pub struct FieldDoc {
    pub name: String,
    pub ty: String,
    pub required: bool,
    pub description: String,
}

pub struct TypeDoc {
    pub name: &'static str,
    pub plural: &'static str,
    pub schema_url: String,
    pub fields: Vec<FieldDoc>,
}

pub struct MappingView {
    pub tool: &'static str,
    pub api: &'static str,
    pub fields: Vec<(&'static str, &'static str)>,
    pub unmapped: String,
    pub authors: &'static str,
}

#[derive(Template)]
#[template(path = "standard.html")]
pub struct StandardPage {
    pub ctx: Ctx,
    pub version: &'static str,
    pub types: Vec<TypeDoc>,
    pub mappings: Vec<MappingView>,
}

/// A schema's type in a word or two: `string (date-time)`, `Text or null`, `list of Phase`.
fn type_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(alternatives) = schema.get("oneOf").or(schema.get("anyOf")).and_then(Value::as_array) {
        return alternatives.iter().map(type_name).collect::<Vec<_>>().join(" or ");
    }
    let base = match schema.get("type") {
        Some(Value::String(t)) if t == "array" => {
            format!("list of {}", schema.get("items").map(type_name).unwrap_or_else(|| "any".into()))
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
        _ => "any".into(),
    };
    match schema.get("format").and_then(Value::as_str) {
        Some(f) => format!("{base} ({f})"),
        None => base,
    }
}

fn fields(schema: &Value) -> Vec<FieldDoc> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, p)| FieldDoc {
            name: name.clone(),
            ty: type_name(p),
            required: required.contains(&name.as_str()),
            description: p.get("description").and_then(Value::as_str).unwrap_or("").replace('\n', " "),
        })
        .collect()
}

pub async fn standard_page(
    State(state): State<AppState>,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let ctx = Ctx::new(&lang, "/standard", raw.as_deref());
    let base = format!("{}/standard/v1", state.hub().config().issuer);
    let types = Kind::ALL
        .into_iter()
        .map(|k| {
            let schema = mitsprache_standard::json_schema(k, &base);
            TypeDoc {
                name: k.as_str(),
                plural: k.plural(),
                schema_url: format!("{base}/{}.schema.json", k.as_str()),
                fields: fields(&schema),
            }
        })
        .collect();
    let de = ctx.is_de();
    let mappings = mitsprache_hub::connectors::mappings()
        .into_iter()
        .map(|m| MappingView {
            tool: m.tool,
            api: m.api,
            fields: m.fields.to_vec(),
            unmapped: m.unmapped.join(", "),
            authors: if de { m.authors.0 } else { m.authors.1 },
        })
        .collect();
    Ok(render(&StandardPage { ctx, version: mitsprache_standard::VERSION, types, mappings }, &lang, StatusCode::OK))
}

#[derive(Template)]
#[template(path = "connect.html")]
pub struct ConnectPage {
    pub ctx: Ctx,
    pub issuer: String,
    pub discovery: String,
    pub scopes: Vec<&'static str>,
    pub omniauth: String,
    pub keycloak: String,
    pub endpoints: String,
    pub push: String,
}

pub async fn connect_page(
    State(state): State<AppState>,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let ctx = Ctx::new(&lang, "/werkzeug-anbinden", raw.as_deref());
    let issuer = state.hub().config().issuer.clone();
    let discovery = format!("{issuer}/.well-known/openid-configuration");
    let scopes = mitsprache_oidc::SCOPES.iter().chain(mitsprache_oidc::EXTRA_SCOPES.iter()).copied().collect();
    // The strategy options of omniauth_openid_connect as Decidim's and CONSUL's initializers pass them.
    let omniauth = format!(
        "config.omniauth :openid_connect, {{\n  name: :mitsprache,\n  issuer: \"{issuer}\",\n  discovery: true,\n  \
         scope: [:openid, :email, :profile],\n  response_type: :code,\n  pkce: true,\n  client_options: {{\n    \
         identifier: ENV[\"MITSPRACHE_CLIENT_ID\"],\n    secret: ENV[\"MITSPRACHE_CLIENT_SECRET\"],\n    \
         redirect_uri: \"https://TOOL/users/auth/mitsprache/callback\"\n  }}\n}}"
    );
    let keycloak = format!(
        "Discovery endpoint: {discovery}\nClient authentication: Client secret sent as basic auth\n\
         Use PKCE: on, PKCE method: S256\nDefault scopes: openid email profile\nBackchannel logout: on"
    );
    let endpoints = format!(
        "Authorize URL: {issuer}/oidc/authorize\nToken URL: {issuer}/oidc/token\nUser details URL: {issuer}/oidc/userinfo\n\
         Scopes: openid email profile\nIdentifier attribute: sub\nE-mail attribute: email\nDisplay name attribute: name"
    );
    let push = format!(
        "TOKEN=$(curl -s -u \"$CLIENT_ID:$CLIENT_SECRET\" -d grant_type=client_credentials \\\n  \
         {issuer}/oidc/token | jq -r .access_token)\n\
         curl -X PUT -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n  \
         {issuer}/api/v1/data/processes/radverkehr-2030 \\\n  \
         -d '{{\"title\": {{\"de\": \"Radverkehrskonzept 2030\"}}, \"status\": \"open\", \"updated_at\": \"2026-05-02T10:00:00Z\"}}'\n\
         curl -X POST -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/x-ndjson' \\\n  \
         {issuer}/api/v1/data/import --data-binary @export.ndjson"
    );
    let page = ConnectPage { ctx, issuer, discovery, scopes, omniauth, keycloak, endpoints, push };
    Ok(render(&page, &lang, StatusCode::OK))
}

pub struct ParamDoc {
    pub name: String,
    pub location: String,
    pub required: bool,
    pub description: String,
}

pub struct OpDoc {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub auth: bool,
    pub params: Vec<ParamDoc>,
    pub body: Option<String>,
    pub responses: Vec<(String, String)>,
}

pub struct TagDoc {
    pub name: String,
    pub description: String,
    pub ops: Vec<OpDoc>,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
pub struct ApiDocsPage {
    pub ctx: Ctx,
    pub tags: Vec<TagDoc>,
}

/// The operations of an OpenAPI document by tag, in the document's order.
fn tags(doc: &Value) -> Vec<TagDoc> {
    let mut tags: Vec<TagDoc> = doc
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| TagDoc {
            name: t.get("name").and_then(Value::as_str).unwrap_or("").to_owned(),
            description: t.get("description").and_then(Value::as_str).unwrap_or("").to_owned(),
            ops: Vec::new(),
        })
        .collect();
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    for (path, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        for method in ["get", "put", "post", "delete", "patch"] {
            let Some(op) = item.get(method) else { continue };
            let tag = op.pointer("/tags/0").and_then(Value::as_str).unwrap_or("other").to_owned();
            let params = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| ParamDoc {
                    name: str_of(p, "name"),
                    location: str_of(p, "in"),
                    required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    description: str_of(p, "description"),
                })
                .collect();
            let body = op.pointer("/requestBody/content").and_then(Value::as_object).and_then(|c| {
                let (media, content) = c.iter().next()?;
                let schema = content.get("schema").map(type_name).unwrap_or_default();
                Some(if schema.is_empty() { media.clone() } else { format!("{media}: {schema}") })
            });
            let responses = op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(code, r)| (code.clone(), str_of(r, "description")))
                .collect();
            let summary = [str_of(op, "summary"), str_of(op, "description")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let doc = OpDoc {
                anchor: format!("{method}-{}", path.replace(['/', '{', '}', '.'], "-")),
                method: method.to_uppercase(),
                path: path.clone(),
                summary,
                auth: op.get("security").is_some(),
                params,
                body,
                responses,
            };
            match tags.iter_mut().find(|t| t.name == tag) {
                Some(t) => t.ops.push(doc),
                None => tags.push(TagDoc { name: tag, description: String::new(), ops: vec![doc] }),
            }
        }
    }
    tags.retain(|t| !t.ops.is_empty());
    tags
}

pub async fn api_docs_page(lang: Lang, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let ctx = Ctx::new(&lang, "/api/docs", raw.as_deref());
    let doc = serde_json::to_value(crate::routes::openapi()).unwrap_or(Value::Null);
    Ok(render(&ApiDocsPage { ctx, tags: tags(&doc) }, &lang, StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_route_is_in_the_reference() {
        let doc = serde_json::to_value(crate::routes::openapi()).unwrap();
        let listed: usize = tags(&doc).iter().map(|t| t.ops.len()).sum();
        let operations: usize = doc["paths"].as_object().unwrap().values().map(|i| i.as_object().unwrap().len()).sum();
        assert_eq!(listed, operations);
        assert!(tags(&doc).iter().any(|t| t.name == "data"));
    }

    #[test]
    fn the_standard_page_lists_every_field_of_the_schema() {
        let schema = mitsprache_standard::json_schema(Kind::Contribution, "https://hub.example/standard/v1");
        let f = fields(&schema);
        assert_eq!(f.len(), schema["properties"].as_object().unwrap().len());
        let kind = f.iter().find(|f| f.name == "kind").unwrap();
        assert!(kind.required && kind.ty == "ContributionKind", "{}", kind.ty);
        assert_eq!(f.iter().find(|f| f.name == "created_at").unwrap().ty, "string (date-time)");
    }
}

#[derive(Template)]
#[template(path = "conformance.html")]
pub struct ConformancePage {
    pub ctx: Ctx,
    pub report: mitsprache_hub::conformance::ConformanceReport,
    pub last_sync: String,
    pub last_write: String,
}

/// The conformance report of a source, for its vendor and the operator.
pub async fn conformance_page(
    State(state): State<AppState>,
    lang: Lang,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let ctx = Ctx::new(&lang, &format!("/standard/quellen/{name}"), None);
    let report = state.hub().conformance(&name).await?;
    let time = |t: time::OffsetDateTime| {
        format!("{} {:02}:{:02} UTC", crate::pages::view::date(ctx.locale, t.date()), t.hour(), t.minute())
    };
    let last_sync = report.last_sync.as_ref().map(|s| time(s.at)).unwrap_or_default();
    let last_write = report.last_write.map(time).unwrap_or_default();
    Ok(render(&ConformancePage { ctx, report, last_sync, last_write }, &lang, StatusCode::OK))
}
