//! Accounts: the one path that creates them (registration, the CLI, admins), address
//! verification, login with its limits, password reset, the profile, the data export and
//! deletion.
//!
//! Answers never reveal whether an address has an account: a registration with a taken address
//! looks exactly like a new one (the owner learns by mail), login failures look the same, reset
//! requests too, and unknown addresses cost the same Argon2id work as known ones. Links and
//! mails are made after the answer, so their work does not show in its timing either.

use crate::ports::Mail;
use crate::{Current, Error, Forbidden, Hub, Result};
use mitsprache_catalogue::ValidationError;
use mitsprache_domain::{Account, Email, Locale, Role};
use mitsprache_oidc::grant::Session;
use mitsprache_oidc::password::{self, PasswordError};
use mitsprache_oidc::random::{OsRandom, digest, id, secret};
use mitsprache_store::{
    ConsentWithClient, LinkPurpose, NewMailLink, PasswordReset, ProfileChange, SessionSelector, UpstreamLink,
};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

const VERIFY_LINK: Duration = Duration::days(7);
const RESET_LINK: Duration = Duration::hours(1);

/// An account to create: by registration (unverified, citizen), by an operator, or by a first
/// login through an upstream provider.
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub password: Option<&'a str>,
    pub name: Option<&'a str>,
    pub locale: Locale,
    pub role: Role,
    /// An operator (or the upstream provider) vouches for the address; a registration must
    /// confirm it by mail.
    pub verified: bool,
    /// The upstream provider and subject the account is linked to, stored with it.
    pub upstream: Option<(&'a str, &'a str)>,
}

/// A person's registration through the form.
#[derive(Debug, Clone, Copy)]
pub struct Registration<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub name: &'a str,
    pub locale: Locale,
    /// The client address, for the registration rate limit.
    pub ip: &'a str,
    /// The authorization request the registration interrupted, carried into the mailed link.
    pub pending: Option<&'a str>,
}

#[derive(Debug, Clone, Copy)]
pub struct Login<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub ip: &'a str,
}

/// What a reset link led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    Done,
    /// Unknown, expired or used.
    InvalidLink,
}

/// What the account page shows: the tools the person consented to, and the live sessions.
#[derive(Debug, Clone)]
pub struct Overview {
    pub consents: Vec<ConsentWithClient>,
    pub sessions: Vec<Session>,
}

