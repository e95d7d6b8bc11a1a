//! Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0): a logout token posted
//! to every tool a session used. The job is queued in the transaction that ends the session;
//! it signs the token when it runs, so a retry hours later still carries a valid one.

use super::{Job, JobError};
use crate::Hub;
use crate::ports::HttpRequest;
use mitsprache_oidc::random::id;
use mitsprache_oidc::token::signed_logout_token;
use serde::{Deserialize, Serialize};

/// How long a tool has to answer one delivery.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BackchannelLogout {
    /// A session of `account_id` that used `client_id` ended.
    Session { sid: String, client_id: String, account_id: String },
    /// A token signed before deliveries became jobs (migration 0003), posted as it is.
    Signed { client_id: String, uri: String, logout_token: String },
}

impl Job for BackchannelLogout {
    const KIND: &'static str = "logout.backchannel";

    async fn run(self, hub: &Hub) -> Result<(), JobError> {
        let (client_id, uri, token) = match self {
            BackchannelLogout::Signed { client_id, uri, logout_token } => (client_id, uri, logout_token),
            BackchannelLogout::Session { sid, client_id, account_id } => {
                // A tool removed since, or one that takes no back-channel logouts, needs nothing.
                let Some(client) = hub.client(&client_id).await? else { return Ok(()) };
                let Some(uri) = client.backchannel_logout_uri.clone() else { return Ok(()) };
                let sub = hub.subject_for(&client, &account_id);
                let token =
                    signed_logout_token(hub.provider(), &hub.keys(), &client, &sub, &sid, hub.now(), &id(hub.random()))
                        .map_err(|e| JobError::Retry(e.to_string()))?;
                (client_id, uri, token)
            }
        };
        let request =
            HttpRequest::post_form(uri, vec![("logout_token".into(), token)]).timeout(TIMEOUT).max_body(64 * 1024);
        match hub.http().send(request).await {
            Ok(r) if r.is_success() => {
                tracing::info!(client = %client_id, "back-channel logout delivered");
                Ok(())
            }
            Ok(r) => Err(JobError::Retry(format!("HTTP {}", r.status))),
            Err(e) => Err(JobError::Retry(e.to_string())),
        }
    }
}
