//! `mitsprache user …`, `client …` and `keys …`: what an operator does before the first tool
//! connects. Output meant for scripts (client credentials) is JSON on standard output.

use super::write_stdout;
use crate::config::Config;
use anyhow::{Context, bail};
use mitsprache_domain::{Locale, Role, SystemClock};
use mitsprache_hub::accounts::NewAccount;
use mitsprache_hub::clients::ClientRequest;
use mitsprache_hub::{Error, Hub};
use mitsprache_oidc::client::{AuthMethod, GrantType, Pkce, Registration};
use mitsprache_oidc::subject::SubjectType;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

async fn hub(config: &Config) -> anyhow::Result<Hub> {
    crate::startup::hub(config, Arc::new(SystemClock)).await
}

/// The password from a file, or the first line of standard input.
fn read_password(file: Option<&Path>) -> anyhow::Result<String> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).context("cannot read the password from standard input")?;
            s
        }
    };
    Ok(text.lines().next().unwrap_or("").to_owned())
}

/// An error of the hub as the operator reads it.
fn explain(e: Error) -> anyhow::Error {
    match e {
        Error::Validation(problems) => anyhow::anyhow!(
            "{}",
            problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; ")
        ),
        Error::Protocol(p) => anyhow::anyhow!("{}: {}", p.code, p.description),
        e => e.into(),
    }
}

pub async fn user_add(
    config: &Config,
    email: &str,
    role: Role,
    name: Option<&str>,
    password_file: Option<&Path>,
) -> anyhow::Result<()> {
    let password = read_password(password_file)?;
    let hub = hub(config).await?;
    // The same path as a registration, with the operator vouching for the address.
    let new =
        NewAccount { email, password: Some(&password), name, locale: Locale::De, role, verified: true, upstream: None };
    match hub.create_account(new).await {
        Ok(account) => write_stdout(&format!(
            "{}\n",
            serde_json::json!({"id": account.id, "email": account.email.as_str(), "role": role.as_str()})
        )),
        Err(Error::Conflict(_)) => bail!("an account with {} exists already", email.trim().to_lowercase()),
        Err(e) => Err(explain(e)),
    }
}

pub async fn user_role(config: &Config, email: &str, role: Role) -> anyhow::Result<()> {
    let hub = hub(config).await?;
    let Some(account) = hub.account_by_email(email).await.map_err(explain)? else {
        bail!("no account with {}", email.trim().to_lowercase())
    };
    hub.set_role(&account.id, role).await?;
    write_stdout(&format!("{} is now {}\n", account.email, role.as_str()))
}

pub struct ClientArgs<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    pub post_logout_redirect_uris: &'a [String],
    pub grants: &'a [String],
    pub auth_method: Option<&'a str>,
    pub backchannel_logout_uri: Option<&'a str>,
    pub initiate_login_uri: Option<String>,
    pub deletion_receiver: Option<mitsprache_oidc::client::DeletionReceiver>,
    pub sector: Option<&'a str>,
    pub sector_identifier_uri: Option<&'a str>,
    pub first_party: bool,
    pub public_subject: bool,
    pub machine_role: Option<Role>,
    pub id_token_alg: Option<&'a str>,
    pub pkce: Option<&'a str>,
    pub scopes: &'a [String],
    pub resources: &'a [String],
}

pub async fn client_add(config: &Config, args: ClientArgs<'_>) -> anyhow::Result<()> {
    let grant_types = args
        .grants
        .iter()
        .map(|g| {
            GrantType::parse(g)
                .with_context(|| format!("unknown grant `{g}` (authorization_code, refresh_token, client_credentials)"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let auth_method = match args.auth_method {
        None => None,
        Some(m) => Some(AuthMethod::parse(m).with_context(|| {
            format!("unknown auth method `{m}` (client_secret_basic, client_secret_post, private_key_jwt, none)")
        })?),
    };
    let pkce = match args.pkce {
        None => Pkce::Required,
        Some(p) => Pkce::parse(p).with_context(|| format!("`--pkce {p}`: required or optional"))?,
    };
    let registration = Registration {
        name: args.name.to_owned(),
        redirect_uris: args.redirect_uris.to_vec(),
        post_logout_redirect_uris: args.post_logout_redirect_uris.to_vec(),
        grant_types,
        auth_method,
        jwks: None,
        subject_type: if args.public_subject { SubjectType::Public } else { SubjectType::Pairwise },
        sector_identifier_host: args.sector.map(str::to_owned),
        first_party: args.first_party,
        backchannel_logout_uri: args.backchannel_logout_uri.map(str::to_owned),
        machine_role: args.machine_role,
        id_token_alg: match args.id_token_alg {
            None => None,
            Some(a) => Some(mitsprache_oidc::jose::Alg::parse(a).with_context(|| format!("`{a}`: ES256 or RS256"))?),
        },
        pkce,
        scopes: args.scopes.to_vec(),
        resources: args.resources.to_vec(),
        initiate_login_uri: args.initiate_login_uri,
        deletion_receiver: args.deletion_receiver,
    };
    let hub = hub(config).await?;
    let request = ClientRequest { registration, sector_identifier_uri: args.sector_identifier_uri.map(str::to_owned) };
    let registered = hub.register_client(request, false).await.map_err(explain)?;
    let client = registered.client;
    if client.pkce == Pkce::Optional {
        tracing::warn!(client = %client.id, "registered without PKCE: the weaker option; the tool must send a nonce");
    }
    let out = serde_json::json!({
        "client_id": client.id,
        "client_secret": registered.secret,
        "name": client.name,
        "redirect_uris": client.redirect_uris,
        "grant_types": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "token_endpoint_auth_method": client.auth_method.as_str(),
        "pkce": client.pkce.as_str(),
        "scopes": client.scopes,
        "issuer": hub.config().issuer,
    });
    write_stdout(&format!("{}\n", serde_json::to_string_pretty(&out)?))
}

pub async fn client_list(config: &Config) -> anyhow::Result<()> {
    let mut out = String::new();
    for c in hub(config).await?.clients().await? {
        out.push_str(&format!("{}\t{}\t{}\n", c.id, c.name, c.redirect_uris.join(" ")));
    }
    write_stdout(&out)
}

pub async fn keys_rotate(config: &Config) -> anyhow::Result<()> {
    let kids = hub(config).await?.rotate_keys().await?;
    write_stdout(&format!(
        "new signing keys: {}\nold public keys stay published until the tokens they signed have expired\n",
        kids.join(", ")
    ))
}

/// The background jobs, newest first: what an operator looks at when a tool says it missed a
/// logout.
pub async fn jobs_list(config: &Config, kind: Option<&str>, limit: i64) -> anyhow::Result<()> {
    let hub = hub(config).await?;
    let mut out = String::new();
    for j in hub.jobs(kind, limit).await? {
        out.push_str(&format!(
            "{}\t{}\t{:?}\tattempts {}/{}\trun_at {}\t{}\n",
            j.id,
            j.kind,
            j.state,
            j.attempts,
            j.max_attempts,
            j.run_at.unix_timestamp(),
            j.last_error.as_deref().unwrap_or("-"),
        ));
    }
    write_stdout(&out)
}
