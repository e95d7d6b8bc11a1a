//! `mitsprache user …`, `client …` and `keys …`: what an operator does before the first tool
//! connects. Output meant for scripts (client credentials) is JSON on standard output.

use super::write_stdout;
use crate::config::Config;
use anyhow::{Context, bail};
use mitsprache_domain::{Clock, Role, SystemClock};
use mitsprache_oidc::client::{AuthMethod, GrantType, Registration};
use mitsprache_oidc::password;
use mitsprache_oidc::random::{OsRandom, id, secret};
use mitsprache_oidc::subject::SubjectType;
use mitsprache_store::{Account, Store, StoreError};
use std::io::Read;
use std::path::Path;

async fn open(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database).await.context("cannot open the database")?;
    store.migrate().await?;
    Ok(store)
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
    let line = text.lines().next().unwrap_or("").to_owned();
    password::check_policy(&line).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(line)
}

pub async fn user_add(
    config: &Config,
    email: &str,
    role: Role,
    name: Option<&str>,
    password_file: Option<&Path>,
) -> anyhow::Result<()> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') {
        bail!("`{email}` is not an e-mail address");
    }
    let pw = read_password(password_file)?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw, password::Cost::default(), &OsRandom))
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = open(config).await?;
    let now = SystemClock.now().unix_timestamp();
    let account = Account {
        id: id(&OsRandom),
        email: email.clone(),
        // An operator vouches for the address.
        email_verified: true,
        password_hash: Some(hash),
        name: name.map(str::to_owned),
        locale: "de".into(),
        role,
        created_at: now,
        updated_at: now,
    };
    match store.identity().create_account(&account).await {
        Ok(()) => {
            write_stdout(&format!("{}\n", serde_json::json!({"id": account.id, "email": email, "role": role.as_str()})))
        }
        Err(StoreError::Conflict(_)) => bail!("an account with {email} exists already"),
        Err(e) => Err(e.into()),
    }
}

pub async fn user_role(config: &Config, email: &str, role: Role) -> anyhow::Result<()> {
    let store = open(config).await?;
    let email = email.trim().to_lowercase();
    let Some(account) = store.identity().account_by_email(&email).await? else { bail!("no account with {email}") };
    store.identity().set_role(&account.id, role, SystemClock.now().unix_timestamp()).await?;
    write_stdout(&format!("{email} is now {}\n", role.as_str()))
}

pub struct ClientArgs<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    pub post_logout_redirect_uris: &'a [String],
    pub grants: &'a [String],
    pub auth_method: Option<&'a str>,
    pub backchannel_logout_uri: Option<&'a str>,
    pub sector: Option<&'a str>,
    pub sector_identifier_uri: Option<&'a str>,
    pub first_party: bool,
    pub public_subject: bool,
    pub machine_role: Option<Role>,
    pub id_token_alg: Option<&'a str>,
}

pub async fn client_add(config: &Config, args: ClientArgs<'_>) -> anyhow::Result<()> {
    let mut grant_types = Vec::new();
    for g in args.grants {
        grant_types.push(
            GrantType::parse(g).with_context(|| {
                format!("unknown grant `{g}` (authorization_code, refresh_token, client_credentials)")
            })?,
        );
    }
    let auth_method =
        match args.auth_method {
            None => None,
            Some(m) => Some(AuthMethod::parse(m).with_context(|| {
                format!("unknown auth method `{m}` (client_secret_basic, client_secret_post, none)")
            })?),
        };
    let registration = Registration {
        name: args.name.to_owned(),
        redirect_uris: args.redirect_uris.to_vec(),
        post_logout_redirect_uris: args.post_logout_redirect_uris.to_vec(),
        grant_types,
        auth_method,
        jwks: None,
        subject_type: if args.public_subject { SubjectType::Public } else { SubjectType::Pairwise },
        sector_identifier_host: match (args.sector, args.sector_identifier_uri) {
            (_, Some(uri)) => {
                let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
                Some(
                    mitsprache_web::identity::sector_host(&http, uri, args.redirect_uris)
                        .await
                        .map_err(|e| anyhow::anyhow!(e))?,
                )
            }
            (Some(host), None) => Some(host.to_owned()),
            (None, None) => None,
        },
        first_party: args.first_party,
        backchannel_logout_uri: args.backchannel_logout_uri.map(str::to_owned),
        machine_role: args.machine_role,
        id_token_alg: match args.id_token_alg {
            None => None,
            Some(a) => Some(mitsprache_oidc::jose::Alg::parse(a).with_context(|| format!("`{a}`: ES256 or RS256"))?),
        },
    };
    let now = SystemClock.now();
    let (client, shown) =
        registration.into_client(id(&OsRandom), secret(&OsRandom), now).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = open(config).await?;
    store.identity().put_client(&client, None, now.unix_timestamp()).await?;
    let out = serde_json::json!({
        "client_id": client.id,
        "client_secret": shown,
        "name": client.name,
        "redirect_uris": client.redirect_uris,
        "grant_types": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "token_endpoint_auth_method": client.auth_method.as_str(),
        "issuer": config.public_url.trim_end_matches('/'),
    });
    write_stdout(&format!("{}\n", serde_json::to_string_pretty(&out)?))
}

pub async fn client_list(config: &Config) -> anyhow::Result<()> {
    let store = open(config).await?;
    let mut out = String::new();
    for c in store.identity().clients().await? {
        out.push_str(&format!("{}\t{}\t{}\n", c.id, c.name, c.redirect_uris.join(" ")));
    }
    write_stdout(&out)
}

pub async fn keys_rotate(config: &Config) -> anyhow::Result<()> {
    let store = open(config).await?;
    let now = SystemClock.now().unix_timestamp();
    let kids = mitsprache_web::identity::keys::rotate(&store, now, &OsRandom).await?;
    write_stdout(&format!(
        "new signing keys: {}\nold public keys stay published until the tokens they signed have expired\n",
        kids.join(", ")
    ))
}
