//! The front channel of the OpenID provider: an authorization request, the login and consent it
//! may need, and the code it ends with.
//!
//! A validated request that needs a login or a consent is kept in the store under a random
//! reference (`anfrage`), so any instance can continue it. A request whose client or redirect
//! URI is wrong is refused with a page and never redirected (RFC 9700 §4.11).

use crate::{Current, Error, Hub, Result};
use mitsprache_domain::Locale;
use mitsprache_oidc::authorize::{self as az, AuthorizeError, AuthorizeRequest, Delivery, ErrorResponse, PageError};
use mitsprache_oidc::client::Client;
use mitsprache_oidc::grant::{Grant, Scope};
use mitsprache_oidc::params::Params;
use mitsprache_oidc::random::{digest, id, secret};
use mitsprache_store::{Consent, NewCode, NewPending};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// How long a person has to log in and consent before the request must be started again.
const PENDING: Duration = Duration::minutes(30);

/// What an authorization request needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A login (page `/anmelden?anfrage=…`), in the language the tool asked for.
    Login { reference: String, locale: Option<Locale> },
    /// The person's consent (page `/oidc/zustimmung?anfrage=…`).
    Consent { reference: String },
    /// The answer to the tool: a code or an error, at its redirect URI.
    Respond(Delivery),
}

/// A kept authorization request.
#[derive(Debug, Clone)]
pub struct PendingAuthorization {
    pub reference: String,
    pub request: AuthorizeRequest,
    pub client: Arc<Client>,
    pub created_at: OffsetDateTime,
}

