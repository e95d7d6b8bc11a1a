//! The JSON API under `/api/v1/`: handlers, their request and response types, and the two
//! extractors every write handler uses (editor authentication and strict JSON bodies).

pub mod catalogue;
pub mod matching;

use crate::error::ApiError;
use crate::identity::oidc::{OAuthError, bearer, check_access_token};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use mitsprache_domain::Role;

/// Proof that the request carries an access token of this hub whose holder may edit the
/// catalogue: a person with the editor or admin role (code flow), or a machine client an admin
/// gave that role (client_credentials).
pub struct Editor;

impl FromRequestParts<AppState> for Editor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = bearer(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let (token, grant) = match check_access_token(state, presented).await {
            Ok(checked) => checked,
            Err(OAuthError::Store(e)) => return Err(ApiError::Unavailable(e)),
            Err(_) => return Err(ApiError::Unauthorized),
        };
        // The hub's API is the audience of person tokens and of machine tokens without `resource`.
        if !token.aud.iter().any(|a| *a == state.identity().config.issuer) {
            return Err(ApiError::Unauthorized);
        }
        let store = state.store().identity();
        let role = match grant {
            Some(g) if g.revoked_at.is_none() => {
                store.account(&g.account_id).await.map_err(ApiError::Unavailable)?.map(|a| a.role)
            }
            Some(_) => return Err(ApiError::Unauthorized),
            None => store.client(&token.client_id).await.map_err(ApiError::Unavailable)?.and_then(|c| c.machine_role),
        };
        if role.is_some_and(Role::can_edit_catalogue) { Ok(Editor) } else { Err(ApiError::Forbidden) }
    }
}

/// `Json<T>` whose rejections are problem+json with stable codes. Every request body of the API
/// is a JSON object; serde would otherwise also read a struct from a positional array.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) if v.is_object() => {
                serde_json::from_value(v).map(ApiJson).map_err(|e| ApiError::Unprocessable(e.to_string()))
            }
            Ok(_) => Err(ApiError::Unprocessable("the body must be a JSON object".into())),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::Unprocessable(e.body_text())),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::InvalidBody(e.body_text())),
            Err(JsonRejection::BytesRejection(e)) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge)
            }
            Err(e) => Err(ApiError::InvalidBody(e.body_text())),
        }
    }
}
