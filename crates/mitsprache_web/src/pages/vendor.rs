//! Vendors and editors keep the catalogue: the vendor's page and its proposal form, the
//! editors' to-do list, queue and vendor links, a tool's history, and "beim Anbieter anfragen".

use super::groups::{self, Change, Input};
use super::view;
use crate::error::WebError;
use crate::render::{Ctx, Lang, render, render_form};
use crate::session::{CsrfForm, MaybeSignedIn, SignedIn};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_catalogue::groups::FactGroup;
use mitsprache_catalogue::report::{Fact, Report};
use mitsprache_domain::Locale;
use mitsprache_hub::vendors::{EnquiryRoute, HistoryEntry, Proposal, ProposalState};
use mitsprache_hub::{Current, Error, Forbidden};
use mitsprache_i18n::Messages;
use serde::Deserialize;
use serde_json::Value;

fn group_label(t: &Messages, g: FactGroup) -> String {
    t.get(&format!("group.{}", g.key())).to_owned()
}

fn state_label(t: &Messages, s: ProposalState) -> String {
    t.get(&format!("proposal.{}", s.as_str())).to_owned()
}

fn when(locale: Locale, at: time::OffsetDateTime) -> String {
    view::date(locale, at.date())
}

fn group_of(key: &str) -> Result<FactGroup, WebError> {
    FactGroup::from_key(key).ok_or(WebError(Error::NotFound))
}

fn editor(current: &Current) -> Result<(), WebError> {
    if current.account.role.can_edit_catalogue() {
        Ok(())
    } else {
        Err(WebError(Error::Forbidden(Forbidden::NotEditor)))
    }
}

// ---------------------------------------------------------------- the vendor's page

pub struct VendorTool {
    pub slug: String,
    pub name: String,
    pub groups: Vec<(String, String, bool)>, // (key, label, known)
}

pub struct ProposalRow {
    pub tool: String,
    pub group: String,
    pub state: String,
    pub created: String,
    pub reason: Option<String>,
}

#[derive(Template)]
#[template(path = "vendor_home.html")]
struct VendorHome {
    ctx: Ctx,
    tools: Vec<VendorTool>,
    proposals: Vec<ProposalRow>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    hinweis: String,
}

fn proposal_row(state: &AppState, t: &Messages, p: &Proposal) -> ProposalRow {
    let catalogue = state.hub().catalogue();
    ProposalRow {
        tool: catalogue.tool(&p.tool_slug).map_or(p.tool_slug.clone(), |x| x.name.clone()),
        group: FactGroup::from_key(&p.field).map_or(p.field.clone(), |g| group_label(t, g)),
        state: state_label(t, p.state),
        created: when(t.locale(), p.created_at),
        reason: p.reason.clone(),
    }
}

pub async fn vendor_home(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(current): SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let ctx = Ctx::new(&lang, "/anbieter", None);
    let t = ctx.t;
    let catalogue = state.hub().catalogue();
    let tools = state
        .hub()
        .vendor_tools(&current)
        .await?
        .into_iter()
        .filter_map(|l| catalogue.tool(&l.tool_slug).cloned())
        .map(|tool| VendorTool {
            slug: tool.slug.to_string(),
            name: tool.name.clone(),
            groups: FactGroup::ALL
                .iter()
                .map(|g| {
                    let v = g.value(&tool);
                    (g.key().to_owned(), group_label(t, *g), !(v.is_null() || v == "unknown"))
                })
                .collect(),
        })
        .collect();
    let proposals = state.hub().my_proposals(&current).await?.iter().map(|p| proposal_row(&state, t, p)).collect();
    let notice = (q.hinweis == "vorgeschlagen").then(|| t.get("vendor.proposed").to_owned());
    Ok(render(&VendorHome { ctx, tools, proposals, notice }, &lang, StatusCode::OK))
}

// ---------------------------------------------------------------- the proposal form

#[derive(Template)]
#[template(path = "proposal_form.html")]
struct ProposalForm {
    ctx: Ctx,
    csrf: String,
    slug: String,
    tool: String,
    group: String,
    group_label: String,
    inputs: Vec<Input>,
    source: String,
    note: String,
    error: Option<String>,
    /// Editors publish at once; vendors propose.
    direct: bool,
}

#[derive(Deserialize)]
pub struct GroupQuery {
    feld: String,
}

