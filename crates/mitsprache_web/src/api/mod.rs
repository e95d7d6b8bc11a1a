//! The JSON API under `/api/v1/`: handlers, their request and response types, and the two
//! extractors every write handler uses (editor authentication and strict JSON bodies).

pub mod catalogue;
pub mod data;
pub mod matching;

use crate::error::WebError;
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use mitsprache_hub::Error;

/// Proof that the request carries an access token of this hub for its API, with the
/// `catalogue:write` scope, whose holder may edit the catalogue (the hub decides:
/// `Hub::authorize_catalogue_write`).
pub struct Editor {
    /// Who edits, as the record's history names it.
    pub actor: String,
}

impl FromRequestParts<AppState> for Editor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = mitsprache_oidc::params::bearer(authorization);
        let actor = state.hub().authorize_catalogue_write(token).await?;
        Ok(Editor { actor })
    }
}

/// `Json<T>` whose rejections are problem+json with stable codes. Every request body of the API
/// is a JSON object; serde would otherwise also read a struct from a positional array.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let error = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) if v.is_object() => {
                return serde_json::from_value(v)
                    .map(ApiJson)
                    .map_err(|e| WebError(Error::Unprocessable(e.to_string())));
            }
            Ok(_) => Error::Unprocessable("the body must be a JSON object".into()),
            Err(JsonRejection::MissingJsonContentType(_)) => Error::UnsupportedMediaType,
            Err(JsonRejection::JsonDataError(e)) => Error::Unprocessable(e.body_text()),
            Err(JsonRejection::JsonSyntaxError(e)) => Error::Malformed(e.body_text()),
            Err(JsonRejection::BytesRejection(e)) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Error::TooLarge
            }
            Err(e) => Error::Malformed(e.body_text()),
        };
        Err(WebError(error))
    }
}
