//! The authorization request (OIDC Core §3.1.2.1) and its response. Only `response_type=code`
//! with PKCE S256; the client and redirect URI are checked before anything is sent back, and when
//! either is wrong the person sees an error page and is never redirected (RFC 9700 §4.11).

use crate::client::{Client, GrantType, Pkce};
use crate::pkce;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    FormPost,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A validated authorization request; stored while the person logs in and consents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// The understood scopes, `openid` first.
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// None only for a confidential client registered with optional PKCE; it sent a nonce.
    #[serde(default)]
    pub code_challenge: Option<String>,
    pub response_mode: ResponseMode,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub id_token_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub acr_values: Option<String>,
}

/// Why a request cannot be answered at the client: shown to the person instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the request names no client")]
    MissingClient,
    #[error("the client is not registered")]
    UnknownClient,
    #[error("the request has no redirect_uri")]
    MissingRedirectUri,
    #[error("the redirect_uri is not registered for this client")]
    RedirectUriMismatch,
    #[error("a parameter is repeated")]
    RepeatedParameter,
}

impl PageError {
    pub fn code(self) -> &'static str {
        match self {
            PageError::MissingClient => "missing_client",
            PageError::UnknownClient => "unknown_client",
            PageError::MissingRedirectUri => "missing_redirect_uri",
            PageError::RedirectUriMismatch => "redirect_uri_mismatch",
            PageError::RepeatedParameter => "repeated_parameter",
        }
    }
}

/// An error the client receives at its redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
    pub error: &'static str,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    Page(PageError),
    Redirect(ErrorResponse),
}

fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, PageError> {
    let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(PageError::RepeatedParameter);
    }
    Ok(first.filter(|v| !v.is_empty()))
}

/// The client id a request names, to look the client up before [`validate`].
pub fn client_id(params: &[(String, String)]) -> Result<&str, PageError> {
    single(params, "client_id")?.ok_or(PageError::MissingClient)
}

/// Validates the request against its (looked-up) client.
pub fn validate(params: &[(String, String)], client: Option<&Client>) -> Result<AuthorizeRequest, AuthorizeError> {
    let page = AuthorizeError::Page;
    let client_id = client_id(params).map_err(page)?;
    let client = client.filter(|c| c.id == client_id).ok_or(page(PageError::UnknownClient))?;
    let redirect_uri = single(params, "redirect_uri").map_err(page)?.ok_or(page(PageError::MissingRedirectUri))?;
    if !client.redirect_uri_allowed(redirect_uri) {
        return Err(page(PageError::RedirectUriMismatch));
    }
    // From here on errors go back to the (now trusted) redirect URI. Repeated parameters are
    // reported there too, with whatever state can be read.
    let state = params.iter().find(|(k, _)| k == "state").map(|(_, v)| v.clone()).filter(|s| !s.is_empty());
    let response_mode = match params.iter().find(|(k, _)| k == "response_mode").map(|(_, v)| v.as_str()) {
        Some("form_post") => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    let fail = |error: &'static str, description: &str| {
        AuthorizeError::Redirect(ErrorResponse {
            redirect_uri: redirect_uri.to_owned(),
            response_mode,
            state: state.clone(),
            error,
            description: description.to_owned(),
        })
    };
    let get = |name: &str| single(params, name).map_err(|_| fail("invalid_request", &format!("{name} is repeated")));

    match get("response_mode")? {
        None | Some("query" | "form_post") => {}
        Some(_) => return Err(fail("invalid_request", "response_mode must be query or form_post")),
    }
    if get("request")?.is_some() {
        return Err(fail("request_not_supported", "request objects are not supported"));
    }
    if get("request_uri")?.is_some() {
        return Err(fail("request_uri_not_supported", "request_uri is not supported"));
    }
    match get("response_type")? {
        Some("code") => {}
        None => return Err(fail("invalid_request", "response_type is required")),
        Some(_) => return Err(fail("unsupported_response_type", "only response_type=code is supported")),
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(fail("unauthorized_client", "the client is not registered for the authorization code flow"));
    }
    let requested: Vec<&str> = get("scope")?.unwrap_or("").split(' ').filter(|s| !s.is_empty()).collect();
    if !requested.contains(&"openid") {
        return Err(fail("invalid_scope", "the scope must contain openid"));
    }
    // The OpenID scopes, then the extra ones this client is registered for; others are ignored
    // (RFC 6749 §3.3).
    let mut scope: Vec<String> = crate::SCOPES
        .iter()
        .chain(crate::EXTRA_SCOPES.iter())
        .filter(|s| requested.contains(s))
        .filter(|s| crate::SCOPES.contains(s) || client.scopes.iter().any(|c| c == *s))
        .map(|s| (*s).to_owned())
        .collect();
    if scope.iter().any(|s| s == "offline_access") && !client.allows(GrantType::RefreshToken) {
        scope.retain(|s| s != "offline_access");
    }
    let code_challenge = match get("code_challenge")? {
        Some(challenge) => {
            pkce::check_challenge(challenge, get("code_challenge_method")?)
                .map_err(|e| fail("invalid_request", &e.to_string()))?;
            Some(challenge.to_owned())
        }
        // RFC 9700 §2.1.1: a confidential OpenID Connect client may rely on nonce instead.
        None if client.pkce == Pkce::Optional && !client.is_public() => {
            if get("nonce")?.is_none() {
                return Err(fail("invalid_request", "nonce is required when no code_challenge is sent"));
            }
            None
        }
        None => return Err(fail("invalid_request", "code_challenge is required (PKCE S256)")),
    };

    let mut prompt = Prompt::default();
    for value in get("prompt")?.unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            _ => return Err(fail("invalid_request", "prompt may hold none, login, consent and select_account")),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(fail("invalid_request", "prompt=none cannot be combined with other values"));
    }
    let max_age = match get("max_age")? {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| fail("invalid_request", "max_age must be a non-negative integer"))?,
        ),
    };
    let owned = |v: Option<&str>| v.map(str::to_owned);
    Ok(AuthorizeRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: owned(get("state")?),
        nonce: owned(get("nonce")?),
        code_challenge,
        response_mode,
        prompt,
        max_age,
        login_hint: owned(get("login_hint")?),
        id_token_hint: owned(get("id_token_hint")?),
        ui_locales: owned(get("ui_locales")?),
        acr_values: owned(get("acr_values")?),
    })
}