/// Who may change a tool's group through the form: its vendor (a proposal) or an editor (a
/// change published at once).
async fn may_change(state: &AppState, current: &Current, slug: &str) -> Result<bool, WebError> {
    if state.hub().speaks_for(current, slug).await? {
        return Ok(false);
    }
    editor(current)?;
    Ok(true)
}

pub async fn proposal_page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    SignedIn(current): SignedIn,
    Path(slug): Path<String>,
    Query(q): Query<GroupQuery>,
) -> Result<Response, WebError> {
    let group = group_of(&q.feld)?;
    let direct = may_change(&state, &current, &slug).await?;
    let catalogue = state.hub().catalogue();
    let tool = catalogue.tool(&slug).ok_or(WebError(Error::NotFound))?;
    let ctx = Ctx::new(&lang, &format!("/anbieter/werkzeuge/{slug}/vorschlag"), None);
    let inputs = groups::inputs(group, &group.value(tool), &catalogue, ctx.t);
    let page = |csrf| ProposalForm {
        group_label: group_label(ctx.t, group),
        ctx: Ctx::new(&lang, &format!("/anbieter/werkzeuge/{slug}/vorschlag"), None),
        csrf,
        slug: slug.clone(),
        tool: tool.name.clone(),
        group: group.key().to_owned(),
        inputs,
        source: String::new(),
        note: String::new(),
        error: None,
        direct,
    };
    Ok(render_form(&state, &headers, &lang, StatusCode::OK, page))
}

