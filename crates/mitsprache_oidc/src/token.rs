//! The token endpoint's rules and the tokens it issues: the checks a code exchange must pass,
//! refresh-scope narrowing, the access token (RFC 9068) and ID token of a person's grant, the
//! machine token of client_credentials, and logout tokens (Back-Channel Logout 1.0). The caller
//! (the application layer) does the I/O: it redeems codes and rotates refresh tokens in the
//! store, computes the pairwise subject and hands the results in here.

use crate::claims::{AccessToken, IdToken, Person, logout_token, userinfo};
use crate::client::{Client, check_resource};
use crate::error::ProtocolError;
use crate::grant::{Code, Grant, Scope};
use crate::jose::{Alg, half_hash};
use crate::keys::KeySet;
use crate::{Lifetimes, SCOPES, pkce};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

/// Who issues: the hub's issuer URL and how long what it issues lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub issuer: String,
    pub lifetimes: Lifetimes,
}

impl Provider {
    /// The audience of the hub's own API (RFC 8707 resource): the catalogue write API checks it.
    pub fn api_audience(&self) -> String {
        format!("{}/api", self.issuer)
    }

    /// The audiences of an access token with `scope`: the hub (userinfo), and its API when the
    /// scope grants catalogue writes.
    fn audiences(&self, scope: &Scope) -> Vec<String> {
        let mut aud = vec![self.issuer.clone()];
        if scope.values().iter().any(|s| crate::is_api_scope(s)) {
            aud.push(self.api_audience());
        }
        aud
    }

    /// An access token of this provider that is well signed, of type `at+jwt` and unexpired.
    /// Revocation is the caller's to check (it needs the store).
    pub fn verify_access_token(&self, keys: &KeySet, token: &str, now: OffsetDateTime) -> Option<AccessToken> {
        let verified = crate::jose::verify(token, &keys.published).ok()?;
        if verified.header.get("typ").and_then(Value::as_str) != Some("at+jwt") {
            return None;
        }
        let at = AccessToken::from_claims(&verified.claims)?;
        (at.iss == self.issuer && at.exp > now.unix_timestamp()).then_some(at)
    }

    /// The claims of an ID token this provider signed, expired or not: what an `id_token_hint`
    /// may be (OIDC Core §3.1.2.1, RP-Initiated Logout §2).
    pub fn id_token_hint(&self, keys: &KeySet, hint: &str) -> Option<Value> {
        let claims = crate::jose::verify(hint, &keys.published).ok()?.claims;
        (claims.get("iss").and_then(Value::as_str) == Some(self.issuer.as_str())).then_some(claims)
    }
}

/// The body of a successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("no active {} key", .0.as_str())]
    NoKey(Alg),
    #[error("signing failed: {0}")]
    Sign(#[from] crate::jose::JoseError),
}

fn sign(keys: &KeySet, alg: Alg, typ: &str, claims: &impl Serialize) -> Result<String, TokenError> {
    Ok(keys.signer(alg).ok_or(TokenError::NoKey(alg))?.sign(typ, claims)?)
}

/// The checks a code must pass before it yields tokens (RFC 6749 §4.1.3, RFC 7636 §4.6): the
/// client and redirect URI of the authorization request, and its PKCE. A token request that
/// sends a verifier for a code issued without a challenge is a downgrade attempt and refused
/// (RFC 9700 §2.1.1).
pub fn check_exchange(
    code: &Code,
    client: &Client,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Result<(), ProtocolError> {
    if code.grant.client_id != client.id {
        return Err(ProtocolError::invalid_grant("the code was issued to another client"));
    }
    if code.redirect_uri != redirect_uri {
        return Err(ProtocolError::invalid_grant("redirect_uri differs from the authorization request"));
    }
    match (&code.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) => {
            pkce::verify(verifier, challenge).map_err(|e| ProtocolError::invalid_grant(e.to_string()))?
        }
        (Some(_), None) => return Err(ProtocolError::invalid_grant("code_verifier is required")),
        (None, Some(_)) => {
            return Err(ProtocolError::invalid_grant("code_verifier sent for a code issued without code_challenge"));
        }
        (None, None) => {}
    }
    if !code.grant.is_live() {
        return Err(ProtocolError::invalid_grant("the grant was revoked"));
    }
    Ok(())
}

/// The scope of a refresh: the asked one, which may narrow the grant, never widen it (RFC 6749 §6).
pub fn narrow(granted: &Scope, asked: Option<&str>) -> Result<Scope, ProtocolError> {
    match asked {
        None => Ok(granted.clone()),
        Some(asked) => {
            let asked = Scope::parse(asked);
            if granted.covers(&asked) {
                Ok(asked)
            } else {
                Err(ProtocolError::invalid_scope("the scope exceeds the original grant"))
            }
        }
    }
}

