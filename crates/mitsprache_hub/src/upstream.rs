//! Login through an upstream OpenID provider the operator configured (a state Servicekonto, a
//! municipal Keycloak): the hub is a relying party there, with PKCE, state and nonce, and links
//! the upstream subject to a hub account. Tools still see only the hub and its pairwise subjects.

use crate::accounts::NewAccount;
use crate::ports::HttpRequest;
use crate::{Error, Hub, Result, UpstreamProvider};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mitsprache_domain::{Locale, Role};
use mitsprache_oidc::jose::{Jwks, audience_includes, verify};
use mitsprache_oidc::params::Params;
use mitsprache_oidc::random::{digest, secret};
use mitsprache_store::NewPending;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Duration;

/// How long a person may take at the upstream provider.
const PENDING: Duration = Duration::minutes(15);

#[derive(Serialize, Deserialize)]
struct Waiting {
    provider: String,
    verifier: String,
    nonce: String,
    anfrage: String,
}

/// How an upstream login ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamLogin {
    /// No provider of that id is configured.
    UnknownProvider,
    /// The answer belongs to no login the hub started (or one that took too long).
    Expired,
    /// The provider refused, or its answer did not hold up (issuer, audience, nonce, expiry).
    Failed,
    /// The provider sent no address, and there is no linked account to log in.
    NoEmail,
    /// The address has a hub account of its own, which an upstream login never takes over.
    EmailTaken,
    /// Logged in as `account_id`; `anfrage` is the authorization request to continue.
    LoggedIn { account_id: String, anfrage: Option<String> },
}

/// A provider that cannot be reached or answers nonsense: worth a retry, not the hub's bug.
fn upstream_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("upstream {what}: {e}").into())
}

impl Hub {
    fn upstream(&self, provider: &str) -> Option<&UpstreamProvider> {
        self.config().upstream.iter().find(|u| u.id == provider)
    }

    fn callback_url(&self, provider: &str) -> String {
        format!("{}/anmelden/extern/{provider}/zurueck", self.config().issuer)
    }

    async fn upstream_metadata(&self, issuer: &str) -> Result<Value> {
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let meta: Value = self
            .http()
            .send(HttpRequest::get(url))
            .await
            .map_err(|e| upstream_error("discovery", e))?
            .json()
            .map_err(|e| upstream_error("discovery", e))?;
        // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
        if meta.get("issuer").and_then(Value::as_str) != Some(issuer) {
            return Err(upstream_error("discovery", "the document names another issuer"));
        }
        Ok(meta)
    }

    /// Where to send the person to log in at `provider`; `None` for an unknown provider.
    pub async fn start_upstream_login(&self, provider: &str, anfrage: &str, locale: Locale) -> Result<Option<String>> {
        let Some(upstream) = self.upstream(provider).cloned() else { return Ok(None) };
        let meta = self.upstream_metadata(&upstream.issuer).await?;
        let endpoint = meta
            .get("authorization_endpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| upstream_error("discovery", "no authorization endpoint"))?;
        let (state, nonce, verifier) = (secret(self.random()), secret(self.random()), secret(self.random()));
        let challenge = URL_SAFE_NO_PAD.encode(mitsprache_oidc::pkce::s256(&verifier));
        let waiting =
            Waiting { provider: provider.to_owned(), verifier, nonce: nonce.clone(), anfrage: anfrage.to_owned() };
        let json = serde_json::to_string(&waiting).map_err(|e| Error::Internal(e.to_string()))?;
        let now = self.now();
        let key = digest(&format!("upstream:{state}"));
        self.store()
            .pending()
            .put(&NewPending { digest: &key, request: &json, created_at: now, expires_at: now + PENDING })
            .await?;
        let mut url = url::Url::parse(endpoint).map_err(|e| upstream_error("authorization endpoint", e))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &upstream.client_id)
            .append_pair("redirect_uri", &self.callback_url(provider))
            .append_pair("scope", "openid email profile")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("ui_locales", locale.tag());
        Ok(Some(url.to_string()))
    }

