//! Catalogue endpoints: tools, interfaces, the taxonomy, the whole-catalogue feed and
//! publiccode.yml per tool. Reads come from the in-memory snapshot; writes validate against the
//! rest of the catalogue, go to the store in one transaction and refresh the snapshot.

use super::{ApiJson, Editor};
use crate::error::{Problem, WebError};
use crate::params;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mitsprache_catalogue::{
    Catalogue, CatalogueDocument, CostBand, Direction, Facets, Interface, LocalizedText, SearchResult, Term, Tool,
    cost_band, publiccode,
};
use mitsprache_hub::Error;
use mitsprache_hub::catalogue::WriteOutcome;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// Query parameters of the tool list. List values may be repeated or comma-separated; an empty
/// value means "no filter", as an HTML form sends it.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; parsing is in `params::tool_query`.
pub struct ToolListParams {
    /// Full-text search; German word forms match ("Bürgerhaushalte" finds "Bürgerhaushalt").
    #[param(max_length = 200)]
    q: Option<String>,
    /// Function keys that must all be present, e.g. `participatory-budgeting,map-contributions`.
    /// A key that is not in the taxonomy is rejected (400), so a typo never reads as "no tools".
    #[param(pattern = r"^([a-z0-9-]+(,[a-z0-9-]+)*)?$")]
    functions: Option<String>,
    /// Any of `open-source`, `proprietary`, `unknown`.
    #[param(pattern = r"^((open-source|proprietary|unknown)(,(open-source|proprietary|unknown))*)?$")]
    licence: Option<String>,
    /// Hosting options that must all be offered: `saas`, `self-hosted`, `hosted-in-germany`.
    #[param(pattern = r"^((saas|self-hosted|hosted-in-germany)(,(saas|self-hosted|hosted-in-germany))*)?$")]
    hosting: Option<String>,
    /// Any of the cost bands `no-fee`, `low`, `medium`, `high`, `unknown`.
    #[param(pattern = r"^((no-fee|low|medium|high|unknown)(,(no-fee|low|medium|high|unknown))*)?$")]
    cost: Option<String>,
    /// Claimed accessibility at least `A`, `AA` or `AAA`.
    #[param(pattern = "^(A|AA|AAA)?$")]
    accessibility: Option<String>,
    /// Interface slugs that must all be implemented; an unknown slug is rejected (400).
    #[param(pattern = r"^([a-z0-9-]+(,[a-z0-9-]+)*)?$")]
    interfaces: Option<String>,
    /// Language tags that must all be offered.
    #[param(pattern = r"^([A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*(,[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*)*)?$")]
    languages: Option<String>,
    /// `relevance` (default), `name` or `functions`.
    #[param(pattern = "^(relevance|name|functions)?$")]
    sort: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 10000)]
    page: Option<u32>,
    /// Tools per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
}

// Borrows from the catalogue snapshot: the list is the hottest endpoint, and copying every
// string of every listed tool showed up in the benchmark.
/// A tool in a result list.
#[derive(Serialize, ToSchema)]
pub struct ToolSummary<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub vendor: &'a str,
    pub short_description: &'a LocalizedText,
    pub functions: &'a [String],
    /// SPDX expression, or `unknown`.
    pub licence: &'a str,
    pub cost_band: CostBand,
    pub interfaces: Vec<&'a str>,
    /// The full record.
    pub href: String,
}