/// How the response reaches the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// 303 to this URL.
    Redirect(String),
    /// An auto-submitting form (OAuth 2.0 Form Post Response Mode).
    FormPost { action: String, fields: Vec<(String, String)> },
}

/// Builds the response carrying `fields` plus `state` and `iss` (RFC 9207, mix-up defence).
pub fn deliver(
    redirect_uri: &str,
    mode: ResponseMode,
    state: Option<&str>,
    issuer: &str,
    mut fields: Vec<(String, String)>,
) -> Delivery {
    if let Some(state) = state {
        fields.push(("state".into(), state.to_owned()));
    }
    fields.push(("iss".into(), issuer.to_owned()));
    match mode {
        ResponseMode::FormPost => Delivery::FormPost { action: redirect_uri.to_owned(), fields },
        ResponseMode::Query => {
            // The redirect URI was registered and checked, so it parses; keep its own query.
            let url = match Url::parse(redirect_uri) {
                Ok(mut url) => {
                    url.query_pairs_mut().extend_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                    url.to_string()
                }
                Err(_) => redirect_uri.to_owned(),
            };
            Delivery::Redirect(url)
        }
    }
}

impl ErrorResponse {
    pub fn deliver(&self, issuer: &str) -> Delivery {
        deliver(
            &self.redirect_uri,
            self.response_mode,
            self.state.as_deref(),
            issuer,
            vec![("error".into(), self.error.into()), ("error_description".into(), self.description.clone())],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Registration;
    use time::OffsetDateTime;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const CB: &str = "https://tool.example/cb";

    fn client() -> Client {
        let r = Registration { name: "Tool".into(), redirect_uris: vec![CB.into()], ..Registration::default() };
        r.into_client("c1".into(), "s".into(), OffsetDateTime::UNIX_EPOCH).unwrap().0
    }

    fn params(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = [
            ("client_id", "c1"),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("scope", "openid email unknown"),
            ("state", "st"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (k, v) in extra {
            p.retain(|(pk, _)| pk != k);
            if !v.is_empty() {
                p.push(((*k).to_owned(), (*v).to_owned()));
            }
        }
        p
    }

    fn error_of(extra: &[(&str, &str)]) -> &'static str {
        match validate(&params(extra), Some(&client())) {
            Err(AuthorizeError::Redirect(e)) => e.error,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_good_request_validates() {
        let r = validate(&params(&[("nonce", "n"), ("max_age", "60"), ("prompt", "login consent")]), Some(&client()))
            .unwrap();
        assert_eq!(r.scope, vec!["openid", "email"]);
        assert_eq!(r.max_age, Some(60));
        assert!(r.prompt.login && r.prompt.consent && !r.prompt.none);
        assert_eq!(r.response_mode, ResponseMode::Query);
    }

    #[test]
    fn bad_clients_and_redirect_uris_never_redirect() {
        let cases: [(&[(&str, &str)], PageError); 4] = [
            (&[("client_id", "")], PageError::MissingClient),
            (&[("client_id", "other")], PageError::UnknownClient),
            (&[("redirect_uri", "")], PageError::MissingRedirectUri),
            (&[("redirect_uri", "https://evil.example/cb")], PageError::RedirectUriMismatch),
        ];
        for (extra, expected) in cases {
            assert_eq!(validate(&params(extra), Some(&client())), Err(AuthorizeError::Page(expected)));
        }
        let mut twice = params(&[]);
        twice.push(("redirect_uri".into(), "https://evil.example/cb".into()));
        assert_eq!(validate(&twice, Some(&client())), Err(AuthorizeError::Page(PageError::RepeatedParameter)));
    }

    #[test]
    fn protocol_errors_go_to_the_client() {
        assert_eq!(error_of(&[("response_type", "token")]), "unsupported_response_type");
        assert_eq!(error_of(&[("response_type", "code id_token")]), "unsupported_response_type");
        assert_eq!(error_of(&[("code_challenge", "")]), "invalid_request");
        assert_eq!(error_of(&[("code_challenge_method", "plain")]), "invalid_request");
        assert_eq!(error_of(&[("scope", "email")]), "invalid_scope");
        assert_eq!(error_of(&[("prompt", "none login")]), "invalid_request");
        assert_eq!(error_of(&[("max_age", "-1")]), "invalid_request");
        assert_eq!(error_of(&[("request", "eyJ")]), "request_not_supported");
        assert_eq!(error_of(&[("response_mode", "fragment")]), "invalid_request");
    }

    #[test]
    fn responses_carry_state_and_issuer() {
        let d = deliver(
            "https://tool.example/cb?a=1",
            ResponseMode::Query,
            Some("s t"),
            "https://hub",
            vec![("code".into(), "x".into())],
        );
        assert_eq!(d, Delivery::Redirect("https://tool.example/cb?a=1&code=x&state=s+t&iss=https%3A%2F%2Fhub".into()));
        let f = deliver(CB, ResponseMode::FormPost, None, "https://hub", vec![("code".into(), "x".into())]);
        assert!(matches!(f, Delivery::FormPost { ref fields, .. } if fields.len() == 2));
    }

    #[test]
    fn without_pkce_only_an_admin_allowed_confidential_client_gets_through_and_only_with_nonce() {
        let no_pkce = [("code_challenge", ""), ("code_challenge_method", "")];
        assert_eq!(error_of(&no_pkce), "invalid_request", "PKCE is required by default");
        let r = Registration {
            name: "OmniAuth".into(),
            redirect_uris: vec![CB.into()],
            pkce: Pkce::Optional,
            ..Registration::default()
        };
        let omniauth = r.into_client("c1".into(), "s".into(), OffsetDateTime::UNIX_EPOCH).unwrap().0;
        match validate(&params(&no_pkce), Some(&omniauth)) {
            Err(AuthorizeError::Redirect(e)) => assert!(e.description.contains("nonce"), "{e:?}"),
            other => panic!("{other:?}"),
        }
        let ok = validate(&params(&[no_pkce[0], no_pkce[1], ("nonce", "n")]), Some(&omniauth)).unwrap();
        assert_eq!(ok.code_challenge, None);
        let with = validate(&params(&[("nonce", "n")]), Some(&omniauth)).unwrap();
        assert_eq!(with.code_challenge.as_deref(), Some(CHALLENGE), "a client that sends PKCE gets PKCE");
    }

    #[test]
    fn extra_scopes_are_kept_only_for_clients_registered_for_them() {
        let asked = [("scope", "openid catalogue:write")];
        assert_eq!(validate(&params(&asked), Some(&client())).unwrap().scope, vec!["openid"]);
        let r = Registration {
            name: "Redaktion".into(),
            redirect_uris: vec![CB.into()],
            scopes: vec![crate::CATALOGUE_WRITE.into()],
            ..Registration::default()
        };
        let editor_tool = r.into_client("c1".into(), "s".into(), OffsetDateTime::UNIX_EPOCH).unwrap().0;
        assert_eq!(validate(&params(&asked), Some(&editor_tool)).unwrap().scope, vec!["openid", "catalogue:write"]);
    }
}
