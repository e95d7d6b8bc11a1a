//! The citizens' view: `/beteiligung`, the participation processes of every connected tool in
//! one list, with filters that combine and stay in the URL, and paging; and a page per process
//! with its phases, its latest contributions and its events.

use crate::error::WebError;
use crate::render::{Ctx, Lang, render, render_form};
use crate::session::MaybeSignedIn;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use mitsprache_domain::Locale;
use mitsprache_hub::data::DataFilter;
use mitsprache_hub::participation::text_in as text_of;
use mitsprache_hub::participation::{PortalFacets, PortalList};
use mitsprache_standard::check_ags;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const PER_PAGE: u64 = 20;

/// A process in a list, in the page's language; borrowed from the kept list.
pub struct ProcessItem<'a> {
    /// The hub's id, for the process's own page.
    pub id: &'a str,
    pub title: &'a str,
    pub title_lang: &'a str,
    pub summary: &'a str,
    pub summary_lang: &'a str,
    pub status: &'a str,
    /// The tool's name.
    pub source: &'a str,
    pub municipality: &'a str,
    /// The last phase's end, as the page's language writes dates.
    pub ends: String,
    pub url: &'a str,
}

#[derive(Template)]
#[template(path = "portal.html")]
pub struct PortalPage<'a> {
    pub ctx: Ctx,
    pub items: Vec<ProcessItem<'a>>,
    pub total: u64,
    pub f: PortalFilters,
    /// (source, name) of every tool with data.
    pub tools: &'a [(String, String)],
    /// (key, name) of every municipality with processes; a regional hub names them.
    pub municipalities: &'a [(String, String)],
    /// (key, label) of the taxonomy's process types.
    pub process_types: Vec<(String, String)>,
    /// Whether the operator gave a postcode table.
    pub postcodes: bool,
    pub map_link: String,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub page: u64,
    pub pages: u64,
}

fn process_type_choices(state: &AppState, locale: Locale) -> Vec<(String, String)> {
    let catalogue = state.hub().catalogue();
    catalogue.taxonomy.process_types.iter().map(|t| (t.key.clone(), t.label.get(locale).to_owned())).collect()
}

/// The list's entries, each named by its tool.
fn process_items<'a>(list: &'a PortalList, facets: &'a PortalFacets, locale: Locale) -> Vec<ProcessItem<'a>> {
    list.processes
        .iter()
        .map(|p| {
            let (title, title_lang) = p.title.get(locale);
            let (summary, summary_lang) = p.summary.get(locale);
            ProcessItem {
                id: &p.id,
                title,
                title_lang,
                summary,
                summary_lang,
                status: &p.status,
                source: facets.source_name(&p.source),
                municipality: &p.municipality,
                ends: p.ends.map(|d| crate::pages::view::date(locale, d)).unwrap_or_default(),
                url: &p.url,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "map.html")]
pub struct MapPage<'a> {
    pub ctx: Ctx,
    pub items: Vec<ProcessItem<'a>>,
    pub total: u64,
    pub geojson: String,
    pub tiles: String,
    pub attribution: String,
    pub list_link: String,
}

/// `/beteiligung/karte`: the list's processes on a map, with the same filters. The map library
/// (Leaflet) and the script come from the hub; tiles only from a source the operator
/// configured, which the page's Content-Security-Policy then allows and nothing else. The
/// first 100 processes are listed beneath as the accessible alternative.
pub async fn map(State(state): State<AppState>, lang: Lang, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let pairs = crate::params::pairs(raw.as_deref());
    let portal = &state.hub().config().portal;
    let f = portal_filters(&pairs, portal, 100);
    let list = state.hub().portal_list(&f.filter).await?;
    let facets = state.hub().portal_facets().await?;
    let items = process_items(&list, &facets, lang.locale);
    let keep: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "page").cloned().collect();
    let page = MapPage {
        ctx: Ctx::new(&lang, "/beteiligung/karte", raw.as_deref()),
        items,
        total: list.total,
        geojson: format!("/api/v1/processes.geojson{}", f.api_query),
        tiles: portal.map_tiles.clone().unwrap_or_default(),
        attribution: portal.map_attribution.clone().unwrap_or_default(),
        list_link: crate::pages::view::url("/beteiligung", &keep),
    };
    let mut r = render(&page, &lang, StatusCode::OK);
    let img = match portal.tile_origin() {
        Some(origin) => format!("img-src 'self' data: {origin}"),
        None => "img-src 'self' data:".to_owned(),
    };
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; {img}; font-src 'self'; connect-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(r)
}

