//! The back channel of the OpenID provider: the token endpoint (authorization_code,
//! refresh_token, client_credentials), userinfo (OIDC Core §5.3), introspection (RFC 7662) and
//! revocation (RFC 7009), and the check of the hub's own access tokens for its API.
//!
//! The protocol's rules are `mitsprache_oidc::token`'s; here they run against the store: the
//! client is authenticated, the code redeemed or the refresh token rotated (group commit), the
//! subject computed, and the result handed to the protocol crate to sign.

use crate::{Error, Forbidden, Hub, Result};
use mitsprache_domain::Account;
use mitsprache_oidc::CATALOGUE_WRITE;
use mitsprache_oidc::claims::{AccessToken, Person, userinfo};
use mitsprache_oidc::client::{Client, ClientAuthError, GrantType, Presented};
use mitsprache_oidc::discovery::paths;
use mitsprache_oidc::error::ProtocolError;
use mitsprache_oidc::grant::{Grant, Redemption, Scope};
use mitsprache_oidc::params::Params;
use mitsprache_oidc::random::{digest, id, secret};
use mitsprache_oidc::token::{self, TokenError, TokenResponse, UserTokens};
use mitsprache_store::{NewRefresh, Rotation};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A request to the back channel: its `Authorization` header value and its form body.
#[derive(Debug, Clone, Copy)]
pub struct BackChannel<'a> {
    pub authorization: Option<&'a str>,
    pub body: &'a [u8],
}

impl From<TokenError> for Error {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Protocol(p) => Error::Protocol(p),
            e => Error::Internal(e.to_string()),
        }
    }
}

/// The account facts the claims are built from.
fn person(account: &Account) -> Person {
    Person {
        email: account.email.to_string(),
        email_verified: account.email_verified,
        name: account.name.clone(),
        locale: account.locale.tag().to_owned(),
        updated_at: account.updated_at.unix_timestamp(),
    }
}

impl Hub {
    /// Identifies and authenticates the calling client; every failure is the same
    /// `invalid_client`.
    async fn authenticate(&self, authorization: Option<&str>, params: &Params) -> Result<Arc<Client>> {
        let basic = Presented::tried_basic(authorization);
        let fail = Error::InvalidClient { basic };
        let presented = Presented::read(authorization, params).map_err(|_| Error::InvalidClient { basic })?;
        let client_id = presented.client_id().map_err(|_| Error::InvalidClient { basic })?;
        let Some(client) = self.client(&client_id).await? else { return Err(fail) };
        let issuer = &self.config().issuer;
        let token_endpoint = format!("{issuer}{}", paths::TOKEN);
        let assertion = presented
            .authenticate(&client, &[issuer, &token_endpoint], self.now())
            .map_err(|_: ClientAuthError| Error::InvalidClient { basic })?;
        if let Some((jti, exp)) = assertion {
            // A client assertion is single use (RFC 7523 §3 item 7, our choice to enforce).
            let exp = OffsetDateTime::from_unix_timestamp(exp).map_err(|_| Error::InvalidClient { basic })?;
            if !self.store().revocations().use_assertion(&format!("{}:{jti}", client.id), exp).await? {
                return Err(Error::InvalidClient { basic });
            }
        }
        Ok(client)
    }

    /// `POST /oidc/token`.
    pub async fn token(&self, request: BackChannel<'_>) -> Result<TokenResponse> {
        let params = Params::strict(request.body)?;
        let grant_type = params.require("grant_type")?.to_owned();
        let client = self.authenticate(request.authorization, &params).await?;
        let grant = GrantType::parse(&grant_type)
            .ok_or_else(|| ProtocolError::new("unsupported_grant_type", format!("{grant_type} is not supported")))?;
        if !client.allows(grant) {
            return Err(
                ProtocolError::new("unauthorized_client", format!("the client may not use {grant_type}")).into()
            );
        }
        match grant {
            GrantType::AuthorizationCode => self.exchange_code(&client, &params).await,
            GrantType::RefreshToken => self.refresh(&client, &params).await,
            GrantType::ClientCredentials => Ok(token::machine_token(
                self.provider(),
                &self.keys(),
                &client,
                params.get("scope"),
                params.get("resource"),
                self.now(),
                id(self.random()),
            )?),
        }
    }

