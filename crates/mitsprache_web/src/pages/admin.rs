//! Administration: register and remove tools (OpenID clients), mark first-party tools as
//! pre-consented, and give accounts their role. Admins only (the [`Admin`] extractor).

use crate::error::WebError;
use crate::render::{Ctx, Lang, render_form};
use crate::session::{Admin, CsrfForm};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_domain::Role;
use mitsprache_hub::Error;
use mitsprache_hub::clients::{ClientRequest, RegisteredClient};
use mitsprache_oidc::client::{AuthMethod, GrantType, Pkce, Registration};
use mitsprache_oidc::subject::SubjectType;
use serde::Deserialize;

pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub redirect_uris: String,
    pub grants: String,
    pub auth_method: String,
    pub first_party: bool,
    pub public_subject: bool,
    pub backchannel: bool,
    pub pkce_optional: bool,
}

#[derive(Template)]
#[template(path = "admin_clients.html")]
struct ClientsPage {
    ctx: Ctx,
    csrf: String,
    clients: Vec<ClientRow>,
    error: Option<String>,
    created: Option<(String, String, Option<String>)>,
}

async fn clients_page(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    error: Option<String>,
    created: Option<RegisteredClient>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let clients = state
        .hub()
        .clients()
        .await?
        .into_iter()
        .map(|c| ClientRow {
            redirect_uris: c.redirect_uris.join(" "),
            grants: c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", "),
            auth_method: c.auth_method.as_str().to_owned(),
            first_party: c.first_party,
            public_subject: c.subject_type == SubjectType::Public,
            backchannel: c.backchannel_logout_uri.is_some(),
            pkce_optional: c.pkce == Pkce::Optional,
            id: c.id,
            name: c.name,
        })
        .collect();
    Ok(render_form(state, headers, lang, status, |csrf| ClientsPage {
        ctx: Ctx::new(lang, "/admin/clients", None),
        csrf,
        clients,
        error,
        created: created.map(|c| (c.client.name, c.client.id, c.secret)),
    }))
}