/// The portal's filters as the URL carries them (German names, shareable), read once for the
/// list, the map and the feed links.
pub struct PortalFilters {
    pub status: String,
    pub municipality: String,
    pub topic: String,
    pub process_type: String,
    pub tool: String,
    pub q: String,
    pub sort: String,
    /// "near me": a postcode, or coordinates `latitude,longitude`, and the radius in km.
    pub plz: String,
    pub near: String,
    pub radius: String,
    pub page: u64,
    /// A filter value the hub cannot use, named for the person.
    pub problem: Option<String>,
    pub filter: DataFilter,
    /// The same filters in the read API's names, for the feeds and the map's GeoJSON.
    pub api_query: String,
}

pub fn portal_filters(pairs: &[(String, String)], portal: &mitsprache_hub::Portal, per_page: u64) -> PortalFilters {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let (status, municipality, topic, tool, q) =
        (get("status"), get("municipality"), get("topic"), get("tool"), get("q"));
    let (process_type, plz, near, radius) = (get("typ"), get("plz"), get("near"), get("radius"));
    // Closing soonest first, unless the person asks for the latest change.
    let sort = if get("sort") == "aenderung" { "aenderung".to_owned() } else { "ende".to_owned() };
    let page: u64 = get("page").parse().unwrap_or(1).clamp(1, 10_000);
    let mut problem = None;
    let statuses = match status.as_str() {
        "" | "aktiv" => Some("open,upcoming".to_owned()),
        "open" | "upcoming" | "closed" => Some(status.clone()),
        "alle" => None,
        _ => {
            problem = Some("status");
            Some("open,upcoming".to_owned())
        }
    };
    let municipality_filter = match municipality.as_str() {
        "" => None,
        m if check_ags(m) => Some(m.to_owned()),
        _ => {
            problem = problem.or(Some("municipality"));
            None
        }
    };
    let radius_km = match radius.as_str() {
        "" => 10.0,
        r => crate::params::radius(r).unwrap_or_else(|| {
            problem = problem.or(Some("radius"));
            10.0
        }),
    };
    let point = if !near.is_empty() {
        // People type "50.94, 6.96"; the API takes it without the space.
        let p = crate::params::coordinates(&near.replace(' ', ""));
        if p.is_none() {
            problem = problem.or(Some("near"));
        }
        p
    } else if !plz.is_empty() {
        let p = portal.postcodes.get(&plz).copied();
        if p.is_none() {
            problem = problem.or(Some("plz"));
        }
        p
    } else {
        None
    };
    let near_filter = point.map(|(lat, lon)| mitsprache_hub::data::Near { lat, lon, radius_km });
    let filter = DataFilter {
        source: (!tool.is_empty()).then(|| tool.clone()),
        municipality: municipality_filter,
        status: statuses,
        topic: (!topic.is_empty()).then(|| topic.clone()),
        q: (!q.is_empty()).then(|| q.chars().take(200).collect()),
        process: None,
        modified_since: None,
        page,
        per_page,
        closing_first: sort == "ende",
        process_type: (!process_type.is_empty()).then(|| process_type.clone()),
        near: near_filter,
    };
    let mut api: Vec<(String, String)> = Vec::new();
    for (k, v) in [
        ("source", &filter.source),
        ("municipality", &filter.municipality),
        ("status", &filter.status),
        ("topic", &filter.topic),
        ("process_type", &filter.process_type),
        ("q", &filter.q),
    ] {
        if let Some(v) = v {
            api.push((k.into(), v.clone()));
        }
    }
    if let Some(n) = near_filter {
        api.push(("near".into(), format!("{},{}", n.lat, n.lon)));
        api.push(("radius".into(), n.radius_km.to_string()));
    }
    let api_query = crate::pages::view::url("", &api);
    PortalFilters {
        status,
        municipality,
        topic,
        process_type,
        tool,
        q,
        sort,
        plz,
        near,
        radius,
        page,
        problem: problem.map(str::to_owned),
        filter,
        api_query,
    }
}

