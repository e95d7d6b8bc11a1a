//! Administration: register and remove tools (OpenID clients), mark first-party tools as
//! pre-consented, and give accounts their role. Admins only.

use super::account::message;
use super::{Ctx, Lang, render_form};
use crate::identity::oidc::authorize::problem_page;
use crate::identity::oidc::{OAuthError, typed};
use crate::identity::session::{self, Current, csrf_ok};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mitsprache_domain::Role;
use mitsprache_oidc::client::{AuthMethod, GrantType, Registration};
use mitsprache_oidc::random::{id, secret};
use mitsprache_oidc::subject::SubjectType;
use serde::Deserialize;

/// The signed-in admin, or the response to send instead (login, or 403).
async fn admin(state: &AppState, lang: &Lang, headers: &HeaderMap) -> Result<Result<Current, Response>, OAuthError> {
    match session::current(state, headers).await? {
        None => Ok(Err(Redirect::to("/anmelden").into_response())),
        Some(c) if c.account.role == Role::Admin => Ok(Ok(c)),
        Some(_) => Ok(Err(message(lang, "admin.forbidden-title", "admin.forbidden", StatusCode::FORBIDDEN))),
    }
}

/// The signed-in admin of a form submission that carries its CSRF token, or what to answer instead.
async fn admin_form(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Result<Current, Response>, OAuthError> {
    let current = match admin(state, lang, headers).await? {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    if !csrf_ok(state, headers, csrf) {
        return Ok(Err(problem_page(lang, "form.csrf", StatusCode::FORBIDDEN)));
    }
    Ok(Ok(current))
}

pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub redirect_uris: String,
    pub grants: String,
    pub auth_method: String,
    pub first_party: bool,
    pub public_subject: bool,
    pub backchannel: bool,
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
    created: Option<(String, String, Option<String>)>,
    status: StatusCode,
) -> Result<Response, OAuthError> {
    let clients = state
        .store()
        .identity()
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
            id: c.id,
            name: c.name,
        })
        .collect();
    Ok(render_form(state, headers, lang, status, |csrf| ClientsPage {
        ctx: Ctx::new(lang, "/admin/clients", None),
        csrf,
        clients,
        error,
        created,
    }))
}

pub async fn clients(State(state): State<AppState>, lang: Lang, headers: HeaderMap) -> Response {
    let run = typed(async {
        if let Err(r) = admin(&state, &lang, &headers).await? {
            return Ok(r);
        }
        clients_page(&state, &lang, &headers, None, None, StatusCode::OK).await
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
pub struct AddClientForm {
    csrf: String,
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
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

pub async fn add_client(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<AddClientForm>,
) -> Response {
    let run = typed(async {
        if let Err(r) = admin_form(&state, &lang, &headers, &form.csrf).await? {
            return Ok(r);
        }
        let mut grant_types = Vec::new();
        for (on, grant) in [
            (&form.grant_code, GrantType::AuthorizationCode),
            (&form.grant_refresh, GrantType::RefreshToken),
            (&form.grant_machine, GrantType::ClientCredentials),
        ] {
            if on.is_some() {
                grant_types.push(grant);
            }
        }
        let redirect_uris = lines(&form.redirect_uris);
        let sector_identifier_host = match form.sector_identifier_uri.trim() {
            "" => None,
            uri => match crate::identity::sector_host(&state.identity().http, uri, &redirect_uris).await {
                Ok(host) => Some(host),
                Err(e) => {
                    return clients_page(&state, &lang, &headers, Some(e), None, StatusCode::UNPROCESSABLE_ENTITY)
                        .await;
                }
            },
        };
        let registration = Registration {
            name: form.name.clone(),
            redirect_uris,
            post_logout_redirect_uris: lines(&form.post_logout_redirect_uris),
            grant_types,
            auth_method: AuthMethod::parse(&form.auth_method),
            jwks: None,
            subject_type: if form.public_subject.is_some() { SubjectType::Public } else { SubjectType::Pairwise },
            sector_identifier_host,
            first_party: form.first_party.is_some(),
            backchannel_logout_uri: Some(form.backchannel_logout_uri.trim().to_owned()).filter(|u| !u.is_empty()),
            machine_role: None,
            id_token_alg: None,
        };
        let now = state.clock().now();
        match registration.into_client(id(state.random()), secret(state.random()), now) {
            Ok((client, shown)) => {
                state.store().identity().put_client(&client, None, now.unix_timestamp()).await?;
                tracing::info!(client = %client.id, "client registered by an admin");
                clients_page(&state, &lang, &headers, None, Some((client.name, client.id, shown)), StatusCode::OK).await
            }
            Err(e) => {
                clients_page(&state, &lang, &headers, Some(e.to_string()), None, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        }
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
pub struct ClientActionForm {
    csrf: String,
    client_id: String,
    action: String,
}

/// Removes a tool (its grants end) or switches its first-party mark.
pub async fn client_action(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<ClientActionForm>,
) -> Response {
    let run = typed(async {
        if let Err(r) = admin_form(&state, &lang, &headers, &form.csrf).await? {
            return Ok(r);
        }
        let store = state.store().identity();
        let now = state.clock().now().unix_timestamp();
        match form.action.as_str() {
            "delete" => {
                store.delete_client(&form.client_id, now).await?;
                state.identity().forget_client(&form.client_id);
            }
            "first_party" | "third_party" => {
                if let Some(mut client) = store.client(&form.client_id).await? {
                    client.first_party = form.action == "first_party";
                    store.put_client(&client, None, now).await?;
                    state.identity().forget_client(&form.client_id);
                }
            }
            _ => {}
        }
        Ok(Redirect::to("/admin/clients").into_response())
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
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

pub async fn accounts(State(state): State<AppState>, lang: Lang, headers: HeaderMap) -> Response {
    let run = typed(async {
        let me = match admin(&state, &lang, &headers).await? {
            Ok(c) => c,
            Err(r) => return Ok(r),
        };
        let ctx = Ctx::new(&lang, "/admin/konten", None);
        let accounts = state
            .store()
            .identity()
            .accounts(1000)
            .await?
            .into_iter()
            .map(|a| AccountRow {
                is_self: a.id == me.account.id,
                role: a.role.as_str().to_owned(),
                verified: a.email_verified,
                email: a.email,
                id: a.id,
            })
            .collect();
        let roles = Role::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), ctx.t.get(&format!("role.{}", r.as_str())).to_owned()))
            .collect();
        Ok(render_form(&state, &headers, &lang, StatusCode::OK, |csrf| AccountsPage { ctx, csrf, accounts, roles }))
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
pub struct RoleForm {
    csrf: String,
    account_id: String,
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<RoleForm>,
) -> Response {
    let run = typed(async {
        let me = match admin_form(&state, &lang, &headers, &form.csrf).await? {
            Ok(c) => c,
            Err(r) => return Ok(r),
        };
        // An admin cannot demote themselves: the hub would be left without one.
        if let Some(role) = Role::parse(&form.role)
            && form.account_id != me.account.id
        {
            state.store().identity().set_role(&form.account_id, role, state.clock().now().unix_timestamp()).await?;
            tracing::info!(role = role.as_str(), "role changed by an admin");
        }
        Ok(Redirect::to("/admin/konten").into_response())
    });
    run.await.unwrap_or_else(IntoResponse::into_response)
}
