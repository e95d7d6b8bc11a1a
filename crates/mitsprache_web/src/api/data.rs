//! The data API: tools push records of the data standard (`data:write`, their own records
//! only), anyone reads them, and the standard's JSON Schemas are served where `$id` says.

use crate::error::{Problem, WebError};
use crate::params;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mitsprache_catalogue::ValidationError;
use mitsprache_hub::Error;
use mitsprache_hub::data::{Applied, DataFilter, ImportReport, Kind, StoredRecord, record_json};
use mitsprache_standard::{Contribution, Event, Organisation, Paper, Process, ProcessResult};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Proof that the request carries a tool's access token with the `data:write` scope for the
/// hub's API; `source` is the tool's client id, the only source it may write.
pub struct DataWriter {
    pub source: String,
}

impl FromRequestParts<AppState> for DataWriter {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = mitsprache_oidc::params::bearer(authorization);
        Ok(DataWriter { source: state.hub().authorize_data_write(token).await? })
    }
}

/// A page of records.
#[derive(Serialize, ToSchema)]
pub struct DataList {
    /// All records matching the filters.
    pub total: u64,
    /// Records with the hub's `id`, their `source` and `external_id`, the standard's fields,
    /// `deleted`, `provenance`, `created` and `modified`. Under `modified_since` deleted records
    /// come as tombstones (`deleted: true`, identifiers only).
    pub items: Vec<Value>,
    pub links: Links,
}

#[derive(Serialize, ToSchema)]
pub struct Links {
    /// The next page, absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Writes one record of `kind` and answers it as stored: 201 when new, 200 otherwise.
async fn put(
    state: &AppState,
    writer: &DataWriter,
    kind: Kind,
    external_id: &str,
    body: Bytes,
) -> Result<Response, WebError> {
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| Error::Malformed(format!("the body is not JSON: {e}")))?;
    let (applied, stored) = state.hub().push(&writer.source, kind, external_id, value).await?;
    let status = if applied == Applied::Created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(record_json(&stored))).into_response())
}

/// The request's media type without parameters, or 415 unless `accepted` takes it.
fn media_type(headers: &HeaderMap, accepted: impl Fn(&str) -> bool) -> Result<(), WebError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if accepted(&essence) { Ok(()) } else { Err(WebError(Error::UnsupportedMediaType)) }
}

fn json_body(headers: &HeaderMap) -> Result<(), WebError> {
    media_type(headers, |m| m == "application/json" || m.ends_with("+json"))
}

/// The filtered page a list and its feeds show: the filter as read, the total, the records.
async fn select(
    state: &AppState,
    kind: Kind,
    pairs: &[(String, String)],
) -> Result<Option<(DataFilter, u64, Vec<StoredRecord>)>, WebError> {
    let mut filter = params::data_query(pairs, kind)?;
    if let Some(process) = filter.process.take() {
        // The hub's id of the process: its source and external id filter the list.
        let p = state.hub().data_get(Kind::Process, &process).await.map_err(|_| Error::Invalid {
            field: "process".into(),
            message: "is not the id of a process of this hub".into(),
        })?;
        if filter.source.as_ref().is_some_and(|s| *s != p.source) {
            return Ok(None);
        }
        filter.source = Some(p.source);
        filter.process = Some(p.external_id);
    }
    let (total, records) = state.hub().data_list(kind, &filter).await?;
    Ok(Some((filter, total, records)))
}

async fn list(state: &AppState, kind: Kind, path: &str, raw: Option<String>) -> Result<Json<DataList>, WebError> {
    let pairs = params::pairs(raw.as_deref());
    let Some((filter, total, records)) = select(state, kind, &pairs).await? else {
        return Ok(Json(DataList { total: 0, items: Vec::new(), links: Links { next: None } }));
    };
    let per_page = filter.per_page.clamp(1, 100);
    let shown = filter.page.saturating_sub(1) * per_page + records.len() as u64;
    let next = (shown < total).then(|| {
        let mut query: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "page").collect();
        query.push(("page".into(), (filter.page + 1).to_string()));
        format!("{}{path}?{}", state.hub().config().issuer, serde_urlencoded::to_string(&query).unwrap_or_default())
    });
    Ok(Json(DataList { total, items: records.iter().map(record_json).collect(), links: Links { next } }))
}

