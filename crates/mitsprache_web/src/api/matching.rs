//! The matching assistant's API: a requirement profile in, the explained result out.

use super::ApiJson;
use crate::error::{Problem, WebError};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use mitsprache_matching::{Limits, MatchResult, Profile};

/// Ranks the catalogue's tools against a requirement profile as a market survey: knock-outs, the
/// award part UfAB-style (weight points, scores 0–10, performance/price ratio), suitability
/// (references, certificates) apart from it and never scored. Explains every score, lists the
/// excluded tools with their reasons, the smallest relaxations when nothing fits (never a
/// required function), required functions no tool offers, weights on criteria no tool has data
/// for, toolkits that together cover the required functions, and per vendor the open questions.
/// The best 20 ranked and the first 20 excluded tools are spelled out; `total_ranked` and
/// `total_excluded` count all.
#[utoipa::path(post, path = "/api/v1/matching", tag = "matching", request_body = Profile,
    responses(
        (status = 200, description = "The result", body = MatchResult),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The profile names unknown functions or interfaces, or has impossible numbers", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_matching(
    State(state): State<AppState>,
    ApiJson(profile): ApiJson<Profile>,
) -> Result<Json<MatchResult>, WebError> {
    Ok(Json(state.hub().run_matching(&profile, Limits::default())?.1))
}
