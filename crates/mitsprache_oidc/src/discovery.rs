//! The provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414), built from the issuer so
//! that every advertised endpoint is one the web crate routes.

use serde_json::{Value, json};

/// Paths of the endpoints below the issuer; the web crate routes exactly these.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const AUTHORIZE: &str = "/oidc/authorize";
    pub const TOKEN: &str = "/oidc/token";
    pub const USERINFO: &str = "/oidc/userinfo";
    pub const JWKS: &str = "/oidc/jwks";
    pub const REVOKE: &str = "/oidc/revoke";
    pub const INTROSPECT: &str = "/oidc/introspect";
    pub const END_SESSION: &str = "/oidc/logout";
    pub const REGISTER: &str = "/oidc/register";
}

pub fn metadata(issuer: &str) -> Value {
    let url = |path: &str| format!("{issuer}{path}");
    let auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt"];
    json!({
        "issuer": issuer,
        "authorization_endpoint": url(paths::AUTHORIZE),
        "token_endpoint": url(paths::TOKEN),
        "userinfo_endpoint": url(paths::USERINFO),
        "jwks_uri": url(paths::JWKS),
        "revocation_endpoint": url(paths::REVOKE),
        "introspection_endpoint": url(paths::INTROSPECT),
        "end_session_endpoint": url(paths::END_SESSION),
        "registration_endpoint": url(paths::REGISTER),
        "scopes_supported": crate::SCOPES.iter().chain(crate::EXTRA_SCOPES.iter()).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "userinfo_signing_alg_values_supported": [],
        "token_endpoint_auth_methods_supported": auth_methods.iter().chain(["none"].iter()).collect::<Vec<_>>(),
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid",
            "name", "locale", "updated_at", "email", "email_verified"],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": true,
        "ui_locales_supported": ["de", "en"],
        "claims_locales_supported": ["de", "en"],
        "acr_values_supported": ["urn:mitsprache:acr:low"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoints_hang_below_the_issuer() {
        let m = super::metadata("https://hub.example");
        assert_eq!(m["token_endpoint"], "https://hub.example/oidc/token");
        assert_eq!(m["code_challenge_methods_supported"], serde_json::json!(["S256"]));
        assert!(m["token_endpoint_auth_methods_supported"].as_array().unwrap().iter().any(|v| v == "none"));
    }
}