pub async fn list(State(state): State<AppState>, lang: Lang, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let pairs = crate::params::pairs(raw.as_deref());
    let portal = &state.hub().config().portal;
    let f = portal_filters(&pairs, portal, PER_PAGE);
    let page = f.page;
    let list = state.hub().portal_list(&f.filter).await?;
    let facets = state.hub().portal_facets().await?;
    let items = process_items(&list, &facets, lang.locale);
    let total = list.total;
    let pages = total.div_ceil(PER_PAGE).max(1);
    let link = |p: u64| {
        let mut keep: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "page").cloned().collect();
        keep.push(("page".into(), p.to_string()));
        crate::pages::view::url("/beteiligung", &keep)
    };
    let ctx = Ctx::new(&lang, "/beteiligung", raw.as_deref());
    let page_view = PortalPage {
        ctx,
        items,
        total,
        tools: &facets.sources,
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        page,
        pages,
        municipalities: &facets.municipality_choices,
        process_types: process_type_choices(&state, lang.locale),
        postcodes: !portal.postcodes.is_empty(),
        map_link: crate::pages::view::url(
            "/beteiligung/karte",
            &pairs.iter().filter(|(k, _)| k != "page").cloned().collect::<Vec<_>>(),
        ),
        f,
    };
    Ok(render(&page_view, &lang, StatusCode::OK))
}

pub struct PhaseView {
    pub title: String,
    pub lang: String,
    pub dates: String,
}

pub struct EntryView {
    pub title: String,
    pub lang: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "process.html")]
pub struct ProcessPage {
    pub ctx: Ctx,
    pub csrf: String,
    /// The hub's id, for the follow form.
    pub id: String,
    /// Whether the signed-in person follows it; None when nobody is signed in.
    pub following: Option<bool>,
    pub title: String,
    pub title_lang: String,
    pub description: String,
    pub status: String,
    pub source: String,
    pub municipality: String,
    pub topics: String,
    pub url: String,
    pub phases: Vec<PhaseView>,
    pub contributions: u64,
    pub latest: Vec<EntryView>,
    pub events: Vec<EntryView>,
}

fn day(locale: Locale, v: Option<&Value>) -> String {
    v.and_then(Value::as_str)
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .map(|t| crate::pages::view::date(locale, t.date()))
        .unwrap_or_default()
}

/// `/beteiligung/{id}`: one process, what it is at, and what was said in it.
pub async fn process(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let hub = state.hub();
    let shown = hub.portal_process(&id).await?;
    let record = &shown.record;
    let account_id = current.as_ref().map(|c| c.account.id.as_str());
    let participate = hub.participate_link(record, account_id).await?.unwrap_or_default();
    let following = match account_id {
        Some(a) => Some(hub.is_following(a, &record.id).await?),
        None => None,
    };
    let doc: Value = record.doc.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
    let locale = lang.locale;
    let (title, title_lang) = text_of(doc.get("title"), locale);
    let (description, _) = text_of(doc.get("description"), locale);
    let phases = doc
        .get("phases")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let (title, lang) = text_of(p.get("title"), locale);
                    let (start, end) = (day(locale, p.get("start")), day(locale, p.get("end")));
                    let dates = match (start.is_empty(), end.is_empty()) {
                        (false, false) => format!("{start} – {end}"),
                        (false, true) => start,
                        (true, false) => end,
                        (true, true) => String::new(),
                    };
                    PhaseView { title, lang, dates }
                })
                .collect()
        })
        .unwrap_or_default();
    let entries = |records: &[mitsprache_hub::data::StoredRecord], time: &str| -> Vec<EntryView> {
        records
            .iter()
            .filter_map(|r| {
                let d: Value = serde_json::from_str(r.doc.as_deref()?).ok()?;
                let (mut title, mut lang) = text_of(d.get("title"), locale);
                if title.is_empty() {
                    (title, lang) = text_of(d.get("text"), locale);
                }
                let title = if title.chars().count() > 160 {
                    title.chars().take(160).collect::<String>() + "…"
                } else {
                    title
                };
                Some(EntryView { title, lang, when: day(locale, d.get(time)) })
            })
            .collect()
    };
    let (contributions, latest) = (shown.contributions.0, &shown.contributions.1);
    let events = &shown.events.1;
    let topics = doc
        .get("topics")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let ctx = Ctx::new(&lang, &format!("/beteiligung/{id}"), raw.as_deref());
    let source = hub.portal_facets().await?.source_name(&record.source).to_owned();
    let page = |csrf: String| ProcessPage {
        ctx,
        csrf,
        id: record.id.clone(),
        following,
        title,
        title_lang,
        description,
        status: doc.get("status").and_then(Value::as_str).unwrap_or_default().to_owned(),
        source,
        municipality: doc.get("municipality").and_then(Value::as_str).unwrap_or_default().to_owned(),
        topics,
        url: participate,
        phases,
        contributions,
        latest: entries(latest, "created_at"),
        events: entries(events, "start"),
    };
    if following.is_none() {
        return Ok(render(&page(String::new()), &lang, StatusCode::OK));
    }
    // Signed in: a follow button with this browser's CSRF token, and a page for this person only.
    let mut r = render_form(&state, &headers, &lang, StatusCode::OK, page);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(r)
}