    /// The upstream provider's answer (`params`: its redirect's query): exchange the code, check
    /// the ID token, find or create the linked account.
    pub async fn finish_upstream_login(
        &self,
        provider: &str,
        params: &Params,
        locale: Locale,
    ) -> Result<UpstreamLogin> {
        let Some(upstream) = self.upstream(provider).cloned() else { return Ok(UpstreamLogin::UnknownProvider) };
        let now = self.now();
        let key = digest(&format!("upstream:{}", params.get("state").unwrap_or_default()));
        let Some(kept) = self.store().pending().find(&key, now).await? else { return Ok(UpstreamLogin::Expired) };
        // An answer is used once.
        if !self.store().pending().take(&key).await? {
            return Ok(UpstreamLogin::Expired);
        }
        let waiting: Waiting = serde_json::from_str(&kept.request).map_err(|e| Error::Internal(e.to_string()))?;
        if waiting.provider != provider {
            return Ok(UpstreamLogin::Expired);
        }
        if let Some(error) = params.get("error") {
            tracing::info!(provider, error, "upstream login ended without success");
            return Ok(UpstreamLogin::Failed);
        }
        // RFC 9207: the answer must come from the provider the person was sent to.
        if params.get("iss").is_some_and(|iss| iss != upstream.issuer) {
            tracing::warn!(provider, "upstream answer names another issuer (mix-up attempt?)");
            return Ok(UpstreamLogin::Failed);
        }
        let Some(code) = params.get("code") else {
            tracing::warn!(provider, "upstream answer without a code");
            return Ok(UpstreamLogin::Failed);
        };
        // Whatever the provider answers is outside input: a fault there fails this login, it is
        // not an error of the hub.
        let (profile, subject) = match self.upstream_identity(&upstream, &waiting, code, now).await {
            Ok(identity) => identity,
            Err(reason) => {
                tracing::warn!(provider, %reason, "upstream login refused");
                return Ok(UpstreamLogin::Failed);
            }
        };
        let anfrage = Some(waiting.anfrage).filter(|a| !a.is_empty());
        if let Some(account_id) = self.store().upstream_links().account_of(provider, &subject).await? {
            return Ok(UpstreamLogin::LoggedIn { account_id, anfrage });
        }
        let text = |k: &str| profile.get(k).and_then(Value::as_str);
        let Some(email) = text("email") else { return Ok(UpstreamLogin::NoEmail) };
        let new = NewAccount {
            email,
            password: None,
            name: text("name"),
            locale,
            role: Role::Citizen,
            verified: profile.get("email_verified").and_then(Value::as_bool).unwrap_or(false),
            upstream: Some((provider, &subject)),
        };
        // An existing hub account is never taken over by an upstream login: its owner proves the
        // password first (linking from the account page is future work).
        match self.create_account(new).await {
            Ok(account) => {
                tracing::info!(provider, "account created from an upstream login");
                Ok(UpstreamLogin::LoggedIn { account_id: account.id, anfrage })
            }
            Err(Error::Conflict(_)) => Ok(UpstreamLogin::EmailTaken),
            Err(Error::Validation(_)) => Ok(UpstreamLogin::NoEmail),
            Err(e) => Err(e),
        }
    }

    /// Exchanges the code at the provider and checks its ID token: the profile (the verified
    /// claims, or userinfo's when the ID token has no address) and the subject. `Err` names what
    /// the provider got wrong.
    async fn upstream_identity(
        &self,
        upstream: &UpstreamProvider,
        waiting: &Waiting,
        code: &str,
        now: time::OffsetDateTime,
    ) -> std::result::Result<(Value, String), String> {
        let meta = self.upstream_metadata(&upstream.issuer).await.map_err(|e| e.to_string())?;
        let endpoint =
            |k: &str| meta.get(k).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("no {k}"));
        let form = vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.to_owned()),
            ("redirect_uri".into(), self.callback_url(&upstream.id)),
            ("code_verifier".into(), waiting.verifier.clone()),
        ];
        let request = HttpRequest::post_form(endpoint("token_endpoint")?, form)
            .basic_auth(&upstream.client_id, &upstream.client_secret);
        let answer = self.http().send(request).await.map_err(|e| format!("token endpoint: {e}"))?;
        if !(200..300).contains(&answer.status) {
            return Err(format!("token endpoint answered {}", answer.status));
        }
        let tokens: Value = answer.json().map_err(|e| format!("token endpoint: {e}"))?;
        let id_token = tokens.get("id_token").and_then(Value::as_str).ok_or("no ID token")?;
        let jwks: Jwks = self
            .http()
            .send(HttpRequest::get(endpoint("jwks_uri")?))
            .await
            .and_then(|r| r.json())
            .map_err(|e| format!("keys: {e}"))?;
        let claims = verify(id_token, &jwks.keys).map_err(|e| format!("ID token: {e}"))?.claims;
        let str_claim = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        if str_claim("iss").as_deref() != Some(upstream.issuer.as_str())
            || !audience_includes(&claims, &upstream.client_id)
            || exp <= now.unix_timestamp()
            || str_claim("nonce").as_deref() != Some(waiting.nonce.as_str())
        {
            return Err("ID token refused (issuer, audience, expiry or nonce)".into());
        }
        let subject = str_claim("sub").ok_or("ID token without sub")?;
        // Providers that conform to OIDC Core §5.4 release scope claims at userinfo, not in the
        // ID token, when they issue an access token.
        let mut profile = claims.clone();
        if profile.get("email").is_none()
            && let (Some(at), Ok(userinfo)) =
                (tokens.get("access_token").and_then(Value::as_str), endpoint("userinfo_endpoint"))
        {
            let info: Value = self
                .http()
                .send(HttpRequest::get(userinfo).bearer(at))
                .await
                .and_then(|r| r.json())
                .map_err(|e| format!("userinfo: {e}"))?;
            // OIDC Core §5.3.2: userinfo about another subject must not be used.
            if info.get("sub").and_then(Value::as_str) == Some(subject.as_str()) {
                profile = info;
            }
        }
        Ok((profile, subject))
    }
}