    async fn exchange_code(&self, client: &Client, params: &Params) -> Result<TokenResponse> {
        let code = params.require("code")?;
        let redirect_uri = params.require("redirect_uri")?;
        let verifier = params.get("code_verifier");
        let now = self.now();
        let refresh = client.allows(GrantType::RefreshToken).then(|| secret(self.random()));
        let refresh_digest = refresh.as_deref().map(digest);
        let first_refresh = refresh_digest.as_deref().map(|d| NewRefresh {
            digest: d,
            expires_at: now + Duration::seconds(self.config().lifetimes.refresh_token),
        });
        let check = |c: &mitsprache_oidc::grant::Code| token::check_exchange(c, client, redirect_uri, verifier);
        let grants = self.store().grants();
        let (code, account) = match grants
            .redeem_code(&digest(code), &client.id, now, first_refresh, |c| check(c).is_ok())
            .await?
        {
            Redemption::Fresh(found) => found,
            Redemption::Replayed { grant_id } => {
                grants.revoke(&grant_id, now).await?;
                tracing::warn!(client = %client.id, grant = %grant_id, "authorization code replayed; its grant is revoked");
                return Err(ProtocolError::invalid_grant("the code was already used").into());
            }
            Redemption::Invalid => return Err(ProtocolError::invalid_grant("the code is unknown or expired").into()),
        };
        // A failed check has consumed the code: an attacker holding a stolen code gets one try.
        check(&code)?;
        let mut body = self.user_tokens(client, &code.grant, &code.grant.scope, account, code.nonce.as_deref()).await?;
        body.refresh_token = refresh;
        Ok(body)
    }

    async fn refresh(&self, client: &Client, params: &Params) -> Result<TokenResponse> {
        let presented = params.require("refresh_token")?;
        let now = self.now();
        // A scope beyond the grant's is refused before the token is used up: otherwise the
        // refusal would burn it, and the client's retry would look like reuse and end the grant.
        if let Some(asked) = params.get("scope")
            && let Some(grant) = self.store().grants().by_refresh_token(&digest(presented), now).await?
            && grant.client_id == client.id
        {
            token::narrow(&grant.scope, Some(asked))?;
        }
        let new = secret(self.random());
        let rotation = Rotation {
            old_digest: digest(presented),
            new_digest: digest(&new),
            client_id: client.id.clone(),
            now,
            expires_at: now + Duration::seconds(self.config().lifetimes.refresh_token),
        };
        let rotated = self
            .inner
            .rotator
            .rotate(rotation)
            .await
            .ok_or_else(|| Error::Internal("the refresh-token writer has stopped".into()))??;
        let (grant, account) = match rotated {
            Redemption::Fresh(found) => found,
            Redemption::Replayed { grant_id } => {
                self.store().grants().revoke(&grant_id, now).await?;
                tracing::warn!(client = %client.id, grant = %grant_id, "refresh token reused; its whole grant is revoked");
                return Err(ProtocolError::invalid_grant("the refresh token was already used").into());
            }
            Redemption::Invalid => {
                return Err(ProtocolError::invalid_grant(
                    "the refresh token is unknown, expired, revoked or another client's",
                )
                .into());
            }
        };
        let scope = token::narrow(&grant.scope, params.get("scope"))?;
        let mut body = self.user_tokens(client, &grant, &scope, account, None).await?;
        body.refresh_token = Some(new);
        Ok(body)
    }

    async fn user_tokens(
        &self,
        client: &Client,
        grant: &Grant,
        scope: &Scope,
        account: Option<Account>,
        nonce: Option<&str>,
    ) -> Result<TokenResponse> {
        let account = match account {
            Some(a) => a,
            None => self
                .store()
                .accounts()
                .find(&grant.account_id)
                .await?
                .ok_or_else(|| ProtocolError::invalid_grant("the account no longer exists"))?,
        };
        let sub = self.subject_for(client, &account.id);
        let t = UserTokens {
            client,
            grant,
            scope,
            person: &person(&account),
            sub: &sub,
            nonce,
            now: self.now(),
            jti: id(self.random()),
        };
        Ok(token::user_tokens(self.provider(), &self.keys(), t)?)
    }

    /// A verified, unexpired, unrevoked access token of this hub, with its grant (none for
    /// machine tokens).
    pub async fn check_access_token(&self, token: &str) -> Result<(AccessToken, Option<Grant>)> {
        let at = self.provider().verify_access_token(&self.keys(), token, self.now()).ok_or(Error::InvalidToken)?;
        if self.store().revocations().is_revoked(&at.jti, at.gid.as_deref()).await? {
            return Err(Error::InvalidToken);
        }
        let grant = match &at.gid {
            Some(gid) => Some(self.store().grants().find(gid).await?.ok_or(Error::InvalidToken)?),
            None => None,
        };
        Ok((at, grant))
    }

