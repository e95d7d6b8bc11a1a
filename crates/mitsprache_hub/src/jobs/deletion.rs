//! Telling a tool that a person deleted their hub account (Art. 17 DSGVO reaching every tool):
//! a RISC `account-purged` Security Event Token pushed per RFC 8935 to the endpoint the tool
//! registered, or SCIM 2.0 `DELETE /Users/{id}` of the user whose `externalId` is the person's
//! subject. Queued in the transaction that deletes the account; each attempt is recorded in
//! `deletion_deliveries`, which the person's receipt and the admin log show.

use super::{Job, JobError};
use crate::Hub;
use crate::ports::HttpRequest;
use mitsprache_oidc::client::DeletionReceiver;
use mitsprache_oidc::random::id;
use mitsprache_oidc::token::signed_account_purged;
use serde::{Deserialize, Serialize};

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionEvent {
    /// The row in `deletion_deliveries`.
    pub delivery: String,
    pub client_id: String,
    /// The pairwise subject this tool knew the person by.
    pub sub: String,
    /// Ties the events of one deletion together across tools (SET `txn`).
    pub txn: String,
}

/// How one attempt ended.
enum Outcome {
    Delivered,
    /// No attempt can succeed (the receiver refuses the event itself).
    Refused(String),
    Retry(String),
}

impl Job for DeletionEvent {
    const KIND: &'static str = "account.deletion_event";
    /// About two days of attempts with the backoff (20 s doubling, at most a day).
    const MAX_ATTEMPTS: i64 = 14;

    async fn run(self, hub: &Hub) -> Result<(), JobError> {
        let outcome = match hub.client(&self.client_id).await? {
            None => Outcome::Refused("the tool was removed from the hub".into()),
            Some(client) => match &client.deletion_receiver {
                None => Outcome::Refused("the tool no longer registers a deletion receiver".into()),
                Some(DeletionReceiver::Push { endpoint_url, authorization_header }) => {
                    push(hub, &client.id, endpoint_url, authorization_header.as_deref(), &self).await
                }
                Some(DeletionReceiver::Scim { base_url, authorization_header }) => {
                    scim(hub, base_url, authorization_header.as_deref(), &self.sub).await
                }
            },
        };
        let participation = hub.store().participation();
        let now = hub.now();
        let (state, error, result) = match outcome {
            Outcome::Delivered => ("delivered", None, Ok(())),
            Outcome::Refused(e) => ("failed", Some(e.clone()), Err(JobError::Permanent(e))),
            Outcome::Retry(e) => ("retry", Some(e.clone()), Err(JobError::Retry(e))),
        };
        participation
            .delivery_attempt(&self.delivery, state, error.as_deref(), Self::MAX_ATTEMPTS, now)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
        match &result {
            Ok(()) => tracing::info!(client = %self.client_id, "deletion event delivered"),
            Err(e) => tracing::warn!(client = %self.client_id, error = %e, "deletion event not delivered"),
        }
        result
    }
}

/// RFC 8935: the SET as the body, 202 when the receiver has it; a 400 names what is wrong in
/// `err`, and an event it cannot parse or that is not for it will never be taken.
async fn push(hub: &Hub, audience: &str, url: &str, authorization: Option<&str>, e: &DeletionEvent) -> Outcome {
    let set = match signed_account_purged(
        hub.provider(),
        &hub.keys(),
        audience,
        &e.sub,
        &e.txn,
        hub.now(),
        &id(hub.random()),
    ) {
        Ok(t) => t,
        Err(err) => return Outcome::Retry(err.to_string()),
    };
    let request = HttpRequest::post_body(url, "application/secevent+jwt", set.into_bytes())
        .accept("application/json")
        .authorization(authorization)
        .timeout(TIMEOUT)
        .max_body(64 * 1024);
    match hub.http().send(request).await {
        Ok(r) if r.is_success() => Outcome::Delivered,
        Ok(r) if r.status == 400 => {
            let err = r.json::<serde_json::Value>().ok().and_then(|v| v.get("err")?.as_str().map(str::to_owned));
            match err.as_deref() {
                Some(code @ ("invalid_request" | "invalid_audience" | "invalid_issuer" | "invalid_key")) => {
                    Outcome::Refused(format!("HTTP 400 {code}"))
                }
                Some(code) => Outcome::Retry(format!("HTTP 400 {code}")),
                None => Outcome::Retry("HTTP 400".into()),
            }
        }
        Ok(r) => Outcome::Retry(format!("HTTP {}", r.status)),
        Err(err) => Outcome::Retry(err.to_string()),
    }
}

/// SCIM 2.0 (RFC 7644): find the user by `externalId`, then delete it. No such user is done:
/// the tool holds nothing of the person.
async fn scim(hub: &Hub, base: &str, authorization: Option<&str>, sub: &str) -> Outcome {
    let base = base.trim_end_matches('/');
    let filter = format!("externalId eq \"{}\"", sub.replace('\\', "\\\\").replace('"', "\\\""));
    let mut url = match url::Url::parse(&format!("{base}/Users")) {
        Ok(u) => u,
        Err(err) => return Outcome::Refused(err.to_string()),
    };
    url.query_pairs_mut().append_pair("filter", &filter);
    let found = hub
        .http()
        .send(
            HttpRequest::get(url.as_str())
                .accept("application/scim+json")
                .authorization(authorization)
                .timeout(TIMEOUT),
        )
        .await;
    let ids: Vec<String> = match found {
        Ok(r) if r.is_success() => match r.json::<serde_json::Value>() {
            Ok(v) => v
                .get("Resources")
                .and_then(|rs| rs.as_array())
                .map(|rs| rs.iter().filter_map(|u| u.get("id")?.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            Err(err) => return Outcome::Retry(err.to_string()),
        },
        Ok(r) => return Outcome::Retry(format!("HTTP {} on the search", r.status)),
        Err(err) => return Outcome::Retry(err.to_string()),
    };
    for user in ids {
        let url = format!("{base}/Users/{}", url::form_urlencoded::byte_serialize(user.as_bytes()).collect::<String>());
        match hub.http().send(HttpRequest::delete(url).authorization(authorization).timeout(TIMEOUT)).await {
            // 404: deleted meanwhile, which is what was asked.
            Ok(r) if r.is_success() || r.status == 404 => {}
            Ok(r) => return Outcome::Retry(format!("HTTP {} on the deletion", r.status)),
            Err(err) => return Outcome::Retry(err.to_string()),
        }
    }
    Outcome::Delivered
}
