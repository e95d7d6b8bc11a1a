//! "Meine Beteiligung": a signed-in person's contributions across tools with their status
//! changes, the processes they follow, what changed, and how often they hear of it by e-mail;
//! following a process from its page; the one-click unsubscribe of the digest (RFC 8058); the
//! receipt of an account deletion with its delivery to every tool.

use crate::error::WebError;
use crate::render::{Ctx, Lang, render, render_form};
use crate::session::{Admin, CsrfForm, SignedIn};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_domain::Locale;
use mitsprache_hub::participation::{DeletionDelivery, Digest};
use mitsprache_hub::participation::{describe, status_word, text};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

pub struct ContributionRow {
    pub title: String,
    pub tool: String,
    pub process_title: String,
    /// The portal page of its process, when the hub has the process.
    pub process_link: Option<String>,
    pub status: String,
    pub created: String,
    /// Earlier statuses, oldest first: "date: old → new".
    pub history: Vec<String>,
}

pub struct FollowRow {
    pub id: String,
    pub title: String,
    pub status: String,
}

pub struct NotificationRow {
    pub when: String,
    pub text: String,
    pub link: String,
    pub unseen: bool,
}

#[derive(Template)]
#[template(path = "participation.html")]
struct ParticipationPage {
    ctx: Ctx,
    csrf: String,
    contributions: Vec<ContributionRow>,
    followed: Vec<FollowRow>,
    notifications: Vec<NotificationRow>,
    digest: String,
    notice: Option<String>,
}

fn when(t: OffsetDateTime, locale: Locale) -> String {
    super::view::date(locale, t.date())
}

fn doc(r: &mitsprache_hub::data::StoredRecord) -> Value {
    r.doc.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default()
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    hinweis: String,
}

pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    SignedIn(current): SignedIn,
    axum::extract::Query(q): axum::extract::Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let locale = lang.locale;
    let mine = state.hub().my_participation(&current.account).await?;
    let contributions = mine
        .contributions
        .iter()
        .map(|c| {
            let d = doc(&c.record);
            let mut title = text(d.get("title"), locale);
            if title.is_empty() {
                title = text(d.get("text"), locale).chars().take(120).collect();
            }
            ContributionRow {
                title,
                tool: c.tool.clone(),
                process_title: c.process.as_ref().map(|p| text(doc(p).get("title"), locale)).unwrap_or_default(),
                process_link: c.process.as_ref().map(|p| format!("/beteiligung/{}", p.id)),
                status: status_word(d.get("status").and_then(Value::as_str), locale),
                created: d
                    .get("created_at")
                    .and_then(Value::as_str)
                    .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
                    .map(|t| when(t, locale))
                    .unwrap_or_default(),
                history: c
                    .changes
                    .iter()
                    .map(|ch| {
                        format!(
                            "{}: {} → {}",
                            when(ch.changed_at, locale),
                            status_word(ch.old_status.as_deref(), locale),
                            status_word(ch.new_status.as_deref(), locale)
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let followed = mine
        .followed
        .iter()
        .map(|r| {
            let d = doc(r);
            FollowRow {
                id: r.id.clone(),
                title: text(d.get("title"), locale),
                status: status_word(d.get("status").and_then(Value::as_str), locale),
            }
        })
        .collect();
    let notifications = mine
        .notifications
        .iter()
        .map(|n| NotificationRow {
            when: when(n.at, locale),
            text: describe(n, locale),
            link: if n.record.kind == "process" {
                format!("/beteiligung/{}", n.record.id)
            } else {
                "/meine-beteiligung#beitraege".into()
            },
            unseen: n.unseen,
        })
        .collect();
    let digest = mine.settings.map(|s| s.digest.as_str()).unwrap_or("none").to_owned();
    let ctx = Ctx::new(&lang, "/meine-beteiligung", None);
    let notice = match q.hinweis.as_str() {
        "gespeichert" => Some(if ctx.is_de() { "Gespeichert." } else { "Saved." }.to_owned()),
        _ => None,
    };
    let mut r = render_form(&state, &headers, &lang, StatusCode::OK, |csrf| ParticipationPage {
        ctx,
        csrf,
        contributions,
        followed,
        notifications,
        digest,
        notice,
    });
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[derive(Deserialize)]
pub struct DigestForm {
    digest: String,
}

pub async fn digest_submit(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    CsrfForm(form): CsrfForm<DigestForm>,
) -> Result<Response, WebError> {
    let Some(digest) = Digest::parse(&form.digest) else {
        return Err(WebError(mitsprache_hub::Error::Malformed("digest must be daily, weekly or none".into())));
    };
    state.hub().set_digest(&current.account.id, digest).await?;
    Ok(Redirect::to("/meine-beteiligung?hinweis=gespeichert").into_response())
}

#[derive(Deserialize)]
pub struct FollowForm {
    /// `follow` or `unfollow`.
    action: String,
    /// Where to go back to: the process page or "Meine Beteiligung".
    #[serde(default)]
    back: String,
}

pub async fn follow_submit(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<FollowForm>,
) -> Result<Response, WebError> {
    let hub = state.hub();
    match form.action.as_str() {
        "follow" => hub.follow(&current.account.id, &id).await?,
        "unfollow" => hub.unfollow(&current.account.id, &id).await?,
        _ => return Err(WebError(mitsprache_hub::Error::Malformed("action must be follow or unfollow".into()))),
    }
    let back = if form.back == "meine" { "/meine-beteiligung".to_owned() } else { format!("/beteiligung/{id}") };
    Ok(Redirect::to(&back).into_response())
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    ctx: Ctx,
    token: String,
    /// None: the confirmation; Some(true): done; Some(false): the link does not hold.
    done: Option<bool>,
}

/// The link in the digest, opened in a browser: a confirmation with a button, never the
/// unsubscribe itself (link scanners open every link in a mail).
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let valid = state.hub().unsubscribe_valid(&token);
    let ctx = Ctx::new(&lang, "/benachrichtigungen/abbestellen", None);
    let status = if valid { StatusCode::OK } else { StatusCode::NOT_FOUND };
    let page = UnsubscribePage { ctx, token, done: (!valid).then_some(false) };
    Ok(render(&page, &lang, status))
}

/// The unsubscribe itself: the page's button, or a mail client's RFC 8058 one-click POST
/// (`List-Unsubscribe=One-Click`, no cookie). The token in the path is the only credential,
/// so this needs no CSRF token: it can only ever stop the digest of the token's account.
pub async fn unsubscribe_submit(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let done = state.hub().unsubscribe(&token).await?;
    let ctx = Ctx::new(&lang, "/benachrichtigungen/abbestellen", None);
    let status = if done { StatusCode::OK } else { StatusCode::NOT_FOUND };
    let page = UnsubscribePage { ctx, token: String::new(), done: Some(done) };
    Ok(render(&page, &lang, status))
}

pub struct DeliveryRow {
    pub tool: String,
    pub method: String,
    pub state: String,
    pub attempts: i64,
    pub error: String,
    pub at: String,
}

async fn delivery_rows(state: &AppState, deliveries: Vec<DeletionDelivery>, locale: Locale) -> Vec<DeliveryRow> {
    let mut rows = Vec::new();
    for d in deliveries {
        let tool = match state.hub().client(&d.client_id).await {
            Ok(Some(c)) => c.name.clone(),
            _ => d.client_id.clone(),
        };
        let de = locale == Locale::De;
        rows.push(DeliveryRow {
            tool,
            method: match d.method.as_str() {
                "push" => "RISC account-purged (RFC 8935)".to_owned(),
                _ => "SCIM DELETE /Users".to_owned(),
            },
            state: match (d.state.as_str(), de) {
                ("delivered", true) => "zugestellt",
                ("delivered", false) => "delivered",
                ("failed", true) => "gescheitert",
                ("failed", false) => "failed",
                (_, true) => "wird zugestellt",
                (_, false) => "being delivered",
            }
            .to_owned(),
            attempts: d.attempts,
            error: d.last_error.unwrap_or_default(),
            at: format!("{} {:02}:{:02} UTC", when(d.updated_at, locale), d.updated_at.hour(), d.updated_at.minute()),
        });
    }
    rows
}

#[derive(Template)]
#[template(path = "deletion_receipt.html")]
struct ReceiptPage {
    ctx: Ctx,
    rows: Vec<DeliveryRow>,
}

/// The receipt of a deletion: which tools were told, and whether they have it. The link is the
/// only credential (the account is gone); it names no person.
pub async fn receipt(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let deliveries = state.hub().deletion_receipt(&token).await?;
    let rows = delivery_rows(&state, deliveries, lang.locale).await;
    let ctx = Ctx::new(&lang, "/konto/geloescht", None);
    let mut r = render(&ReceiptPage { ctx, rows }, &lang, StatusCode::OK);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(r)
}

#[derive(Template)]
#[template(path = "admin_deletions.html")]
struct DeletionLogPage {
    ctx: Ctx,
    rows: Vec<DeliveryRow>,
}

/// The admin log of deletion events: per tool, its state, attempts and last error.
pub async fn admin_log(State(state): State<AppState>, lang: Lang, Admin(_): Admin) -> Result<Response, WebError> {
    let deliveries = state.hub().deletion_log(200).await?;
    let rows = delivery_rows(&state, deliveries, lang.locale).await;
    let ctx = Ctx::new(&lang, "/admin/loeschungen", None);
    Ok(render(&DeletionLogPage { ctx, rows }, &lang, StatusCode::OK))
}
