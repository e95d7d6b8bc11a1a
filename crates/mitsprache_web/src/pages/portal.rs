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
use mitsprache_hub::data::{DataFilter, Kind};
use mitsprache_standard::check_ags;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const PER_PAGE: u64 = 20;

pub struct ProcessItem {
    /// The hub's id, for the process's own page.
    pub id: String,
    pub title: String,
    pub title_lang: String,
    pub summary: String,
    pub status: String,
    pub source: String,
    pub municipality: String,
    /// The last phase's end, as the page's language writes dates.
    pub ends: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
pub struct PortalPage {
    pub ctx: Ctx,
    pub items: Vec<ProcessItem>,
    pub total: u64,
    pub status: String,
    pub municipality: String,
    pub topic: String,
    pub tool: String,
    pub q: String,
    pub sort: String,
    /// (source, name) of every tool with data.
    pub tools: Vec<(String, String)>,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub page: u64,
    pub pages: u64,
    /// A filter value the hub cannot use, named for the person.
    pub problem: Option<String>,
}

/// A language map's text in the page's language, else German, else any; and its language.
fn text_of(v: Option<&Value>, locale: Locale) -> (String, String) {
    let Some(map) = v.and_then(Value::as_object) else { return (String::new(), String::new()) };
    for tag in [locale.tag(), "de", "en"] {
        if let Some(t) = map.get(tag).and_then(Value::as_str) {
            return (t.to_owned(), tag.to_owned());
        }
    }
    map.iter().find_map(|(k, t)| t.as_str().map(|t| (t.to_owned(), k.clone()))).unwrap_or_default()
}

pub async fn list(State(state): State<AppState>, lang: Lang, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let pairs = crate::params::pairs(raw.as_deref());
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let (status, municipality, topic, tool, q) =
        (get("status"), get("municipality"), get("topic"), get("tool"), get("q"));
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
    let filter = DataFilter {
        source: (!tool.is_empty()).then(|| tool.clone()),
        municipality: municipality_filter,
        status: statuses,
        topic: (!topic.is_empty()).then(|| topic.clone()),
        q: (!q.is_empty()).then(|| q.chars().take(200).collect()),
        process: None,
        modified_since: None,
        page,
        per_page: PER_PAGE,
        closing_first: sort == "ende",
    };
    let (total, records) = state.hub().data_list(Kind::Process, &filter).await?;
    let sources = state.hub().data_sources().await?;
    let label = |source: &str| {
        sources.iter().find(|(s, _)| s == source).map(|(_, name)| name.clone()).unwrap_or_else(|| source.to_owned())
    };
    let locale = lang.locale;
    let items = records
        .iter()
        .filter_map(|r| {
            let doc: Value = serde_json::from_str(r.doc.as_deref()?).ok()?;
            let (title, title_lang) = text_of(doc.get("title"), locale);
            let (summary, _) = text_of(doc.get("description"), locale);
            let ends = doc
                .get("phases")
                .and_then(Value::as_array)
                .and_then(|ps| {
                    ps.iter()
                        .filter_map(|p| p.get("end")?.as_str().and_then(|e| OffsetDateTime::parse(e, &Rfc3339).ok()))
                        .max()
                })
                .map(|t| crate::pages::view::date(locale, t.date()))
                .unwrap_or_default();
            Some(ProcessItem {
                id: r.id.clone(),
                title,
                title_lang,
                summary: summary.chars().take(300).collect(),
                status: doc.get("status").and_then(Value::as_str).unwrap_or_default().to_owned(),
                source: label(&r.source),
                municipality: doc.get("municipality").and_then(Value::as_str).unwrap_or_default().to_owned(),
                ends,
                url: doc.get("url").and_then(Value::as_str).unwrap_or_default().to_owned(),
            })
        })
        .collect();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let link = |p: u64| {
        let mut keep: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "page").cloned().collect();
        keep.push(("page".into(), p.to_string()));
        crate::pages::view::url("/beteiligung", &keep)
    };
    let tools = sources.clone();
    let ctx = Ctx::new(&lang, "/beteiligung", raw.as_deref());
    let page_view = PortalPage {
        ctx,
        items,
        total,
        status,
        municipality,
        topic,
        tool,
        q,
        sort,
        tools,
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        page,
        pages,
        problem: problem.map(str::to_owned),
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
    let record = hub.data_get(Kind::Process, &id).await?;
    let account_id = current.as_ref().map(|c| c.account.id.as_str());
    let participate = hub.participate_link(&record, account_id).await?.unwrap_or_default();
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
    let of_process = |per_page| DataFilter {
        source: Some(record.source.clone()),
        municipality: None,
        status: None,
        topic: None,
        q: None,
        process: Some(record.external_id.clone()),
        modified_since: None,
        page: 1,
        per_page,
        closing_first: false,
    };
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
    let (contributions, latest) = hub.data_list(Kind::Contribution, &of_process(5)).await?;
    let (_, events) = hub.data_list(Kind::Event, &of_process(20)).await?;
    let topics = doc
        .get("topics")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let ctx = Ctx::new(&lang, &format!("/beteiligung/{id}"), raw.as_deref());
    let source = hub
        .data_sources()
        .await?
        .into_iter()
        .find(|(s, _)| *s == record.source)
        .map(|(_, name)| name)
        .unwrap_or_else(|| record.source.clone());
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
        latest: entries(&latest, "created_at"),
        events: entries(&events, "start"),
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
pub struct MunicipalityPage {
    pub ctx: Ctx,
    pub ags: String,
    pub items: Vec<ProcessItem>,
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
    };
    let (total, records) = hub.data_list(Kind::Process, &filter).await?;
    let activity = hub.municipality_activity(&ags).await?;
    let locale = lang.locale;
    let label = |source: &str| {
        activity.tools.iter().find(|t| t.source == source).map(|t| t.name.clone()).unwrap_or_else(|| source.to_owned())
    };
    let items = records
        .iter()
        .filter_map(|r| {
            let doc: Value = serde_json::from_str(r.doc.as_deref()?).ok()?;
            let (title, title_lang) = text_of(doc.get("title"), locale);
            Some(ProcessItem {
                id: r.id.clone(),
                title,
                title_lang,
                summary: String::new(),
                status: doc.get("status").and_then(Value::as_str).unwrap_or_default().to_owned(),
                source: label(&r.source),
                municipality: ags.clone(),
                ends: doc
                    .get("phases")
                    .and_then(Value::as_array)
                    .and_then(|ps| ps.iter().filter_map(|p| p.get("end")).filter_map(Value::as_str).max())
                    .and_then(|e| OffsetDateTime::parse(e, &Rfc3339).ok())
                    .map(|t| crate::pages::view::date(locale, t.date()))
                    .unwrap_or_default(),
                url: String::new(),
            })
        })
        .collect();
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
    let page = MunicipalityPage { ctx, ags, items, total, bars, max, width, tools };
    Ok(render(&page, &lang, StatusCode::OK))
}