    /// Whether `token` may write the catalogue: an access token of this hub for its API
    /// (audience) with the `catalogue:write` scope, whose holder has the editor or admin role:
    /// a person's role read now (a demoted editor loses the right at once), or the role an
    /// admin gave a machine client. A tool's ordinary login token never qualifies.
    /// Whether the token may edit the catalogue; its holder as the history names it
    /// (`account:<id>` for a person, `client:<id>` for a machine client).
    pub async fn authorize_catalogue_write(&self, token: Option<&str>) -> Result<String> {
        let token = token.ok_or(Error::Unauthenticated)?;
        let (at, grant) = self.check_access_token(token).await?;
        if !at.aud.iter().any(|a| *a == self.provider().api_audience())
            || !Scope::parse(&at.scope).contains(CATALOGUE_WRITE)
        {
            return Err(Error::Forbidden(Forbidden::MissingScope));
        }
        let (role, actor) = match grant {
            Some(g) if g.is_live() => (
                self.store().accounts().find(&g.account_id).await?.map(|a| a.role),
                format!("account:{}", g.account_id),
            ),
            Some(_) => return Err(Error::InvalidToken),
            None => {
                (self.client(&at.client_id).await?.and_then(|c| c.machine_role), format!("client:{}", at.client_id))
            }
        };
        if role.is_some_and(mitsprache_domain::Role::can_edit_catalogue) {
            Ok(actor)
        } else {
            Err(Error::Forbidden(Forbidden::NotEditor))
        }
    }

    /// Userinfo for a bearer token of a person's grant with `openid`.
    pub async fn userinfo(&self, token: Option<&str>) -> Result<Map<String, Value>> {
        let token = token.ok_or(Error::InvalidToken)?;
        let (at, grant) = self.check_access_token(token).await?;
        let grant = grant.ok_or(Error::InvalidToken)?;
        let scope = Scope::parse(&at.scope);
        if !scope.contains("openid") || !grant.is_live() {
            return Err(Error::InvalidToken);
        }
        let client = self.client(&at.client_id).await?.ok_or(Error::InvalidToken)?;
        let account = self.store().accounts().find(&grant.account_id).await?.ok_or(Error::InvalidToken)?;
        let sub = self.subject_for(&client, &account.id);
        Ok(userinfo(&sub, &person(&account), scope.values()))
    }

    /// RFC 7662, for a confidential client about its own tokens. A public client's id is no
    /// credential, and another client's token (access or refresh) is answered like an unknown
    /// one: tools cannot learn each other's pairwise subjects or probe leaked tokens.
    pub async fn introspect(&self, request: BackChannel<'_>) -> Result<Value> {
        let params = Params::strict(request.body)?;
        let caller = self.authenticate(request.authorization, &params).await?;
        if caller.is_public() {
            return Err(Error::InvalidClient { basic: false });
        }
        let token = params.require("token")?;
        let access = || async {
            match self.check_access_token(token).await {
                Ok((at, grant)) if at.client_id == caller.id && grant.as_ref().is_none_or(Grant::is_live) => {
                    Ok(Some(json!({
                        "active": true,
                        "token_type": "Bearer",
                        "scope": at.scope,
                        "client_id": at.client_id,
                        "sub": at.sub,
                        "aud": at.aud,
                        "iss": at.iss,
                        "exp": at.exp,
                        "iat": at.iat,
                        "jti": at.jti,
                    })))
                }
                Ok(_) | Err(Error::InvalidToken) => Ok(None),
                Err(e) => Err(e),
            }
        };
        let refresh = || async {
            let grant = self.store().grants().by_refresh_token(&digest(token), self.now()).await?;
            let Some(grant) = grant.filter(|g| g.is_live() && g.client_id == caller.id) else { return Ok(None) };
            Ok::<_, Error>(Some(json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": grant.scope.to_string(),
                "client_id": grant.client_id,
                "sub": self.subject_for(&caller, &grant.account_id),
                "iss": self.config().issuer,
                "iat": grant.created_at.unix_timestamp(),
            })))
        };
        let found = if params.get("token_type_hint") == Some("refresh_token") {
            match refresh().await? {
                Some(v) => Some(v),
                None => access().await?,
            }
        } else {
            match access().await? {
                Some(v) => Some(v),
                None => refresh().await?,
            }
        };
        Ok(found.unwrap_or_else(|| json!({ "active": false })))
    }

    /// RFC 7009: a client revokes its own tokens. Revoking a refresh token ends its grant, with
    /// the access tokens issued from it. Unknown and other clients' tokens change nothing (and
    /// the answer is the same, no oracle).
    pub async fn revoke(&self, request: BackChannel<'_>) -> Result<()> {
        let params = Params::strict(request.body)?;
        let client = self.authenticate(request.authorization, &params).await?;
        let token = params.require("token")?;
        let now = self.now();
        if let Some(grant) = self.store().grants().by_refresh_token(&digest(token), now).await? {
            if grant.client_id == client.id {
                self.store().grants().revoke(&grant.id, now).await?;
            }
        } else {
            // RFC 7009 §2.2: an invalid token is answered like a revoked one; a store that
            // cannot say is an error, not a silent "done".
            match self.check_access_token(token).await {
                Ok((at, _)) if at.client_id == client.id => {
                    let exp =
                        OffsetDateTime::from_unix_timestamp(at.exp).map_err(|e| Error::Internal(e.to_string()))?;
                    self.store().revocations().revoke_token(&at.jti, exp).await?;
                }
                Ok(_) | Err(Error::InvalidToken) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