async fn get_one(state: &AppState, kind: Kind, id: &str) -> Result<Json<Value>, WebError> {
    Ok(Json(record_json(&state.hub().data_get(kind, id).await?)))
}

/// The handlers of one record type: push, delete, list, read. Generated so that every type is
/// documented in the OpenAPI document with its own schema and paths.
macro_rules! collection {
    ($kind:expr, $ty:ty, $tag_name:literal, $put:ident, $delete:ident, $list:ident, $get:ident,
     $write_path:literal, $read_path:literal, $item_path:literal) => {
        #[doc = concat!("Creates or replaces a ", $tag_name, " of the calling tool (scope data:write). The same request twice leaves the same state.")]
        #[utoipa::path(put, path = $write_path, tag = "data", request_body = $ty,
            params(("external_id" = String, Path, description = "The record's id in the tool")),
            security(("access_token" = [])),
            responses(
                (status = 200, description = "Replaced or unchanged; the record as stored", body = Object),
                (status = 201, description = "Created; the record as stored", body = Object),
                (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "Missing or invalid bearer token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token lacks data:write, or is not a tool's client_credentials token", body = Problem, content_type = "application/problem+json"),
                (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "The record breaks the standard; `errors` names each field", body = Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $put(
            State(state): State<AppState>,
            writer: DataWriter,
            Path(external_id): Path<String>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, WebError> {
            json_body(&headers)?;
            put(&state, &writer, $kind, &external_id, body).await
        }

        #[doc = concat!("Deletes a ", $tag_name, " of the calling tool, keeping a tombstone for syncing clients.")]
        #[utoipa::path(delete, path = $write_path, tag = "data",
            params(("external_id" = String, Path, description = "The record's id in the tool")),
            security(("access_token" = [])),
            responses(
                (status = 204, description = "Deleted (or deleted already)"),
                (status = 401, description = "Missing or invalid bearer token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token lacks data:write", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "The tool never sent this record", body = Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $delete(
            State(state): State<AppState>,
            writer: DataWriter,
            Path(external_id): Path<String>,
        ) -> Result<StatusCode, WebError> {
            state.hub().push_delete(&writer.source, $kind, &external_id).await?;
            Ok(StatusCode::NO_CONTENT)
        }

        #[doc = concat!("Lists ", $tag_name, " records of every source, newest change first; with `modified_since`, oldest first and with tombstones (OParl's sync contract).")]
        #[utoipa::path(get, path = $read_path, tag = "data",
            params(
                ("source" = Option<String>, Query, description = "Only this source (a tool's client id or a connector's name)"),
                ("municipality" = Option<String>, Query, description = "Amtlicher Gemeindeschlüssel, 8 digits (processes and organisations)", pattern = "^([0-9]{8})?$"),
                ("status" = Option<String>, Query, description = "upcoming, open or closed (processes)", pattern = "^(upcoming|open|closed)?$"),
                ("topic" = Option<String>, Query, description = "A topic (processes)"),
                ("process_type" = Option<String>, Query, description = "A process type of the taxonomy, e.g. consultation (processes)", max_length = 100),
                ("near" = Option<String>, Query, description = "latitude,longitude (WGS 84): records whose geometry or location lies within `radius` of it (processes, contributions)", pattern = r"^-?[0-9]{1,2}(\.[0-9]+)?,-?[0-9]{1,3}(\.[0-9]+)?$"),
                ("radius" = Option<f64>, Query, description = "Kilometres around `near` (default 10)", minimum = 0.1, maximum = 200),
                ("q" = Option<String>, Query, description = "Words that must all occur in the record's texts; in a list of processes without `modified_since`, each as the beginning of one of their words (`rad` finds Radverkehr)", max_length = 200),
                ("process" = Option<String>, Query, description = "The hub's id of a process (contributions, events, results)"),
                ("modified_since" = Option<String>, Query, description = "RFC 3339: records changed at or after this time, tombstones included", format = DateTime),
                ("page" = Option<u32>, Query, description = "Page, from 1", minimum = 1, maximum = 10000),
                ("per_page" = Option<u32>, Query, description = "Records per page, 1 to 100 (default 20)", minimum = 1, maximum = 100),
            ),
            responses(
                (status = 200, description = "A page of records", body = DataList),
                (status = 400, description = "An unknown or invalid filter", body = Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $list(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<DataList>, WebError> {
            list(&state, $kind, $read_path, raw).await
        }

        #[doc = concat!("One ", $tag_name, " by the hub's id.")]
        #[utoipa::path(get, path = $item_path, tag = "data",
            params(("id" = String, Path, description = "The hub's id of the record")),
            responses(
                (status = 200, description = "The record", body = Object),
                (status = 404, description = "No such record, or deleted", body = Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $get(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, WebError> {
            get_one(&state, $kind, &id).await
        }
    };
}

collection!(
    Kind::Process,
    Process,
    "process",
    put_process,
    delete_process,
    list_processes,
    get_process,
    "/api/v1/data/processes/{external_id}",
    "/api/v1/processes",
    "/api/v1/processes/{id}"
);
collection!(
    Kind::Contribution,
    Contribution,
    "contribution",
    put_contribution,
    delete_contribution,
    list_contributions,
    get_contribution,
    "/api/v1/data/contributions/{external_id}",
    "/api/v1/contributions",
    "/api/v1/contributions/{id}"
);
collection!(
    Kind::Event,
    Event,
    "event",
    put_event,
    delete_event,
    list_events,
    get_event,
    "/api/v1/data/events/{external_id}",
    "/api/v1/events",
    "/api/v1/events/{id}"
);
collection!(
    Kind::Result,
    ProcessResult,
    "result",
    put_result,
    delete_result,
    list_results,
    get_result,
    "/api/v1/data/results/{external_id}",
    "/api/v1/results",
    "/api/v1/results/{id}"
);
collection!(
    Kind::Organisation,
    Organisation,
    "organisation",
    put_organisation,
    delete_organisation,
    list_organisations,
    get_organisation,
    "/api/v1/data/organisations/{external_id}",
    "/api/v1/organisations",
    "/api/v1/organisations/{id}"
);
collection!(
    Kind::Paper,
    Paper,
    "council paper",
    put_paper,
    delete_paper,
    list_papers,
    get_paper,
    "/api/v1/data/papers/{external_id}",
    "/api/v1/papers",
    "/api/v1/papers/{id}"
);

/// Bulk import: one record per line (`application/x-ndjson`), `{"type": "process", "id":
/// "<external id>", …fields}`, or `{"type": …, "id": …, "deleted": true}`. Valid lines are kept
/// (in transactions of 1,000 lines); each rejected line is reported with its number. 422 when no
/// line could be kept.
#[utoipa::path(post, path = "/api/v1/data/import", tag = "data",
    request_body(content = String, content_type = "application/x-ndjson", description = "One JSON object per line"),
    security(("access_token" = [])),
    responses(
        (status = 200, description = "What was kept and what was rejected, by line", body = ImportReport),
        (status = 422, description = "Every line was rejected, nothing was kept; `errors` names each line (`record`: `line 3`) and field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks data:write", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 64 MiB: split it", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/x-ndjson", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import(
    State(state): State<AppState>,
    writer: DataWriter,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    media_type(&headers, |m| m == "application/x-ndjson" || m == "application/jsonl")?;
    let text = std::str::from_utf8(&body).map_err(|_| Error::Malformed("the body is not UTF-8".into()))?;
    let report = state.hub().import(&writer.source, text).await?;
    if report.lines > 0 && report.rejected.len() == report.lines {
        let errors = report
            .rejected
            .into_iter()
            .flat_map(|l| {
                l.errors.into_iter().map(move |e| ValidationError {
                    record: format!("line {}", l.line),
                    field: e.field,
                    message: e.message,
                })
            })
            .collect();
        return Err(WebError(Error::Validation(errors)));
    }
    Ok(Json(report).into_response())
}

/// A Go Vocal webhook for the source `name` (Go Vocal's `Webhooks::DeliveryJob`): the body is
/// signed with the source's `webhook_secret` in `X-GoVocal-Signature` (`sha256=<base64 of
/// HMAC-SHA256>`). A valid delivery brings the source's next sync forward to now; the body is
/// not trusted beyond its signature, the sync reads the API.
#[utoipa::path(post, path = "/api/v1/webhooks/govocal/{name}", tag = "data",
    params(("name" = String, Path, description = "The source's name (`mitsprache source list`)"),
        ("X-GoVocal-Signature" = String, Header, description = "`sha256=` and the Base64 HMAC-SHA256 of the body")),
    request_body(content = Value, content_type = "application/json", description = "Go Vocal's webhook payload"),
    responses(
        (status = 202, description = "Signature valid; the source syncs soon"),
        (status = 401, description = "Missing or wrong signature", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No Go Vocal source of that name", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn govocal_webhook(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let signature = headers.get("x-govocal-signature").and_then(|v| v.to_str().ok());
    state.hub().source_webhook(&name, signature, &body).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// The conformance report of a source (a pulled source's name, or a pushing tool's client id):
/// the fields its records fill, what was refused in the last 30 days by reason with the latest
/// examples, and when it last synced or wrote.
#[utoipa::path(get, path = "/api/v1/conformance/{name}", tag = "data",
    params(("name" = String, Path, description = "The source: `mitsprache source list` name or the pushing client's id")),
    responses(
        (status = 200, description = "The report", body = mitsprache_hub::conformance::ConformanceReport),
        (status = 404, description = "The hub has nothing of this source", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn conformance(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<mitsprache_hub::conformance::ConformanceReport>, WebError> {
    Ok(Json(state.hub().conformance(&name).await?))
}

/// The standard's JSON Schema of one record type, at the URL its `$id` names.
pub fn schema(state: &AppState, kind: Kind) -> Response {
    let base = format!("{}/standard/v1", state.hub().config().issuer);
    let body = mitsprache_standard::json_schema(kind, &base);
    ([(header::CONTENT_TYPE, "application/schema+json")], Json(body)).into_response()
}

/// A feed format of the lists.
#[derive(Clone, Copy)]
enum Feed {
    GeoJson,
    Atom,
    Ical,
}

/// A filtered list (the same filters as the JSON list) as GeoJSON, Atom or iCalendar.
async fn feed(
    state: &AppState,
    kind: Kind,
    path: &str,
    format: Feed,
    raw: Option<String>,
) -> Result<Response, WebError> {
    let pairs = params::pairs(raw.as_deref());
    let lang = match pairs.iter().find(|(k, _)| k == "lang").map(|(_, v)| v.as_str()) {
        None | Some("de") => "de",
        Some("en") => "en",
        Some(_) => return Err(WebError(Error::Invalid { field: "lang".into(), message: "must be de or en".into() })),
    };
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "lang").collect();
    let records = select(state, kind, &pairs).await?.map(|(_, _, r)| r).unwrap_or_default();
    let issuer = &state.hub().config().issuer;
    let parsed: Vec<(StoredRecord, Value, mitsprache_standard::Record)> = records
        .into_iter()
        .filter(|r| !r.deleted)
        .filter_map(|r| {
            let doc: Value = serde_json::from_str(r.doc.as_deref()?).ok()?;
            let record = mitsprache_standard::Record::parse(kind, doc).ok()?;
            let json = record_json(&r);
            Some((r, json, record))
        })
        .collect();
    let items: Vec<mitsprache_standard::FeedItem> = parsed
        .iter()
        .map(|(r, json, record)| mitsprache_standard::FeedItem {
            id: &r.id,
            href: format!("{issuer}/api/v1/{}/{}", kind.plural(), r.id),
            modified: r.modified,
            record,
            json,
        })
        .collect();
    let title = match (lang, kind) {
        ("de", Kind::Process) => "Beteiligungsverfahren",
        ("de", Kind::Contribution) => "Beiträge",
        ("de", Kind::Event) => "Termine",
        ("de", Kind::Result) => "Ergebnisse",
        ("de", Kind::Organisation) => "Organisationen",
        ("de", Kind::Paper) => "Ratsvorlagen",
        (_, Kind::Process) => "Participation processes",
        (_, Kind::Contribution) => "Contributions",
        (_, Kind::Event) => "Events",
        (_, Kind::Result) => "Results",
        (_, Kind::Organisation) => "Organisations",
        (_, Kind::Paper) => "Council papers",
    };
    let query = raw.map(|q| format!("?{q}")).unwrap_or_default();
    let self_url = format!("{issuer}{path}{query}");
    let (content_type, body) = match format {
        Feed::GeoJson => ("application/geo+json", mitsprache_standard::geojson(&items).to_string()),
        Feed::Atom => {
            ("application/atom+xml", mitsprache_standard::atom(&self_url, title, lang, &items, state.hub().now()))
        }
        Feed::Ical => {
            let host = url::Url::parse(issuer).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
            ("text/calendar; charset=utf-8", mitsprache_standard::icalendar(&host, title, lang, &items))
        }
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

macro_rules! feed {
    ($name:ident, $kind:expr, $path:literal, $format:expr, $media:literal, $body:ident, $what:literal) => {
        #[doc = concat!($what, " Takes the filters of the list, and `lang` (de, en) for texts.")]
        #[utoipa::path(get, path = $path, tag = "data",
            params(
                ("source" = Option<String>, Query, description = "Only this source"),
                ("q" = Option<String>, Query, description = "Words that must all occur in the record's texts; in a list of processes without `modified_since`, each as the beginning of one of their words (`rad` finds Radverkehr)", max_length = 200),
                ("modified_since" = Option<String>, Query, description = "RFC 3339: records changed at or after this time", format = DateTime),
                ("page" = Option<u32>, Query, description = "Page, from 1", minimum = 1, maximum = 10000),
                ("per_page" = Option<u32>, Query, description = "Records per page, 1 to 100 (default 20)", minimum = 1, maximum = 100),
                ("lang" = Option<String>, Query, description = "Language of the texts: de (default) or en", pattern = "^(de|en)?$"),
            ),
            responses(
                (status = 200, description = "The feed", body = $body, content_type = $media),
                (status = 400, description = "An unknown or invalid filter", body = Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $name(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
            let path = $path;
            feed(&state, $kind, path, $format, raw).await
        }
    };
}

feed!(
    processes_geojson,
    Kind::Process,
    "/api/v1/processes.geojson",
    Feed::GeoJson,
    "application/geo+json",
    Object,
    "Processes as a GeoJSON FeatureCollection (their geometry, or null)."
);
feed!(
    processes_atom,
    Kind::Process,
    "/api/v1/processes.atom",
    Feed::Atom,
    "application/atom+xml",
    String,
    "Processes as an Atom feed."
);
feed!(
    processes_ics,
    Kind::Process,
    "/api/v1/processes.ics",
    Feed::Ical,
    "text/calendar",
    String,
    "The ends of process phases as an iCalendar of deadlines."
);
feed!(
    contributions_geojson,
    Kind::Contribution,
    "/api/v1/contributions.geojson",
    Feed::GeoJson,
    "application/geo+json",
    Object,
    "Contributions as a GeoJSON FeatureCollection (their location, or null)."
);
feed!(
    contributions_atom,
    Kind::Contribution,
    "/api/v1/contributions.atom",
    Feed::Atom,
    "application/atom+xml",
    String,
    "Contributions as an Atom feed."
);
feed!(
    events_geojson,
    Kind::Event,
    "/api/v1/events.geojson",
    Feed::GeoJson,
    "application/geo+json",
    Object,
    "Events as a GeoJSON FeatureCollection (their place, or null)."
);
feed!(
    events_atom,
    Kind::Event,
    "/api/v1/events.atom",
    Feed::Atom,
    "application/atom+xml",
    String,
    "Events as an Atom feed."
);
feed!(events_ics, Kind::Event, "/api/v1/events.ics", Feed::Ical, "text/calendar", String, "Events as an iCalendar.");
feed!(
    results_atom,
    Kind::Result,
    "/api/v1/results.atom",
    Feed::Atom,
    "application/atom+xml",
    String,
    "Results (decisions, budgets, implementation) as an Atom feed."
);
feed!(
    papers_atom,
    Kind::Paper,
    "/api/v1/papers.atom",
    Feed::Atom,
    "application/atom+xml",
    String,
    "Council papers as an Atom feed."
);
feed!(
    results_geojson,
    Kind::Result,
    "/api/v1/results.geojson",
    Feed::GeoJson,
    "application/geo+json",
    Object,
    "Results as a GeoJSON FeatureCollection (results have no place: every geometry is null)."
);
feed!(
    organisations_geojson,
    Kind::Organisation,
    "/api/v1/organisations.geojson",
    Feed::GeoJson,
    "application/geo+json",
    Object,
    "Organisations as a GeoJSON FeatureCollection (every geometry is null)."
);
feed!(
    organisations_atom,
    Kind::Organisation,
    "/api/v1/organisations.atom",
    Feed::Atom,
    "application/atom+xml",
    String,
    "Organisations as an Atom feed."
);
feed!(
    papers_geojson,
    Kind::Paper,
    "/api/v1/papers.geojson",
    Feed::GeoJson,
    "application/geo+json",
    Object,
    "Council papers as a GeoJSON FeatureCollection (every geometry is null)."
);