/// Whether a text can be a pending reference (a 256-bit secret, base64url): anything else is
/// refused before it reaches a redirect or the store.
pub fn is_reference(text: &str) -> bool {
    text.len() == 43 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Hub {
    /// A new authorization request (`params` as sent, by GET or POST), for the session `current`.
    /// `Err(PageError)` inside `Ok` when the request must be refused with a page.
    pub async fn authorize(
        &self,
        params: &Params,
        current: Option<&Current>,
    ) -> Result<std::result::Result<Step, PageError>> {
        let client = match az::client_id(params.pairs()) {
            Ok(id) => self.client(id).await?,
            Err(_) => None,
        };
        let request = match az::validate(params.pairs(), client.as_deref()) {
            Ok(r) => r,
            Err(AuthorizeError::Page(e)) => {
                tracing::info!(reason = %e, "authorization request refused with a page");
                return Ok(Err(e));
            }
            Err(AuthorizeError::Redirect(e)) => return Ok(Ok(Step::Respond(e.deliver(&self.config().issuer)))),
        };
        let Some(client) = client else { return Ok(Err(PageError::UnknownClient)) };
        // Without a kept request there is nothing another tab could have used up.
        let step = self.proceed(&client, request, current, None).await?;
        step.map(Ok).ok_or_else(|| Error::Internal("a new request was used up".into()))
    }

    /// A kept request by its reference; `None` when it expired or never was.
    pub async fn pending_authorization(&self, reference: &str) -> Result<Option<PendingAuthorization>> {
        if !is_reference(reference) {
            return Ok(None);
        }
        let Some(kept) = self.store().pending().find(&digest(reference), self.now()).await? else { return Ok(None) };
        let request: AuthorizeRequest =
            serde_json::from_str(&kept.request).map_err(|e| Error::Internal(format!("a kept request: {e}")))?;
        let Some(client) = self.client(&request.client_id).await? else { return Ok(None) };
        Ok(Some(PendingAuthorization { reference: reference.to_owned(), request, client, created_at: kept.created_at }))
    }

    /// Continues a kept request after a login; `None` when it expired.
    pub async fn resume_authorization(&self, reference: &str, current: Option<&Current>) -> Result<Option<Step>> {
        let Some(p) = self.pending_authorization(reference).await? else { return Ok(None) };
        let pending = Some((p.reference.clone(), p.created_at));
        self.proceed(&p.client, p.request, current, pending).await
    }

    /// The person's answer on the consent page; `None` when the request expired.
    pub async fn answer_consent(&self, reference: &str, current: &Current, allow: bool) -> Result<Option<Step>> {
        let Some(p) = self.pending_authorization(reference).await? else { return Ok(None) };
        if !allow {
            self.store().pending().take(&digest(reference)).await?;
            let e = ErrorResponse {
                redirect_uri: p.request.redirect_uri.clone(),
                response_mode: p.request.response_mode,
                state: p.request.state.clone(),
                error: "access_denied",
                description: "the person declined".into(),
            };
            return Ok(Some(Step::Respond(e.deliver(&self.config().issuer))));
        }
        // Consent covers what was asked now plus what was granted before.
        let consents = self.store().consents();
        let asked = Scope::of(p.request.scope.iter().cloned());
        let scope = match consents.find(&current.account.id, &p.client.id).await? {
            Some(previous) => asked.union(&previous.scope),
            None => asked,
        };
        let consent = Consent {
            account_id: current.account.id.clone(),
            client_id: p.client.id.clone(),
            scope,
            granted_at: self.now(),
        };
        consents.put(&consent).await?;
        let pending = Some((p.reference.clone(), p.created_at));
        self.proceed(&p.client, p.request, Some(current), pending).await
    }

    /// What the request still needs, given the session; `pending` is the kept request's
    /// reference and creation time (a login after it satisfies `prompt=login` and `max_age`).
    /// `None` when a kept request was used up meanwhile (a second tab, a form sent twice): each
    /// kept request yields at most one code.
    async fn proceed(
        &self,
        client: &Client,
        request: AuthorizeRequest,
        current: Option<&Current>,
        pending: Option<(String, OffsetDateTime)>,
    ) -> Result<Option<Step>> {
        let now = self.now();
        let issuer = &self.config().issuer;
        let fail = |error: &'static str, description: &str| {
            let e = ErrorResponse {
                redirect_uri: request.redirect_uri.clone(),
                response_mode: request.response_mode,
                state: request.state.clone(),
                error,
                description: description.to_owned(),
            };
            Step::Respond(e.deliver(issuer))
        };
        let fresh_login = |c: &Current| pending.as_ref().is_some_and(|(_, created)| c.session.auth_time >= *created);
        let hinted_subject = match &request.id_token_hint {
            Some(hint) => match self.hinted_subject(client, hint) {
                Some(sub) => Some(sub),
                None => {
                    return Ok(Some(fail(
                        "invalid_request",
                        "id_token_hint is not an ID token of this provider for this client",
                    )));
                }
            },
            None => None,
        };
        let needs_login = match current {
            None => true,
            Some(c) => {
                let too_old = request.max_age.is_some_and(|max| (now - c.session.auth_time).whole_seconds() > max);
                let sub = self.subject_for(client, &c.account.id);
                // login_hint is an address, or the subject this tool knows (the portal's
                // "Mitmachen" passes it through the tool's initiate_login_uri): a hint at
                // someone else asks for their login, not for a silent code of this session.
                let hint_other = request.login_hint.as_deref().is_some_and(|h| {
                    if h.contains('@') { !h.eq_ignore_ascii_case(c.account.email.as_str()) } else { h != sub }
                });
                let other_person = hint_other || hinted_subject.as_ref().is_some_and(|s| *s != sub);
                !fresh_login(c) && (request.prompt.login || too_old || other_person)
            }
        };
        if needs_login {
            if request.prompt.none {
                return Ok(Some(fail("login_required", "no session satisfies the request")));
            }
            let locale = request.ui_locales.as_deref().and_then(|l| l.split(' ').find_map(Locale::from_tag));
            let reference = match &pending {
                Some((reference, _)) => reference.clone(),
                None => self.keep_pending(&request).await?,
            };
            return Ok(Some(Step::Login { reference, locale }));
        }
        let Some(current) = current else { return Err(Error::Internal("the session vanished".into())) };
        let asked = Scope::of(request.scope.iter().cloned());
        let consent = self.store().consents().find(&current.account.id, &client.id).await?;
        let consented = client.first_party || consent.as_ref().is_some_and(|c| c.scope.covers(&asked));
        // prompt=consent needs a consent given after the request was kept.
        let consent_just_given = pending.as_ref().is_some_and(|(_, created)| {
            request.prompt.consent
                && consent.as_ref().is_some_and(|c| c.granted_at >= *created && c.scope.covers(&asked))
        });
        if !consented || (request.prompt.consent && !consent_just_given) {
            if request.prompt.none {
                return Ok(Some(fail(
                    "consent_required",
                    "the person has not agreed to share these claims with the tool",
                )));
            }
            let reference = match &pending {
                Some((reference, _)) => reference.clone(),
                None => self.keep_pending(&request).await?,
            };
            return Ok(Some(Step::Consent { reference }));
        }
        if let Some((reference, _)) = &pending
            && !self.store().pending().take(&digest(reference)).await?
        {
            tracing::info!(client = %client.id, "a kept authorization request was used up already");
            return Ok(None);
        }
        self.issue_code(client, &request, current).await.map(Some)
    }

    /// The subject an `id_token_hint` names, if it is an ID token this provider issued to
    /// `client` (expired ones are fine: OIDC Core §3.1.2.1).
    fn hinted_subject(&self, client: &Client, hint: &str) -> Option<String> {
        let claims = self.provider().id_token_hint(&self.keys(), hint)?;
        if !mitsprache_oidc::jose::audience_includes(&claims, &client.id) {
            return None;
        }
        claims.get("sub").and_then(|v| v.as_str()).map(str::to_owned)
    }

    async fn keep_pending(&self, request: &AuthorizeRequest) -> Result<String> {
        let reference = secret(self.random());
        let json = serde_json::to_string(request).map_err(|e| Error::Internal(e.to_string()))?;
        let now = self.now();
        let kept =
            NewPending { digest: &digest(&reference), request: &json, created_at: now, expires_at: now + PENDING };
        self.store().pending().put(&kept).await?;
        Ok(reference)
    }

    async fn issue_code(&self, client: &Client, request: &AuthorizeRequest, current: &Current) -> Result<Step> {
        let now = self.now();
        let code = secret(self.random());
        let grant = Grant {
            id: id(self.random()),
            client_id: client.id.clone(),
            account_id: current.account.id.clone(),
            sid: Some(current.session.sid.clone()),
            scope: Scope::of(request.scope.iter().cloned()),
            auth_time: current.session.auth_time,
            amr: current.session.amr,
            created_at: now,
            revoked_at: None,
        };
        let new = NewCode {
            grant: &grant,
            digest: &digest(&code),
            redirect_uri: &request.redirect_uri,
            code_challenge: request.code_challenge.as_deref(),
            nonce: request.nonce.as_deref(),
            expires_at: now + Duration::seconds(self.config().lifetimes.code),
        };
        self.store().grants().create_with_code(&new).await?;
        tracing::info!(client = %client.id, pkce = request.code_challenge.is_some(), "authorization code issued");
        Ok(Step::Respond(az::deliver(
            &request.redirect_uri,
            request.response_mode,
            request.state.as_deref(),
            &self.config().issuer,
            vec![("code".into(), code)],
        )))
    }
}