/// What the tokens of a person's grant are made of.
pub struct UserTokens<'a> {
    pub client: &'a Client,
    pub grant: &'a Grant,
    /// The grant's scope, or the narrower one of this refresh.
    pub scope: &'a Scope,
    pub person: &'a Person,
    /// The subject this client sees for the person.
    pub sub: &'a str,
    pub nonce: Option<&'a str>,
    pub now: OffsetDateTime,
    pub jti: String,
}

/// The access token (ES256, RFC 9068) and, for `openid`, the ID token (in the client's algorithm)
/// of a person's grant.
pub fn user_tokens(provider: &Provider, keys: &KeySet, t: UserTokens<'_>) -> Result<TokenResponse, TokenError> {
    let now = t.now.unix_timestamp();
    let lifetimes = &provider.lifetimes;
    let access = AccessToken {
        iss: provider.issuer.clone(),
        exp: now + lifetimes.access_token,
        aud: provider.audiences(t.scope),
        sub: t.sub.to_owned(),
        client_id: t.client.id.clone(),
        iat: now,
        jti: t.jti,
        scope: t.scope.to_string(),
        auth_time: Some(t.grant.auth_time.unix_timestamp()),
        gid: Some(t.grant.id.clone()),
    };
    let access_token = sign(keys, Alg::ES256, "at+jwt", &access)?;
    let id_token = if t.scope.contains("openid") {
        let sid = t.grant.sid.clone().unwrap_or_default();
        let amr = [t.grant.amr.as_str()];
        let claims = IdToken {
            iss: &provider.issuer,
            sub: t.sub,
            aud: &t.client.id,
            exp: now + lifetimes.id_token,
            iat: now,
            auth_time: t.grant.auth_time.unix_timestamp(),
            nonce: t.nonce,
            acr: "urn:mitsprache:acr:low",
            amr: &amr,
            azp: &t.client.id,
            sid: &sid,
            at_hash: Some(half_hash(&access_token)),
            claims: userinfo(t.sub, t.person, t.scope.values()),
        };
        Some(sign(keys, t.client.id_token_alg, "JWT", &claims)?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: lifetimes.access_token,
        scope: t.scope.to_string(),
        id_token,
        refresh_token: None,
    })
}

/// Machine access (client_credentials): the client acts for itself. The scope may hold only the
/// extra scopes the client is registered for (all of them when none is asked); `resource`
/// (RFC 8707) must be one the client is registered for, or the hub's API for a client with
/// catalogue rights. Without `resource` the audience follows the scope.
pub fn machine_token(
    provider: &Provider,
    keys: &KeySet,
    client: &Client,
    asked_scope: Option<&str>,
    resource: Option<&str>,
    now: OffsetDateTime,
    jti: String,
) -> Result<TokenResponse, TokenError> {
    let scope = match asked_scope {
        None => Scope::of(client.scopes.iter().cloned()),
        Some(asked) => {
            let asked = Scope::parse(asked);
            if asked.values().iter().any(|s| SCOPES.contains(&s.as_str())) {
                return Err(ProtocolError::invalid_scope("person scopes need a person: use the code flow").into());
            }
            if let Some(s) = asked.values().iter().find(|s| !client.scopes.contains(s)) {
                return Err(ProtocolError::invalid_scope(format!("the client is not registered for {s}")).into());
            }
            asked
        }
    };
    let audience = match resource {
        None if scope.values().iter().any(|s| crate::is_api_scope(s)) => provider.api_audience(),
        None => provider.issuer.clone(),
        Some(r) => {
            check_resource(r).map_err(ProtocolError::invalid_target)?;
            let api = scope.values().iter().any(|s| crate::is_api_scope(s)) && r == provider.api_audience();
            if !api && !client.resources.iter().any(|allowed| allowed == r) {
                return Err(ProtocolError::invalid_target("the client is not registered for this resource").into());
            }
            r.to_owned()
        }
    };
    let now = now.unix_timestamp();
    let access = AccessToken {
        iss: provider.issuer.clone(),
        exp: now + provider.lifetimes.access_token,
        aud: vec![audience],
        sub: client.id.clone(),
        client_id: client.id.clone(),
        iat: now,
        jti,
        scope: scope.to_string(),
        auth_time: None,
        gid: None,
    };
    Ok(TokenResponse {
        access_token: sign(keys, Alg::ES256, "at+jwt", &access)?,
        token_type: "Bearer",
        expires_in: provider.lifetimes.access_token,
        scope: access.scope,
        id_token: None,
        refresh_token: None,
    })
}