pub async fn proposal_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    SignedIn(current): SignedIn,
    Path(slug): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |k: &str| pairs.iter().rev().find(|(n, _)| n == k).map_or("", |(_, v)| v.trim()).to_owned();
    let group = group_of(&get("feld"))?;
    let direct = may_change(&state, &current, &slug).await?;
    let catalogue = state.hub().catalogue();
    let tool = catalogue.tool(&slug).ok_or(WebError(Error::NotFound))?.clone();
    let source = get("source");
    let note = get("note");
    let outcome = match groups::value(group, &pairs, &group.value(&tool)) {
        Ok(value) if direct => {
            state
                .hub()
                .edit_group(&current, &slug, group, value, Some(&source).filter(|s| !s.is_empty()).map(|s| s.as_str()))
                .await
        }
        Ok(value) => state.hub().propose(&current, &slug, group, value, Some(source.as_str()), &note).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) if direct => Ok(Redirect::to(&format!("/marktplatz/werkzeuge/{slug}")).into_response()),
        Ok(()) => Ok(Redirect::to("/anbieter?hinweis=vorgeschlagen").into_response()),
        Err(e @ (Error::Invalid { .. } | Error::Validation(_) | Error::Unprocessable(_) | Error::Conflict(_))) => {
            // The form again, with what was entered and what is wrong, in the page language.
            let t = mitsprache_i18n::messages(lang.locale);
            let error = Some(match &e {
                Error::Invalid { field, .. } => {
                    t.fmt("error.invalid-field", &[("field", &t.get(&format!("form.{field}")))])
                }
                Error::Validation(errors) => t.fmt(
                    "error.invalid-fields",
                    &[("fields", &errors.iter().map(|x| x.field.clone()).collect::<Vec<_>>().join(", "))],
                ),
                Error::Conflict(_) => t.get("vendor.too-many").to_owned(),
                _ => t.get("vendor.format").to_owned(),
            });
            let mut current_value = group.value(&tool);
            if let Ok(v) = groups::value(group, &pairs, &current_value) {
                current_value = v;
            }
            let ctx = Ctx::new(&lang, &format!("/anbieter/werkzeuge/{slug}/vorschlag"), None);
            let inputs = groups::inputs(group, &current_value, &catalogue, ctx.t);
            let page = |csrf| ProposalForm {
                group_label: group_label(ctx.t, group),
                ctx,
                csrf,
                slug: slug.clone(),
                tool: tool.name.clone(),
                group: group.key().to_owned(),
                inputs,
                source,
                note,
                error,
                direct,
            };
            Ok(render_form(&state, &headers, &lang, StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- the editors' pages

pub struct ShareRow {
    pub label: String,
    pub known: usize,
    pub tools: usize,
    pub percent: usize,
}

pub struct TodoRow {
    pub slug: String,
    pub name: String,
    /// (group key, label) of each unknown fact.
    pub unknown: Vec<(String, String)>,
}

pub struct LinkRow {
    pub account_id: String,
    pub email: String,
    pub tool_slug: String,
    pub tool: String,
    pub evidence: String,
    pub since: String,
}

#[derive(Template)]
#[template(path = "editor_home.html")]
struct EditorHome {
    ctx: Ctx,
    csrf: String,
    shares: Vec<ShareRow>,
    todo: Vec<TodoRow>,
    open: usize,
    links: Vec<LinkRow>,
    tools: Vec<(String, String)>,
    error: Option<String>,
}

fn fact_label(t: &Messages, f: Fact) -> String {
    t.get(&format!("fact.{}", f.key())).to_owned()
}

async fn editor_home_page(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    current: &Current,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    editor(current)?;
    let t = mitsprache_i18n::messages(lang.locale);
    let report: Report = state.hub().catalogue_report();
    let catalogue = state.hub().catalogue();
    let shares = report
        .shares
        .iter()
        .map(|s| ShareRow { label: fact_label(t, s.fact), known: s.known, tools: s.tools, percent: s.percent() })
        .collect();
    let todo = report
        .gaps
        .iter()
        .filter(|g| !g.unknown.is_empty())
        .map(|g| TodoRow {
            slug: g.slug.clone(),
            name: g.name.clone(),
            unknown: g.unknown.iter().map(|f| (f.group().to_owned(), fact_label(t, *f))).collect(),
        })
        .collect();
    let open = state.hub().open_proposals(current).await?.len();
    let links = state
        .hub()
        .vendor_links(current)
        .await?
        .into_iter()
        .map(|(l, a)| LinkRow {
            tool: catalogue.tool(&l.tool_slug).map_or(l.tool_slug.clone(), |x| x.name.clone()),
            email: a.email.as_str().to_owned(),
            since: when(lang.locale, l.created_at),
            account_id: l.account_id,
            tool_slug: l.tool_slug,
            evidence: l.evidence,
        })
        .collect();
    let tools = catalogue.tools().iter().map(|x| (x.slug.to_string(), x.name.clone())).collect();
    Ok(render_form(state, headers, lang, status, |csrf| EditorHome {
        ctx: Ctx::new(lang, "/redaktion", None),
        csrf,
        shares,
        todo,
        open,
        links,
        tools,
        error,
    }))
}

pub async fn editor_home(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    SignedIn(current): SignedIn,
) -> Result<Response, WebError> {
    editor_home_page(&state, &lang, &headers, &current, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct LinkForm {
    email: String,
    tool: String,
    evidence: String,
}

pub async fn link_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    SignedIn(current): SignedIn,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> Result<Response, WebError> {
    match state.hub().link_vendor(&current, &form.email, &form.tool, &form.evidence).await {
        Ok(()) => Ok(Redirect::to("/redaktion#anbieter").into_response()),
        Err(e @ (Error::Invalid { .. } | Error::Conflict(_) | Error::NotFound)) => {
            let t = mitsprache_i18n::messages(lang.locale);
            let message = match e {
                Error::Invalid { field, .. } => t.get(&format!("editor.link-invalid.{field}")).to_owned(),
                Error::Conflict(_) => t.get("editor.link-exists").to_owned(),
                _ => t.get("editor.link-no-tool").to_owned(),
            };
            editor_home_page(&state, &lang, &headers, &current, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct UnlinkForm {
    account_id: String,
    tool: String,
}

pub async fn unlink_submit(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    CsrfForm(form): CsrfForm<UnlinkForm>,
) -> Result<Response, WebError> {
    state.hub().unlink_vendor(&current, &form.account_id, &form.tool).await?;
    Ok(Redirect::to("/redaktion#anbieter").into_response())
}

pub struct QueueItem {
    pub id: String,
    pub tool_slug: String,
    pub tool: String,
    pub group: String,
    pub vendor: String,
    pub created: String,
    pub source: Option<String>,
    pub note: String,
    pub changes: Vec<Change>,
    pub stale: bool,
}

#[derive(Template)]
#[template(path = "editor_queue.html")]
struct EditorQueue {
    ctx: Ctx,
    csrf: String,
    items: Vec<QueueItem>,
    error: Option<String>,
}

async fn queue_page(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    current: &Current,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let t = mitsprache_i18n::messages(lang.locale);
    let mut items = Vec::new();
    for p in state.hub().open_proposals(current).await? {
        let review = state.hub().review(current, &p.id).await?;
        let proposed: Value = serde_json::from_str(&p.value).unwrap_or(Value::Null);
        items.push(QueueItem {
            tool: review.tool_name.clone(),
            group: FactGroup::from_key(&p.field).map_or(p.field.clone(), |g| group_label(t, g)),
            vendor: review.vendor_email.clone().unwrap_or_else(|| t.get("editor.vendor-gone").to_owned()),
            created: when(lang.locale, p.created_at),
            changes: groups::diff(&review.current, &proposed),
            stale: review.stale,
            source: p.source.clone(),
            note: p.note.clone(),
            tool_slug: p.tool_slug.clone(),
            id: p.id,
        });
    }
    Ok(render_form(state, headers, lang, status, |csrf| EditorQueue {
        ctx: Ctx::new(lang, "/redaktion/vorschlaege", None),
        csrf,
        items,
        error,
    }))
}

pub async fn queue(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    SignedIn(current): SignedIn,
) -> Result<Response, WebError> {
    queue_page(&state, &lang, &headers, &current, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct DecisionForm {
    decision: String,
    #[serde(default)]
    reason: String,
}

pub async fn decide(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    SignedIn(current): SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Result<Response, WebError> {
    let outcome = match form.decision.as_str() {
        "publish" => state.hub().publish_proposal(&current, &id).await,
        "reject" => state.hub().reject_proposal(&current, &id, &form.reason).await,
        _ => Err(Error::Invalid { field: "decision".into(), message: "publish or reject".into() }),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/redaktion/vorschlaege").into_response()),
        Err(e @ (Error::Invalid { .. } | Error::Conflict(_) | Error::Validation(_) | Error::Unprocessable(_))) => {
            let t = mitsprache_i18n::messages(lang.locale);
            let message = match e {
                Error::Invalid { .. } => t.get("editor.reason-needed"),
                Error::Conflict(_) => t.get("editor.conflict"),
                _ => t.get("vendor.format"),
            };
            queue_page(&state, &lang, &headers, &current, Some(message.to_owned()), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- history

pub struct HistoryRow {
    pub anchor: Option<String>,
    pub date: String,
    pub who: String,
    pub vendor: bool,
    pub groups: String,
    pub changes: Vec<Change>,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    ctx: Ctx,
    slug: String,
    name: String,
    rows: Vec<HistoryRow>,
}

/// Who made a change, in words (the history never shows personal data).
fn actor_label(t: &Messages, e: &HistoryEntry) -> String {
    let key = match (e.actor.split(':').next(), e.proposal_id.is_some()) {
        (_, true) => "history.vendor-reviewed",
        (Some("account"), _) => "history.editor",
        (Some("client"), _) => "history.client",
        (Some("bundled"), _) => "history.bundled",
        _ => "history.import",
    };
    t.get(key).to_owned()
}

pub async fn history(
    State(state): State<AppState>,
    lang: Lang,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let catalogue = state.hub().catalogue();
    let tool = catalogue.tool(&slug).ok_or(WebError(Error::NotFound))?.clone();
    let ctx = Ctx::new(&lang, &format!("/marktplatz/werkzeuge/{slug}/verlauf"), None);
    let t = ctx.t;
    let rows = state
        .hub()
        .tool_history(&slug)
        .await?
        .iter()
        .map(|e| {
            let changes = match (&e.before, &e.after) {
                (Some(b), Some(a)) => e
                    .fields
                    .iter()
                    .flat_map(|f| {
                        let prefix =
                            move |c: Change| Change { path: format!("{f}.{}", c.path).replace(".·", ""), ..c };
                        groups::diff(b.get(f).unwrap_or(&Value::Null), a.get(f).unwrap_or(&Value::Null))
                            .into_iter()
                            .map(prefix)
                    })
                    .collect(),
                _ => Vec::new(),
            };
            HistoryRow {
                anchor: e.proposal_id.as_ref().map(|p| format!("vorschlag-{p}")),
                date: when(lang.locale, e.created_at),
                who: actor_label(t, e),
                vendor: e.origin == "vendor",
                groups: e
                    .fields
                    .iter()
                    .map(|f| {
                        FactGroup::from_key(f)
                            .map_or_else(|| t.get(&format!("field-key.{f}")).to_owned(), |g| group_label(t, g))
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                changes,
            }
        })
        .collect();
    Ok(render(&HistoryPage { ctx, slug: slug.clone(), name: tool.name, rows }, &lang, StatusCode::OK))
}

// ---------------------------------------------------------------- beim Anbieter anfragen

#[derive(Template)]
#[template(path = "enquiry.html")]
struct EnquiryPage {
    ctx: Ctx,
    csrf: String,
    slug: String,
    tool: String,
    group: String,
    group_label: String,
    signed_in: bool,
    /// `linked`, `email` or `page`.
    route: &'static str,
    target: String,
    mailto: String,
    message: String,
    sent: bool,
    error: Option<String>,
}

fn enquiry_text(t: &Messages, tool: &str, group: &str) -> String {
    t.fmt("enquiry.default", &[("tool", &tool), ("field", &group)])
}

fn mailto(address: &str, subject: &str, body: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!("mailto:{address}?subject={}&body={}", enc(subject), enc(body))
}

#[derive(Deserialize)]
pub struct EnquiryQuery {
    feld: String,
    #[serde(default)]
    gesendet: String,
}

/// What the enquiry page shows besides the tool and fact: the text so far, whether a question
/// went out, and what was wrong with the last one.
#[derive(Default)]
struct Asked {
    message: Option<String>,
    sent: bool,
    error: Option<String>,
}

async fn enquiry_page(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    slug: &str,
    group: FactGroup,
    current: Option<&Current>,
    asked: Asked,
) -> Result<Response, WebError> {
    let Asked { message, sent, error } = asked;
    let catalogue = state.hub().catalogue();
    let tool = catalogue.tool(slug).ok_or(WebError(Error::NotFound))?.clone();
    let t = mitsprache_i18n::messages(lang.locale);
    let label = group_label(t, group);
    let text = message.unwrap_or_else(|| enquiry_text(t, &tool.name, &label));
    let subject = t.fmt("enquiry.subject", &[("tool", &tool.name), ("field", &label)]);
    let (route, target) = match state.hub().enquiry_route(slug).await? {
        EnquiryRoute::Linked => ("linked", String::new()),
        EnquiryRoute::Email(e) => ("email", e),
        EnquiryRoute::Page(p) => ("page", p),
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render_form(state, headers, lang, status, |csrf| EnquiryPage {
        ctx: Ctx::new(lang, &format!("/marktplatz/werkzeuge/{slug}/anfragen"), None),
        csrf,
        slug: slug.to_owned(),
        tool: tool.name.clone(),
        group: group.key().to_owned(),
        group_label: label,
        signed_in: current.is_some(),
        route,
        mailto: mailto(&target, &subject, &text),
        target,
        message: text,
        sent,
        error,
    }))
}

pub async fn enquiry(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(slug): Path<String>,
    Query(q): Query<EnquiryQuery>,
) -> Result<Response, WebError> {
    let group = group_of(&q.feld)?;
    let asked = Asked { sent: q.gesendet == "1", ..Asked::default() };
    enquiry_page(&state, &lang, &headers, &slug, group, current.as_ref(), asked).await
}

#[derive(Deserialize)]
pub struct EnquiryForm {
    feld: String,
    message: String,
    #[serde(default)]
    share: Option<String>,
}

pub async fn enquiry_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    SignedIn(current): SignedIn,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<EnquiryForm>,
) -> Result<Response, WebError> {
    let group = group_of(&form.feld)?;
    let t = mitsprache_i18n::messages(lang.locale);
    if form.share.is_none() {
        let asked =
            Asked { message: Some(form.message), sent: false, error: Some(t.get("enquiry.share-needed").to_owned()) };
        return enquiry_page(&state, &lang, &headers, &slug, group, Some(&current), asked).await;
    }
    match state.hub().ask_vendor(&current, &slug, group, &form.message).await {
        Ok(()) => Ok(Redirect::to(&format!("/marktplatz/werkzeuge/{slug}/anfragen?feld={}&gesendet=1", group.key()))
            .into_response()),
        Err(Error::Invalid { .. }) => {
            let asked =
                Asked { message: Some(form.message), sent: false, error: Some(t.get("enquiry.empty").to_owned()) };
            enquiry_page(&state, &lang, &headers, &slug, group, Some(&current), asked).await
        }
        Err(e) => Err(e.into()),
    }
}
