//! What tokens and the userinfo endpoint say about a person, by scope (OIDC Core §5.4), and the
//! claim sets of ID tokens, JWT access tokens (RFC 9068) and logout tokens (Back-Channel Logout
//! 1.0 §2.4). Data minimisation: a tool receives only the claims of the scopes it was granted.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// The account facts the hub may release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    pub locale: String,
    pub updated_at: i64,
}

/// Which claims a scope releases; shown on the consent screen and the account page.
pub fn claims_of_scope(scope: &str) -> &'static [&'static str] {
    match scope {
        "openid" => &["sub"],
        "profile" => &["name", "locale", "updated_at"],
        "email" => &["email", "email_verified"],
        _ => &[],
    }
}

/// The userinfo response for a subject and the granted scopes.
pub fn userinfo(sub: &str, person: &Person, scope: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("sub".into(), sub.into());
    if scope.iter().any(|s| s == "profile") {
        if let Some(name) = &person.name {
            out.insert("name".into(), name.clone().into());
        }
        out.insert("locale".into(), person.locale.clone().into());
        out.insert("updated_at".into(), person.updated_at.into());
    }
    if scope.iter().any(|s| s == "email") {
        out.insert("email".into(), person.email.clone().into());
        out.insert("email_verified".into(), person.email_verified.into());
    }
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct IdToken<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    pub acr: &'a str,
    /// RFC 8176 method values: `pwd` for the hub's password, `fed` for an upstream provider.
    pub amr: &'a [&'a str],
    pub azp: &'a str,
    pub sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// Scope claims (email, name, …), flattened into the token.
    #[serde(flatten)]
    pub claims: Map<String, Value>,
}

/// RFC 9068 access token. `gid` names the grant so revocation and reuse detection reach
/// access tokens at introspection and userinfo; `sid` ties user tokens to the login session.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct AccessToken {
    pub iss: String,
    pub exp: i64,
    pub aud: Vec<String>,
    pub sub: String,
    pub client_id: String,
    pub iat: i64,
    pub jti: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

impl AccessToken {
    /// Reads the claims of a verified token; `None` when a required claim is missing.
    pub fn from_claims(claims: &Value) -> Option<AccessToken> {
        let mut claims = claims.clone();
        // `aud` may be a single string (RFC 7519 §4.1.3).
        if let Some(Value::String(a)) = claims.get("aud") {
            let a = a.clone();
            claims["aud"] = json!([a]);
        }
        serde_json::from_value(claims).ok()
    }
}

pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The logout token for one client and session; never carries a nonce (§2.4).
pub fn logout_token(iss: &str, aud: &str, sub: &str, sid: &str, iat: i64, jti: &str) -> Value {
    json!({
        "iss": iss,
        "aud": aud,
        "sub": sub,
        "sid": sid,
        "iat": iat,
        "exp": iat + 120,
        "jti": jti,
        "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> Person {
        Person {
            email: "a@example.org".into(),
            email_verified: true,
            name: Some("Ada".into()),
            locale: "de".into(),
            updated_at: 5,
        }
    }

    #[test]
    fn userinfo_releases_only_granted_scopes() {
        let only_openid = userinfo("s", &person(), &["openid".into()]);
        assert_eq!(only_openid.len(), 1);
        let email = userinfo("s", &person(), &["openid".into(), "email".into()]);
        assert_eq!(email["email"], "a@example.org");
        assert!(!email.contains_key("name"));
        let profile = userinfo("s", &person(), &["openid".into(), "profile".into()]);
        assert_eq!(profile["name"], "Ada");
        assert!(!profile.contains_key("email"));
    }

    #[test]
    fn access_tokens_read_single_string_audiences() {
        let claims = json!({"iss": "i", "exp": 2, "aud": "x", "sub": "s", "client_id": "c", "iat": 1, "jti": "j", "scope": "openid"});
        assert_eq!(AccessToken::from_claims(&claims).unwrap().aud, vec!["x"]);
        assert!(AccessToken::from_claims(&json!({"iss": "i"})).is_none());
    }

    #[test]
    fn logout_tokens_have_the_event_and_no_nonce() {
        let t = logout_token("i", "c", "s", "sid", 10, "j");
        assert!(t["events"][BACKCHANNEL_LOGOUT_EVENT].is_object());
        assert!(t.get("nonce").is_none());
    }
}