pub async fn clients(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    _admin: Admin,
) -> Result<Response, WebError> {
    clients_page(&state, &lang, &headers, None, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct AddClientForm {
    name: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    #[serde(default)]
    backchannel_logout_uri: String,
    #[serde(default)]
    sector_identifier_uri: String,
    #[serde(default)]
    auth_method: String,
    #[serde(default)]
    grant_code: Option<String>,
    #[serde(default)]
    grant_refresh: Option<String>,
    #[serde(default)]
    grant_machine: Option<String>,
    #[serde(default)]
    first_party: Option<String>,
    #[serde(default)]
    public_subject: Option<String>,
    #[serde(default)]
    pkce_optional: Option<String>,
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

pub async fn add_client(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    _admin: Admin,
    CsrfForm(form): CsrfForm<AddClientForm>,
) -> Result<Response, WebError> {
    let grant_types = [
        (&form.grant_code, GrantType::AuthorizationCode),
        (&form.grant_refresh, GrantType::RefreshToken),
        (&form.grant_machine, GrantType::ClientCredentials),
    ]
    .into_iter()
    .filter(|(on, _)| on.is_some())
    .map(|(_, g)| g)
    .collect();
    let registration = Registration {
        name: form.name.clone(),
        redirect_uris: lines(&form.redirect_uris),
        post_logout_redirect_uris: lines(&form.post_logout_redirect_uris),
        grant_types,
        auth_method: AuthMethod::parse(&form.auth_method),
        subject_type: if form.public_subject.is_some() { SubjectType::Public } else { SubjectType::Pairwise },
        first_party: form.first_party.is_some(),
        backchannel_logout_uri: Some(form.backchannel_logout_uri.trim().to_owned()).filter(|u| !u.is_empty()),
        pkce: if form.pkce_optional.is_some() { Pkce::Optional } else { Pkce::Required },
        ..Registration::default()
    };
    let request = ClientRequest {
        registration,
        sector_identifier_uri: Some(form.sector_identifier_uri.trim().to_owned()).filter(|u| !u.is_empty()),
    };
    match state.hub().register_client(request, false).await {
        Ok(registered) => clients_page(&state, &lang, &headers, None, Some(registered), StatusCode::OK).await,
        Err(Error::Protocol(e)) => {
            clients_page(&state, &lang, &headers, Some(e.to_string()), None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ClientActionForm {
    client_id: String,
    action: String,
}

/// Removes a tool (its grants end) or switches its first-party mark.
pub async fn client_action(
    State(state): State<AppState>,
    _admin: Admin,
    CsrfForm(form): CsrfForm<ClientActionForm>,
) -> Result<Response, WebError> {
    let hub = state.hub();
    match form.action.as_str() {
        "delete" => hub.delete_client(&form.client_id).await?,
        "first_party" | "third_party" => hub.set_first_party(&form.client_id, form.action == "first_party").await?,
        _ => return Err(WebError(Error::Invalid { field: "action".into(), message: "unknown action".into() })),
    }
    Ok(Redirect::to("/admin/clients").into_response())
}

pub struct AccountRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub verified: bool,
    pub is_self: bool,
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    ctx: Ctx,
    csrf: String,
    accounts: Vec<AccountRow>,
    roles: Vec<(String, String)>,
}

pub async fn accounts(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Admin(me): Admin,
) -> Result<Response, WebError> {
    let ctx = Ctx::new(&lang, "/admin/konten", None);
    let accounts = state
        .hub()
        .accounts(1000)
        .await?
        .into_iter()
        .map(|a| AccountRow {
            is_self: a.id == me.account.id,
            role: a.role.as_str().to_owned(),
            verified: a.email_verified,
            email: a.email.to_string(),
            id: a.id,
        })
        .collect();
    let roles = Role::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), ctx.t.get(&format!("role.{}", r.as_str())).to_owned()))
        .collect();
    Ok(render_form(&state, &headers, &lang, StatusCode::OK, |csrf| AccountsPage { ctx, csrf, accounts, roles }))
}

#[derive(Deserialize)]
pub struct RoleForm {
    account_id: String,
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    Admin(me): Admin,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<Response, WebError> {
    let role = Role::parse(&form.role)
        .ok_or_else(|| WebError(Error::Invalid { field: "role".into(), message: "unknown role".into() }))?;
    state.hub().set_role(&form.account_id, role).await?;
    tracing::info!(by = %me.account.id, "an admin changed a role");
    Ok(Redirect::to("/admin/konten").into_response())
}

pub struct SyncRow {
    pub when: String,
    pub ok: bool,
    pub summary: String,
    pub message: String,
    /// `id: reason` of the latest records the source had that the standard refused.
    pub rejected: Vec<String>,
}

pub struct SourceRow {
    pub name: String,
    pub kind: String,
    pub url: String,
    pub municipality: String,
    pub interval: i64,
    pub syncs: Vec<SyncRow>,
}

#[derive(Template)]
#[template(path = "admin_sources.html")]
pub struct SourcesPage {
    pub ctx: Ctx,
    pub sources: Vec<SourceRow>,
}

/// The sources the hub pulls from, with their sync log: for the operator, what each sync
/// fetched, changed and refused, and why one failed.
pub async fn sources(State(state): State<AppState>, lang: Lang, _admin: Admin) -> Result<Response, WebError> {
    let ctx = Ctx::new(&lang, "/admin/quellen", None);
    let time = |t: time::OffsetDateTime| {
        format!("{} {:02}:{:02} UTC", crate::pages::view::date(ctx.locale, t.date()), t.hour(), t.minute())
    };
    let mut rows = Vec::new();
    for (s, _) in state.hub().sources().await? {
        let syncs = state
            .hub()
            .source_syncs(&s.name, 10)
            .await?
            .into_iter()
            .map(|l| {
                let rejected: Vec<serde_json::Value> = serde_json::from_str(&l.rejected).unwrap_or_default();
                SyncRow {
                    when: time(l.finished_at),
                    ok: l.ok,
                    summary: format!(
                        "{} / {} / {} / {} / {} / {}",
                        l.requests,
                        l.fetched,
                        l.created,
                        l.updated,
                        l.deleted,
                        rejected.len()
                    ),
                    message: l.message,
                    rejected: rejected
                        .iter()
                        .map(|r| format!("{}: {}", r["id"].as_str().unwrap_or("?"), r["reason"].as_str().unwrap_or("")))
                        .collect(),
                }
            })
            .collect();
        rows.push(SourceRow {
            name: s.name,
            kind: s.kind,
            url: s.url,
            municipality: s.municipality.unwrap_or_default(),
            interval: s.interval_minutes,
            syncs,
        });
    }
    Ok(crate::render::render(&SourcesPage { ctx, sources: rows }, &lang, StatusCode::OK))
}