pub struct Bar {
    pub month: String,
    pub count: i64,
    pub x: usize,
    pub y: i64,
    pub height: i64,
}

pub struct ToolRow {
    pub name: String,
    pub processes: i64,
    pub link: Option<String>,
}

#[derive(Template)]
#[template(path = "municipality.html")]
pub struct MunicipalityPage<'a> {
    pub ctx: Ctx,
    pub ags: String,
    pub items: Vec<ProcessItem<'a>>,
    pub total: u64,
    pub bars: Vec<Bar>,
    pub max: i64,
    pub width: usize,
    pub tools: Vec<ToolRow>,
}

/// Height of the chart's plot area in SVG units; bars are 24 wide with 6 between.
const CHART_HEIGHT: i64 = 160;

/// `/kommune/{ags}`: for administrations, every process of a municipality across tools,
/// contributions per month as a chart drawn on the server (SVG, with the numbers as a table
/// beside it), and the tools in use with their marketplace entries.
pub async fn municipality(
    State(state): State<AppState>,
    lang: Lang,
    Path(ags): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    if !check_ags(&ags) {
        return Err(WebError(mitsprache_hub::Error::NotFound));
    }
    let hub = state.hub();
    let filter = DataFilter {
        source: None,
        municipality: Some(ags.clone()),
        status: None,
        topic: None,
        q: None,
        process: None,
        modified_since: None,
        page: 1,
        per_page: 100,
        closing_first: true,
        process_type: None,
        near: None,
    };
    let list = hub.portal_list(&filter).await?;
    let activity = hub.municipality_activity(&ags).await?;
    let facets = hub.portal_facets().await?;
    let items = process_items(&list, &facets, lang.locale);
    let max = activity.months.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let bars = activity
        .months
        .iter()
        .enumerate()
        .map(|(i, (month, count))| {
            let height = if max == 0 { 0 } else { (count * CHART_HEIGHT).div_euclid(max).max(i64::from(*count > 0)) };
            Bar { month: month.clone(), count: *count, x: 40 + i * 30, y: 10 + CHART_HEIGHT - height, height }
        })
        .collect::<Vec<_>>();
    let width = 50 + bars.len() * 30;
    let tools = activity
        .tools
        .iter()
        .map(|t| ToolRow {
            name: t.name.clone(),
            processes: t.processes,
            link: t.catalogue_slug.map(|s| format!("/marktplatz/werkzeuge/{s}")),
        })
        .collect();
    let ctx = Ctx::new(&lang, &format!("/kommune/{ags}"), raw.as_deref());
    let page = MunicipalityPage { ctx, ags, items, total: list.total, bars, max, width, tools };
    Ok(render(&page, &lang, StatusCode::OK))
}