/// Everything the hub holds about a person (GDPR Art. 15 and 20).
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub account: ExportedAccount,
    pub consents: Vec<ExportedConsent>,
    pub grants: Vec<ExportedGrant>,
    pub sessions: Vec<ExportedSession>,
    pub upstream_logins: Vec<ExportedUpstreamLogin>,
    /// The contributions tools pushed in the person's name, as the standard's records.
    pub contributions: Vec<ExportedContribution>,
    /// The processes the person follows (the hub's ids).
    pub follows: Vec<ExportedFollow>,
    /// `daily`, `weekly` or `none`; absent before the person followed anything.
    pub digest: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedContribution {
    pub id: String,
    /// The tool's client id.
    pub source: String,
    pub external_id: String,
    pub record: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedFollow {
    pub process: String,
    pub since: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedAccount {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    pub locale: String,
    pub role: String,
    pub has_password: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedConsent {
    pub client_id: String,
    pub scope: String,
    pub granted_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedGrant {
    pub client_id: String,
    pub tool: Option<String>,
    /// The pairwise subject the tool knows the person by.
    pub subject_seen_by_tool: Option<String>,
    pub scope: String,
    pub granted_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedSession {
    pub created_at: i64,
    pub auth_time: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedUpstreamLogin {
    pub provider: String,
    pub subject: String,
}

fn field_error(field: &str, problem: &str) -> ValidationError {
    ValidationError { record: "account".into(), field: field.into(), message: problem.into() }
}

/// The stable code of a password policy failure (`register.password-<code>` on the page).
fn password_problem(e: &PasswordError) -> &'static str {
    match e {
        PasswordError::TooShort => "too-short",
        PasswordError::TooLong => "too-long",
        PasswordError::Control => "control",
        PasswordError::Guessable | PasswordError::Corrupt => "guessable",
    }
}

/// Checks a new password against the policy with the person's own words as context.
pub fn check_password(password: &str, email: Option<&Email>, name: Option<&str>) -> Result<()> {
    let mut context: Vec<&str> = Vec::new();
    if let Some(email) = email {
        context.push(email.as_str());
        context.push(email.local_part());
    }
    context.extend(name);
    password::check_policy(password, &context)
        .map_err(|e| Error::Validation(vec![field_error("password", password_problem(&e))]))
}

impl Hub {
    /// The one path that creates an account: the address is parsed by the one rule
    /// ([`Email::parse`]), the password checked by the one policy and hashed on the hashing
    /// threads. `Error::Validation` names each field that is wrong; `Conflict` when the address
    /// has an account.
    pub async fn create_account(&self, new: NewAccount<'_>) -> Result<Account> {
        let email = Email::parse(new.email);
        let mut problems = Vec::new();
        if email.is_err() {
            problems.push(field_error("email", "invalid"));
        }
        let name = new.name.map(|n| n.trim().chars().take(200).collect::<String>()).filter(|n| !n.is_empty());
        if let Some(password) = new.password
            && let Err(Error::Validation(mut p)) = check_password(password, email.as_ref().ok(), name.as_deref())
        {
            problems.append(&mut p);
        }
        let Ok(email) = email else { return Err(Error::Validation(problems)) };
        if !problems.is_empty() {
            return Err(Error::Validation(problems));
        }
        let password_hash = match new.password {
            Some(password) => Some(self.hash_password(password).await?),
            None => None,
        };
        let now = self.now();
        let account = Account {
            id: id(self.random()),
            email,
            email_verified: new.verified,
            password_hash,
            name,
            locale: new.locale,
            role: new.role,
            created_at: now,
            updated_at: now,
        };
        match new.upstream {
            None => self.store().accounts().create(&account).await?,
            Some((provider, subject)) => {
                let link = UpstreamLink {
                    provider: provider.to_owned(),
                    subject: subject.to_owned(),
                    account_id: account.id.clone(),
                    created_at: now,
                };
                self.store().upstream_links().create_account(&account, &link).await?
            }
        }
        tracing::info!(role = account.role.as_str(), upstream = new.upstream.is_some(), "account created");
        Ok(account)
    }

    async fn hash_password(&self, password: &str) -> Result<String> {
        let cost = self.config().password_cost;
        let presented = password.to_owned();
        self.hash(move || password::hash(&presented, cost, &OsRandom))
            .await?
            .map_err(|e| Error::Internal(e.to_string()))
    }

    /// A registration through the form. New address or taken, the answer is the same (`Ok`)
    /// and nobody is signed in: a new account gets a link to confirm its address, the owner of
    /// a taken one a note that someone tried (with the reset link). Both cost a hash and a mail.
    pub async fn register(&self, r: Registration<'_>) -> Result<()> {
        if !self.config().open_registration {
            return Err(Error::NotFound);
        }
        let hits =
            self.store().rate_limits().hit(&format!("register:ip:{}", r.ip), self.now(), Duration::hours(1)).await?;
        if hits.count > 20 {
            return Err(Error::RateLimited { retry_after: hits.resets_at - self.now() });
        }
        let new = NewAccount {
            email: r.email,
            password: Some(r.password),
            name: Some(r.name),
            locale: r.locale,
            role: Role::Citizen,
            verified: false,
            upstream: None,
        };
        // The mail goes out after the answer in both cases, so that neither its link nor the
        // mail server's speed tells a new address from a taken one (probe finding L7).
        let hub = self.clone();
        match self.create_account(new).await {
            Ok(account) => {
                let pending = r.pending.map(str::to_owned);
                tokio::spawn(async move {
                    if let Err(e) = hub.send_verification(&account, pending.as_deref()).await {
                        tracing::error!(error = %e, "the verification link could not be made");
                    }
                });
                Ok(())
            }
            Err(Error::Conflict(_)) => {
                let email = Email::lookup(r.email);
                let locale = r.locale;
                tokio::spawn(async move {
                    let owner = hub.store().accounts().by_email(&email).await;
                    let locale = owner.ok().flatten().map_or(locale, |a| a.locale);
                    let reset = format!("{}/passwort-vergessen", hub.config().issuer);
                    hub.send_mail(email.as_str(), locale, "taken", &reset).await;
                });
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn send_verification(&self, account: &Account, pending: Option<&str>) -> Result<()> {
        let token = secret(self.random());
        let link = NewMailLink {
            digest: &digest(&token),
            account_id: &account.id,
            purpose: LinkPurpose::Verify,
            expires_at: self.now() + VERIFY_LINK,
        };
        self.store().mail_links().add(&link).await?;
        let mut url = format!("{}/email-bestaetigen?token={token}", self.config().issuer);
        if let Some(reference) = pending {
            url.push_str(&format!("&anfrage={reference}"));
        }
        self.send_mail(account.email.as_str(), account.locale, "verify", &url).await;
        Ok(())
    }

    /// The end of every mail: who runs the hub, how to reach them, and its imprint.
    pub(crate) fn mail_footer(&self, locale: Locale) -> String {
        let o = &self.config().operator;
        let de = locale == Locale::De;
        let mut out = String::from("\n\n-- \n");
        match &o.name {
            Some(name) => out.push_str(&format!("{} {name}", if de { "Betrieben von" } else { "Run by" })),
            None => out.push_str("mitsprache"),
        }
        if let Some(contact) = &o.contact {
            out.push_str(&format!(" · {contact}"));
        }
        let imprint = match &o.imprint {
            Some(crate::LegalText::Url(url)) => url.clone(),
            _ => format!("{}/impressum", self.config().issuer),
        };
        out.push_str(&format!("\n{}: {imprint}\n", if de { "Impressum" } else { "Imprint" }));
        out
    }

    /// Sends the mail `key` (every mail carries one link). A failure is logged, not returned:
    /// the answer to the person must not depend on it.
    async fn send_mail(&self, to: &str, locale: Locale, key: &str, link: &str) {
        let t = mitsprache_i18n::messages(locale);
        let mail = Mail {
            to: to.to_owned(),
            subject: t.get(&format!("mail.{key}.subject")).to_owned(),
            body: t.fmt(&format!("mail.{key}.body"), &[("link", &link)]).replace("\\n", "\n")
                + &self.mail_footer(locale),
            reply_to: None,
            list_unsubscribe: None,
        };
        if let Err(e) = self.mailer().send(mail).await {
            // The address is personal data; the error and the purpose are enough to act on.
            tracing::error!(error = %e, purpose = key, "sending mail failed");
        }
    }

    /// Confirms an address with its mailed link; false when the link is unknown, expired or used.
    pub async fn verify_email(&self, token: &str) -> Result<bool> {
        let now = self.now();
        match self.store().mail_links().consume(&digest(token), LinkPurpose::Verify, now).await? {
            Some(account_id) => {
                self.store().accounts().mark_verified(&account_id, now).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Checks a password login. Each attempt is counted before the password is checked, in one
    /// statement per limit, so requests that arrive together cannot slip past it: per account
    /// `login_attempts` in the window, per client address six times as many.
    ///
    /// `Unauthenticated` for a wrong address or password (the same answer for both),
    /// `RateLimited` once a limit is used up, `Forbidden(Unverified)` for the right password of
    /// an address not confirmed yet (a fresh link is on its way).
    pub async fn login(&self, login: Login<'_>) -> Result<Account> {
        let config = self.config();
        let now = self.now();
        let limits = self.store().rate_limits();
        // Every address gets its own bucket, one that does not parse as well, so it costs what a
        // known one does; and one stored under an older rule can still log in.
        let email = Email::lookup(login.email);
        let account_bucket = format!("login:account:{}", digest(email.as_str()));
        let ip_bucket = format!("login:ip:{}", login.ip);
        let per_account = limits.hit(&account_bucket, now, config.login_window).await?;
        if per_account.count > config.login_attempts {
            tracing::warn!(ip = %login.ip, "login refused: too many attempts for the account");
            return Err(Error::RateLimited { retry_after: per_account.resets_at - now });
        }
        let per_ip = limits.hit(&ip_bucket, now, config.login_window).await?;
        if per_ip.count > config.login_attempts * 6 {
            tracing::warn!(ip = %login.ip, "login refused: too many attempts from the address");
            return Err(Error::RateLimited { retry_after: per_ip.resets_at - now });
        }
        let account = self.store().accounts().by_email(&email).await?;
        let cost = config.password_cost;
        let stored = account.as_ref().and_then(|a| a.password_hash.clone());
        let decoy = self.decoy_hash().await?;
        let presented = login.password.to_owned();
        let (ok, rehash) = self
            .hash(move || {
                let hash = stored.as_deref().unwrap_or(&decoy);
                let ok = password::verify(&presented, hash).unwrap_or(false) && stored.is_some();
                let rehash = ok && password::needs_rehash(hash, cost);
                (ok, rehash.then(|| password::hash(&presented, cost, &OsRandom)))
            })
            .await?;
        let Some(account) = account.filter(|_| ok) else {
            tracing::info!(ip = %login.ip, "login failed");
            return Err(Error::Unauthenticated);
        };
        // The right password: this attempt does not count against the account or the address.
        limits.clear(&account_bucket).await?;
        limits.undo(&ip_bucket).await?;
        if let Some(Ok(hash)) = rehash {
            self.store().accounts().set_password(&account.id, &hash, now).await?;
            tracing::info!("password rehashed with the current Argon2id parameters");
        }
        if !account.email_verified {
            // At most one fresh link an hour, whatever is tried.
            let resend = limits.hit(&format!("verify-mail:{}", account.id), now, Duration::hours(1)).await?;
            if resend.count == 1 {
                self.send_verification(&account, None).await?;
            }
            return Err(Error::Forbidden(Forbidden::Unverified));
        }
        Ok(account)
    }

    /// The hash an unknown address's login is checked against, made once per instance.
    async fn decoy_hash(&self) -> Result<String> {
        let cost = self.config().password_cost;
        let hub = self.clone();
        self.inner
            .decoy
            .get_or_try_init(|| async move {
                hub.hash(move || password::decoy(cost, &OsRandom).map_err(|e| Error::Internal(e.to_string()))).await?
            })
            .await
            .cloned()
    }

    /// Sends a reset link when the address has an account; the answer is the same either way.
    pub async fn request_reset(&self, email: &str, ip: &str) -> Result<()> {
        let now = self.now();
        let limits = self.store().rate_limits();
        let email = Email::lookup(email);
        // Limits mail sent to one address and requests from one client.
        let allowed = limits.hit(&format!("reset:ip:{ip}"), now, Duration::hours(1)).await?.count <= 20
            && limits.hit(&format!("reset:account:{}", digest(email.as_str())), now, Duration::hours(1)).await?.count
                <= 3;
        if allowed && let Some(account) = self.store().accounts().by_email(&email).await? {
            // The link is made and mailed after the answer: a known address must not answer
            // later than an unknown one (probe finding L7).
            let hub = self.clone();
            tokio::spawn(async move {
                if let Err(e) = hub.send_reset(&account).await {
                    tracing::error!(error = %e, "the reset link could not be made");
                }
            });
        }
        Ok(())
    }

    async fn send_reset(&self, account: &Account) -> Result<()> {
        let token = secret(self.random());
        let link = NewMailLink {
            digest: &digest(&token),
            account_id: &account.id,
            purpose: LinkPurpose::Reset,
            expires_at: self.now() + RESET_LINK,
        };
        self.store().mail_links().add(&link).await?;
        let url = format!("{}/passwort-neu?token={token}", self.config().issuer);
        self.send_mail(account.email.as_str(), account.locale, "reset", &url).await;
        Ok(())
    }

    /// Whether a reset link is still good (to show its form).
    pub async fn reset_link_valid(&self, token: &str) -> Result<bool> {
        Ok(self.store().mail_links().account_of(&digest(token), LinkPurpose::Reset, self.now()).await?.is_some())
    }

    /// Sets a new password with a reset link. Whoever knew the old password loses everything
    /// it gave them: every session ends and every grant, `offline_access` ones included.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<Reset> {
        let now = self.now();
        let links = self.store().mail_links();
        let Some(account_id) = links.account_of(&digest(token), LinkPurpose::Reset, now).await? else {
            return Ok(Reset::InvalidLink);
        };
        let Some(account) = self.store().accounts().find(&account_id).await? else { return Ok(Reset::InvalidLink) };
        // Checked before the link is used up, so a refused password leaves the link working.
        check_password(new_password, Some(&account.email), account.name.as_deref())?;
        let hash = self.hash_password(new_password).await?;
        // The link used up, the password set, the address confirmed (the mail proved control of
        // it), every session and grant ended: one transaction.
        let reset = PasswordReset { link: &digest(token), account_id: &account_id, hash: &hash, now: self.now() };
        let Some(tools) = self.store().accounts().reset_password(&reset, |tool| self.logout_job(tool)).await? else {
            return Ok(Reset::InvalidLink);
        };
        if !tools.is_empty() {
            self.jobs_queued();
        }
        self.store().rate_limits().clear(&format!("login:account:{}", digest(account.email.as_str()))).await?;
        tracing::info!("password reset");
        Ok(Reset::Done)
    }

    pub async fn update_profile(&self, account_id: &str, name: &str, locale: Locale) -> Result<()> {
        let name: String = name.trim().chars().take(200).collect();
        let change =
            ProfileChange { account_id, name: (!name.is_empty()).then_some(name.as_str()), locale, now: self.now() };
        Ok(self.store().accounts().set_profile(&change).await?)
    }

    /// Withdraws consent for one tool: its grants end, so its tokens stop working.
    pub async fn withdraw_consent(&self, account_id: &str, client_id: &str) -> Result<()> {
        Ok(self.store().consents().withdraw(account_id, client_id, self.now()).await?)
    }

    pub async fn logout_everywhere(&self, account_id: &str) -> Result<()> {
        self.logout(SessionSelector::Account(account_id)).await.map(|_| ())
    }

    pub async fn account_overview(&self, account_id: &str) -> Result<Overview> {
        Ok(Overview {
            consents: self.store().consents().of_account(account_id).await?,
            sessions: self.store().sessions().of_account(account_id, self.now()).await?,
        })
    }

    pub async fn export(&self, account: &Account) -> Result<Export> {
        let store = self.store();
        let now = self.now();
        let ts = OffsetDateTime::unix_timestamp;
        let grants = store
            .grants()
            .live_of_account(&account.id)
            .await?
            .into_iter()
            .map(|g| ExportedGrant {
                tool: g.client.as_ref().map(|c| c.name.clone()),
                subject_seen_by_tool: g.client.as_ref().map(|c| self.subject_for(c, &account.id)),
                client_id: g.grant.client_id,
                scope: g.grant.scope.to_string(),
                granted_at: ts(g.grant.created_at),
            })
            .collect();
        Ok(Export {
            account: ExportedAccount {
                id: account.id.clone(),
                email: account.email.to_string(),
                email_verified: account.email_verified,
                name: account.name.clone(),
                locale: account.locale.tag().to_owned(),
                role: account.role.as_str().to_owned(),
                has_password: account.password_hash.is_some(),
                created_at: ts(account.created_at),
                updated_at: ts(account.updated_at),
            },
            consents: store
                .consents()
                .of_account(&account.id)
                .await?
                .into_iter()
                .map(|c| ExportedConsent {
                    client_id: c.consent.client_id,
                    scope: c.consent.scope.to_string(),
                    granted_at: ts(c.consent.granted_at),
                })
                .collect(),
            grants,
            sessions: store
                .sessions()
                .of_account(&account.id, now)
                .await?
                .into_iter()
                .map(|s| ExportedSession {
                    created_at: ts(s.created_at),
                    auth_time: ts(s.auth_time),
                    expires_at: ts(s.expires_at),
                    user_agent: s.user_agent,
                })
                .collect(),
            upstream_logins: store
                .upstream_links()
                .of_account(&account.id)
                .await?
                .into_iter()
                .map(|l| ExportedUpstreamLogin { provider: l.provider, subject: l.subject })
                .collect(),
            contributions: self
                .all_contributions(&account.id)
                .await?
                .into_iter()
                .map(|r| ExportedContribution {
                    record: r.doc.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default(),
                    id: r.id,
                    source: r.source,
                    external_id: r.external_id,
                })
                .collect(),
            follows: store
                .participation()
                .follows(&account.id)
                .await?
                .into_iter()
                .map(|f| ExportedFollow { process: f.record_id, since: ts(f.created_at) })
                .collect(),
            digest: store.participation().settings(&account.id).await?.map(|s| s.digest.as_str().to_owned()),
        })
    }

    /// Deletes the account (after its password, when it has one). In the same transaction it
    /// queues a back-channel logout for every tool one of its sessions used and a deletion
    /// event for every tool the person used that registered a receiver, and takes the person's
    /// subject off the contributions tools pushed in their name (they stay in the tools, on
    /// the tools' terms). Returns the token of the receipt page that shows the deliveries.
    pub async fn delete_account(&self, current: &Current, password: &str) -> Result<String> {
        if let Some(hash) = current.account.password_hash.clone() {
            let presented = password.to_owned();
            if !self.hash(move || password::verify(&presented, &hash).unwrap_or(false)).await? {
                return Err(Error::Unauthenticated);
            }
        }
        let account_id = &current.account.id;
        let now = self.now();
        let token = secret(self.random());
        let receipt = digest(&token);
        let txn = id(self.random());
        let every_pair = self.author_pairs_of(account_id).await?;
        let wrote: std::collections::HashSet<String> =
            self.store().participation().authored(&every_pair, 100_000).await?.into_iter().map(|r| r.source).collect();
        // Only the tools that pushed something in the person's name have contributions to unlink.
        let pairs: Vec<(String, String)> =
            every_pair.into_iter().filter(|(source, _)| wrote.contains(source)).collect();
        let mut used: Vec<String> = self.store().participation().clients_of_account(account_id).await?;
        // A tool that only pushed contributions in the person's name holds their data too.
        used.extend(pairs.iter().map(|(source, _)| source.clone()));
        used.sort();
        used.dedup();
        let mut deliveries = Vec::new();
        for client_id in used {
            let Some(client) = self.client(&client_id).await? else { continue };
            let Some(receiver) = &client.deletion_receiver else { continue };
            let delivery = mitsprache_store::DeletionDelivery {
                id: id(self.random()),
                receipt: receipt.clone(),
                client_id: client.id.clone(),
                method: receiver.method().to_owned(),
                state: "pending".into(),
                attempts: 0,
                last_error: None,
                created_at: now,
                updated_at: now,
            };
            let job = crate::jobs::DeletionEvent {
                delivery: delivery.id.clone(),
                client_id: client.id.clone(),
                sub: self.subject_for(&client, account_id),
                txn: txn.clone(),
            };
            deliveries.push((delivery, crate::jobs::new_job(self, &job, now)));
        }
        let purge = mitsprache_store::Purge { now, deliveries, authors: pairs };
        let owed = !purge.deliveries.is_empty();
        let tools = self.store().accounts().delete(account_id, |tool| self.logout_job(tool), &purge).await?;
        if owed || !tools.is_empty() {
            self.jobs_queued();
        }
        tracing::info!(deletion_events = purge.deliveries.len(), "account deleted");
        Ok(token)
    }

    /// The deliveries of a deletion, by its receipt token.
    pub async fn deletion_receipt(&self, token: &str) -> Result<Vec<mitsprache_store::DeletionDelivery>> {
        Ok(self.store().participation().deliveries(&digest(token)).await?)
    }

    /// The latest deletion deliveries, for the admin log.
    pub async fn deletion_log(&self, limit: i64) -> Result<Vec<mitsprache_store::DeletionDelivery>> {
        Ok(self.store().participation().recent_deliveries(limit).await?)
    }

    /// The first `limit` accounts by address, for the admin page.
    pub async fn accounts(&self, limit: i64) -> Result<Vec<Account>> {
        Ok(self.store().accounts().list(limit).await?)
    }

    /// An admin or operator gives an account a role.
    pub async fn set_role(&self, account_id: &str, role: Role) -> Result<()> {
        self.store().accounts().set_role(account_id, role, self.now()).await?;
        tracing::info!(role = role.as_str(), "role changed");
        Ok(())
    }

    /// The account of an address, for operators (`mitsprache user role`).
    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>> {
        let email = Email::parse(email).map_err(|_| Error::Validation(vec![field_error("email", "invalid")]))?;
        Ok(self.store().accounts().by_email(&email).await?)
    }
}