/// A signed logout token for one client and session (Back-Channel Logout 1.0 §2.4), issued when
/// it is sent: a retry hours later carries a token that is still valid.
pub fn signed_logout_token(
    provider: &Provider,
    keys: &KeySet,
    client: &Client,
    sub: &str,
    sid: &str,
    now: OffsetDateTime,
    jti: &str,
) -> Result<String, TokenError> {
    let claims = logout_token(&provider.issuer, &client.id, sub, sid, now.unix_timestamp(), jti);
    sign(keys, Alg::ES256, "logout+jwt", &claims)
}

/// The RISC event type of a deleted account (OpenID RISC 1.0; no attributes).
pub const ACCOUNT_PURGED: &str = "https://schemas.openid.net/secevent/risc/event-type/account-purged";

/// A Security Event Token (RFC 8417) as SSF 1.0 profiles it, saying that the person's account
/// is gone: `typ` `secevent+jwt`, the subject as RFC 9493 `iss_sub` in `sub_id` (never `sub`),
/// no `exp`, one event. `sub` is the pairwise subject this tool knows; `txn` ties together the
/// events of one deletion across tools. Signed when sent, as logout tokens are.
pub fn signed_account_purged(
    provider: &Provider,
    keys: &KeySet,
    audience: &str,
    sub: &str,
    txn: &str,
    now: OffsetDateTime,
    jti: &str,
) -> Result<String, TokenError> {
    let claims = serde_json::json!({
        "iss": provider.issuer,
        "aud": audience,
        "iat": now.unix_timestamp(),
        "jti": jti,
        "txn": txn,
        "sub_id": { "format": "iss_sub", "iss": provider.issuer, "sub": sub },
        "events": { ACCOUNT_PURGED: {} },
    });
    sign(keys, Alg::ES256, "secevent+jwt", &claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{GrantType, Registration};
    use crate::grant::Amr;
    use crate::random::SeededRandom;
    use serde_json::json;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn provider() -> Provider {
        Provider { issuer: "https://hub.example".into(), lifetimes: Lifetimes::default() }
    }

    fn keys() -> KeySet {
        KeySet::build(&crate::keys::generate(&SeededRandom::new(3), now()).unwrap(), now(), time::Duration::ZERO)
            .unwrap()
    }

    fn client(registration: Registration) -> Client {
        registration.into_client("c1".into(), "secret".into(), now()).unwrap().0
    }

    fn web() -> Client {
        client(Registration {
            name: "Tool".into(),
            redirect_uris: vec!["https://tool.example/cb".into()],
            ..Registration::default()
        })
    }

    fn grant(scope: &str) -> Grant {
        Grant {
            id: "g1".into(),
            client_id: "c1".into(),
            account_id: "a1".into(),
            sid: Some("s1".into()),
            scope: Scope::parse(scope),
            auth_time: now(),
            amr: Amr::Pwd,
            created_at: now(),
            revoked_at: None,
        }
    }

    fn code(challenge: Option<&str>) -> Code {
        Code {
            grant: grant("openid"),
            redirect_uri: "https://tool.example/cb".into(),
            code_challenge: challenge.map(str::to_owned),
            nonce: None,
        }
    }

    #[test]
    fn an_exchange_repeats_client_redirect_uri_and_pkce() {
        let cb = "https://tool.example/cb";
        assert!(check_exchange(&code(Some(CHALLENGE)), &web(), cb, Some(VERIFIER)).is_ok());
        assert!(check_exchange(&code(Some(CHALLENGE)), &web(), cb, None).is_err(), "verifier required");
        assert!(check_exchange(&code(Some(CHALLENGE)), &web(), "https://tool.example/x", Some(VERIFIER)).is_err());
        assert!(check_exchange(&code(None), &web(), cb, Some(VERIFIER)).is_err(), "PKCE downgrade");
        assert!(check_exchange(&code(None), &web(), cb, None).is_ok());
        let mut revoked = code(Some(CHALLENGE));
        revoked.grant.revoked_at = Some(now());
        assert!(check_exchange(&revoked, &web(), cb, Some(VERIFIER)).is_err());
    }

    #[test]
    fn a_refresh_narrows_but_never_widens() {
        let granted = Scope::parse("openid email offline_access");
        assert_eq!(narrow(&granted, Some("openid")).unwrap().to_string(), "openid");
        assert_eq!(narrow(&granted, None).unwrap(), granted);
        assert_eq!(narrow(&granted, Some("openid profile")).unwrap_err().code, "invalid_scope");
    }

    #[test]
    fn user_tokens_carry_the_grant_and_only_the_granted_claims() {
        let person = Person {
            email: "a@example.org".into(),
            email_verified: true,
            name: Some("Ada".into()),
            locale: "de".into(),
            updated_at: 5,
        };
        let keys = keys();
        let g = grant("openid email");
        let t = UserTokens {
            client: &web(),
            grant: &g,
            scope: &g.scope,
            person: &person,
            sub: "pairwise-sub",
            nonce: Some("n-1"),
            now: now(),
            jti: "j1".into(),
        };
        let body = user_tokens(&provider(), &keys, t).unwrap();
        let at = provider().verify_access_token(&keys, &body.access_token, now()).unwrap();
        assert_eq!(at.aud, vec!["https://hub.example"], "no API audience without the catalogue scope");
        assert_eq!(at.gid.as_deref(), Some("g1"));
        let id = crate::jose::verify(body.id_token.as_deref().unwrap(), &keys.published).unwrap().claims;
        assert_eq!(id["nonce"], "n-1");
        assert_eq!(id["email"], "a@example.org");
        assert!(id.get("name").is_none());
        assert_eq!(id["at_hash"], half_hash(&body.access_token));
        assert!(provider().verify_access_token(&keys, &body.access_token, now() + time::Duration::hours(1)).is_none());
    }

    #[test]
    fn machine_tokens_carry_only_registered_scopes_and_resources() {
        let keys = keys();
        let plain = client(Registration {
            name: "M".into(),
            grant_types: vec![GrantType::ClientCredentials],
            resources: vec!["https://api.example/v1".into()],
            ..Registration::default()
        });
        let token = |c: &Client, scope: Option<&str>, resource: Option<&str>| {
            machine_token(&provider(), &keys, c, scope, resource, now(), "j".into())
        };
        let aud = |t: &TokenResponse| provider().verify_access_token(&keys, &t.access_token, now()).unwrap().aud;
        let t = token(&plain, None, Some("https://api.example/v1")).unwrap();
        assert_eq!(aud(&t), vec!["https://api.example/v1"]);
        assert_eq!(t.scope, "");
        for (scope, resource, error) in [
            (Some("admin catalogue:write"), None, "invalid_scope"),
            (Some("openid"), None, "invalid_scope"),
            (None, Some("javascript:alert(1)"), "invalid_target"),
            (None, Some("https://evil.example/api"), "invalid_target"),
            (None, Some("https://hub.example/api"), "invalid_target"),
        ] {
            match token(&plain, scope, resource) {
                Err(TokenError::Protocol(e)) => assert_eq!(e.code, error, "{scope:?} {resource:?}"),
                other => panic!("{scope:?} {resource:?}: {other:?}"),
            }
        }
        let editor = client(Registration {
            name: "Katalogpflege".into(),
            grant_types: vec![GrantType::ClientCredentials],
            machine_role: Some(mitsprache_domain::Role::Editor),
            ..Registration::default()
        });
        let t = token(&editor, None, None).unwrap();
        assert_eq!(t.scope, crate::CATALOGUE_WRITE);
        assert_eq!(aud(&t), vec!["https://hub.example/api"]);
        assert!(token(&editor, None, Some("https://hub.example/api")).is_ok());
    }

    #[test]
    fn logout_tokens_are_signed_for_the_client() {
        let keys = keys();
        let t = signed_logout_token(&provider(), &keys, &web(), "sub", "sid", now(), "j").unwrap();
        let v = crate::jose::verify(&t, &keys.published).unwrap();
        assert_eq!(v.header["typ"], "logout+jwt");
        assert_eq!(v.claims["aud"], json!("c1"));
        assert_eq!(v.claims["sid"], "sid");
    }

    #[test]
    fn account_purged_events_follow_the_ssf_profile() {
        let keys = keys();
        let t = signed_account_purged(&provider(), &keys, "c1", "pairwise", "txn-1", now(), "j").unwrap();
        let v = crate::jose::verify(&t, &keys.published).unwrap();
        assert_eq!(v.header["typ"], "secevent+jwt");
        assert_eq!(v.claims["sub_id"], json!({"format": "iss_sub", "iss": "https://hub.example", "sub": "pairwise"}));
        assert_eq!(v.claims["events"], json!({ACCOUNT_PURGED: {}}));
        assert_eq!(v.claims["txn"], "txn-1");
        assert!(v.claims.get("sub").is_none() && v.claims.get("exp").is_none(), "SSF forbids sub and exp");
    }
}