impl<'a> ToolSummary<'a> {
    fn of(tool: &'a Tool) -> ToolSummary<'a> {
        ToolSummary {
            slug: tool.slug.as_str(),
            name: &tool.name,
            vendor: &tool.vendor.name,
            short_description: &tool.short_description,
            functions: &tool.functions.values,
            licence: tool.licence.as_option().map_or("unknown", |l| l.spdx.as_str()),
            cost_band: cost_band(tool),
            interfaces: tool.interfaces.iter().map(|i| i.interface.as_str()).collect(),
            href: format!("/api/v1/tools/{}", tool.slug),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ToolList<'a> {
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    pub pages: usize,
    pub items: Vec<ToolSummary<'a>>,
    /// Counts per filter value over the whole result (all pages).
    pub facets: Facets<'a>,
    /// When the search text matched nothing: the query with its words replaced by the nearest
    /// words of the catalogue that do match.
    pub suggestions: Vec<String>,
}

impl<'a> ToolList<'a> {
    fn of(result: SearchResult<'a>) -> ToolList<'a> {
        ToolList {
            total: result.total,
            page: result.page,
            per_page: result.per_page,
            pages: result.pages(),
            items: result.hits.iter().map(|h| ToolSummary::of(h.tool)).collect(),
            facets: result.facets,
            suggestions: result.suggestions,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Implementation {
    pub tool: String,
    pub name: String,
    pub direction: Direction,
}

#[derive(Serialize, ToSchema)]
pub struct InterfaceDetail {
    #[serde(flatten)]
    pub interface: Interface,
    /// Tools of the catalogue that implement this interface.
    pub implemented_by: Vec<Implementation>,
}

fn interface_detail(catalogue: &Catalogue, interface: &Interface) -> InterfaceDetail {
    InterfaceDetail {
        interface: interface.clone(),
        implemented_by: catalogue
            .implementers(interface.slug.as_str())
            .map(|(t, link)| Implementation {
                tool: t.slug.to_string(),
                name: t.name.clone(),
                direction: link.direction,
            })
            .collect(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct WriteResult {
    pub slug: String,
    /// Increases with every change; send it as `If-Match` to avoid overwriting someone else's edit.
    pub version: i64,
    /// `created`, `updated` or `unchanged`.
    pub outcome: String,
}

/// The responses of both PUT endpoints.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Documents the responses; handlers build them through `WebError` and `write_response`.
enum WriteResponses {
    /// Updated or unchanged
    #[response(status = 200)]
    Updated(WriteResult),
    /// Created
    #[response(status = 201)]
    Created(WriteResult),
    /// Malformed JSON or If-Match
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// Missing or wrong bearer token
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The token lacks the catalogue:write scope for this API, or its holder is no editor
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// The record changed since the given version
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// Body larger than 1 MiB
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// Not a JSON body
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
    /// The record breaks the format or catalogue rules
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

fn outcome_name(o: WriteOutcome) -> &'static str {
    match o {
        WriteOutcome::Created => "created",
        WriteOutcome::Updated => "updated",
        WriteOutcome::Unchanged => "unchanged",
    }
}

/// Search and filter the tools of the marketplace.
#[utoipa::path(get, path = "/api/v1/tools", tag = "catalogue", params(ToolListParams),
    responses(
        (status = 200, description = "A page of matching tools with facet counts", body = ToolList),
        (status = 400, description = "A parameter is unknown or has an invalid value", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_tools(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let catalogue = state.hub().catalogue();
    let query = params::tool_query(&params::pairs(raw.as_deref()), &catalogue, &[])?;
    // Serialised while the snapshot is borrowed; the response owns only the bytes.
    Ok(Json(ToolList::of(catalogue.search(&query))).into_response())
}

/// One tool with every fact group, its sources and as-of dates.
#[utoipa::path(get, path = "/api/v1/tools/{slug}", tag = "catalogue",
    params(("slug" = String, Path, description = "Slug of the tool, e.g. `decidim`")),
    responses(
        (status = 200, description = "The tool", body = Tool),
        (status = 404, description = "No such tool", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_tool(State(state): State<AppState>, Path(slug): Path<String>) -> Result<Json<Tool>, WebError> {
    state.hub().catalogue().tool(&slug).cloned().map(Json).ok_or(WebError(Error::NotFound))
}

/// The tool as publiccode.yml, for software directories such as Open CoDE.
#[utoipa::path(get, path = "/api/v1/tools/{slug}/publiccode.yml", tag = "catalogue",
    params(("slug" = String, Path, description = "Slug of the tool")),
    responses(
        (status = 200, description = "publiccode.yml that passes the standard's rules", content_type = "application/yaml"),
        (status = 404, description = "No such tool", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The record lacks facts the standard requires (e.g. a public repository)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_tool_publiccode(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let catalogue = state.hub().catalogue();
    let tool = catalogue.tool(&slug).ok_or(WebError(Error::NotFound))?;
    let yaml = publiccode::export(tool, &catalogue.taxonomy).map_err(|e| WebError(Error::Conflict(e.to_string())))?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/yaml; charset=utf-8"))], yaml).into_response())
}

/// Creates or replaces a tool (catalogue editors).
#[utoipa::path(put, path = "/api/v1/tools/{slug}", tag = "catalogue", request_body = Tool,
    params(
        ("slug" = String, Path, description = "Slug of the tool; must equal the body's slug"),
        ("If-Match" = Option<String>, Header, description = "Version the edit is based on; the write fails with 409 when the record changed since"),
    ),
    security(("access_token" = [])),
    responses(WriteResponses))]
pub async fn put_tool(
    State(state): State<AppState>,
    editor: Editor,
    Path(slug): Path<String>,
    headers: HeaderMap,
    ApiJson(tool): ApiJson<Tool>,
) -> Result<Response, WebError> {
    if tool.slug.as_str() != slug {
        return Err(
            Error::Unprocessable(format!("the body's slug `{}` differs from the path's `{slug}`", tool.slug)).into()
        );
    }
    let expected = if_match(&headers)?;
    let (outcome, version) = state.hub().put_tool(&tool, expected, &editor.actor).await?;
    Ok(write_response(slug, version, outcome))
}

/// Removes a tool (catalogue editors).
#[utoipa::path(delete, path = "/api/v1/tools/{slug}", tag = "catalogue",
    params(("slug" = String, Path, description = "Slug of the tool")),
    security(("access_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or wrong bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the catalogue:write scope for this API, or its holder is no editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tool", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_tool(
    State(state): State<AppState>,
    editor: Editor,
    Path(slug): Path<String>,
) -> Result<StatusCode, WebError> {
    state.hub().delete_tool(&slug, &editor.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// All interfaces with the tools that implement them.
#[utoipa::path(get, path = "/api/v1/interfaces", tag = "catalogue",
    responses((status = 200, description = "Every interface of the catalogue", body = Vec<InterfaceDetail>)))]
pub async fn list_interfaces(State(state): State<AppState>) -> Json<Vec<InterfaceDetail>> {
    let catalogue = state.hub().catalogue();
    Json(catalogue.interfaces().iter().map(|i| interface_detail(&catalogue, i)).collect())
}

/// One interface with the tools that implement it.
#[utoipa::path(get, path = "/api/v1/interfaces/{slug}", tag = "catalogue",
    params(("slug" = String, Path, description = "Slug of the interface, e.g. `open311-georeport-v2`")),
    responses(
        (status = 200, description = "The interface", body = InterfaceDetail),
        (status = 404, description = "No such interface", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_interface(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<InterfaceDetail>, WebError> {
    let catalogue = state.hub().catalogue();
    let interface = catalogue.interface(&slug).ok_or(WebError(Error::NotFound))?;
    Ok(Json(interface_detail(&catalogue, interface)))
}

/// Creates or replaces an interface (catalogue editors).
#[utoipa::path(put, path = "/api/v1/interfaces/{slug}", tag = "catalogue", request_body = Interface,
    params(
        ("slug" = String, Path, description = "Slug of the interface; must equal the body's slug"),
        ("If-Match" = Option<String>, Header, description = "Version the edit is based on"),
    ),
    security(("access_token" = [])),
    responses(WriteResponses))]
pub async fn put_interface(
    State(state): State<AppState>,
    editor: Editor,
    Path(slug): Path<String>,
    headers: HeaderMap,
    ApiJson(interface): ApiJson<Interface>,
) -> Result<Response, WebError> {
    if interface.slug.as_str() != slug {
        return Err(Error::Unprocessable(format!(
            "the body's slug `{}` differs from the path's `{slug}`",
            interface.slug
        ))
        .into());
    }
    let expected = if_match(&headers)?;
    let (outcome, version) = state.hub().put_interface(&interface, expected, &editor.actor).await?;
    Ok(write_response(slug, version, outcome))
}

/// Removes an interface that no tool implements any more (catalogue editors).
#[utoipa::path(delete, path = "/api/v1/interfaces/{slug}", tag = "catalogue",
    params(("slug" = String, Path, description = "Slug of the interface")),
    security(("access_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or wrong bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the catalogue:write scope for this API, or its holder is no editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such interface", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Tools still implement it", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_interface(
    State(state): State<AppState>,
    editor: Editor,
    Path(slug): Path<String>,
) -> Result<StatusCode, WebError> {
    state.hub().delete_interface(&slug, &editor.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The controlled vocabulary of functions, with German and English labels.
#[utoipa::path(get, path = "/api/v1/functions", tag = "catalogue",
    responses((status = 200, description = "Function taxonomy", body = Vec<Term>)))]
pub async fn list_functions(State(state): State<AppState>) -> Json<Vec<Term>> {
    Json(state.hub().catalogue().taxonomy.functions.clone())
}

/// The controlled vocabulary of process types.
#[utoipa::path(get, path = "/api/v1/process-types", tag = "catalogue",
    responses((status = 200, description = "Process-type taxonomy", body = Vec<Term>)))]
pub async fn list_process_types(State(state): State<AppState>) -> Json<Vec<Term>> {
    Json(state.hub().catalogue().taxonomy.process_types.clone())
}

/// The whole catalogue in the import format, for external marketplaces (Deutschland.Digital)
/// to take the category over. Supports `If-None-Match` with the returned `ETag`.
#[utoipa::path(get, path = "/api/v1/catalogue", tag = "catalogue",
    params(("If-None-Match" = Option<String>, Header, description = "ETag of a copy the client has")),
    responses(
        (status = 200, description = "Taxonomy, interfaces and tools", body = CatalogueDocument),
        (status = 304, description = "The client's copy is current"),
    ))]
pub async fn get_catalogue(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let catalogue = state.hub().catalogue();
    let etag = format!("\"catalogue-{}\"", catalogue.revision);
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"catalogue\""));
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response();
    }
    ([(header::ETAG, etag_value)], Json(catalogue.to_document())).into_response()
}

fn if_match(headers: &HeaderMap) -> Result<Option<i64>, Error> {
    match headers.get(header::IF_MATCH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or_else(|| Error::Invalid { field: "If-Match".into(), message: "must be a version number".into() }),
    }
}

fn write_response(slug: String, version: i64, outcome: WriteOutcome) -> Response {
    let status = if outcome == WriteOutcome::Created { StatusCode::CREATED } else { StatusCode::OK };
    let etag = HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""));
    (status, [(header::ETAG, etag)], Json(WriteResult { slug, version, outcome: outcome_name(outcome).to_owned() }))
        .into_response()
}
