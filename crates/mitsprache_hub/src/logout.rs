//! Logout: the hub's own (a button, "log out everywhere", a password reset) and RP-initiated
//! (OpenID Connect RP-Initiated Logout 1.0), all ending with a back-channel logout job for every
//! tool the ended sessions used, queued in the same transaction.

use crate::jobs::logout::BackchannelLogout;
use crate::jobs::new_job;
use crate::{Current, Hub, Result};
use mitsprache_oidc::params::Params;
pub use mitsprache_store::SessionSelector;
use mitsprache_store::{EndSessions, RevokeGrants, SessionTool};

/// What an end-session request leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndSession {
    /// Refused with a page, never redirected: the request contradicts itself, or names a
    /// post-logout address the tool has not registered (no open redirect).
    Refused(Refusal),
    /// The request does not prove it comes from a tool of this session: ask the person first
    /// (§2). The form repeats the request's parameters.
    Confirm { client_name: Option<String>, redirect: Option<String> },
    /// Done (`ended`: a session was ended); back to the tool, or the hub's own page when no
    /// tool can be told apart.
    Done { redirect: Option<String>, ended: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The ID token hint and `client_id` name different tools.
    Mismatch,
    /// The post-logout address is not registered for the tool.
    UnregisteredRedirect,
}

impl Hub {
    /// Ends sessions and the grants made in them (except `offline_access` ones), and queues the
    /// back-channel logouts of the tools they used.
    pub async fn logout(&self, which: SessionSelector<'_>) -> Result<Vec<SessionTool>> {
        self.end_sessions(which, RevokeGrants::OfTheSessions).await
    }

    pub(crate) async fn end_sessions(
        &self,
        which: SessionSelector<'_>,
        revoke: RevokeGrants,
    ) -> Result<Vec<SessionTool>> {
        let now = self.now();
        let tools =
            self.store().sessions().end(&EndSessions { which, revoke, now }, |tool| self.logout_job(tool)).await?;
        if !tools.is_empty() {
            self.jobs_queued();
        }
        Ok(tools)
    }

    pub(crate) fn logout_job(&self, tool: &SessionTool) -> mitsprache_store::NewJob {
        let job = BackchannelLogout::Session {
            sid: tool.sid.clone(),
            client_id: tool.client_id.clone(),
            account_id: tool.account_id.clone(),
        };
        new_job(self, &job, self.now())
    }

    /// RP-initiated logout: `params` is the request (query or form), `current` the session of
    /// the browser, `confirmed` whether the person confirmed on the hub's form.
    pub async fn end_session(&self, params: &Params, current: Option<&Current>, confirmed: bool) -> Result<EndSession> {
        let hint = params.get("id_token_hint").and_then(|h| self.provider().id_token_hint(&self.keys(), h));
        let hinted_client = hint.as_ref().and_then(|c| match c.get("aud") {
            Some(serde_json::Value::String(a)) => Some(a.clone()),
            Some(serde_json::Value::Array(list)) => list.first().and_then(|a| a.as_str()).map(str::to_owned),
            _ => None,
        });
        let client_id = match (hinted_client, params.get("client_id")) {
            (Some(a), Some(b)) if a != b => return Ok(EndSession::Refused(Refusal::Mismatch)),
            (Some(a), _) => Some(a),
            (None, b) => b.map(str::to_owned),
        };
        let client = match &client_id {
            Some(id) => self.client(id).await?,
            None => None,
        };
        let redirect = match (params.get("post_logout_redirect_uri"), &client) {
            (None, _) => None,
            (Some(uri), Some(c)) if c.post_logout_redirect_uris.iter().any(|u| u == uri) => {
                let mut url = url::Url::parse(uri).map_err(|e| crate::Error::Internal(e.to_string()))?;
                if let Some(s) = params.get("state") {
                    url.query_pairs_mut().append_pair("state", s);
                }
                Some(url.to_string())
            }
            (Some(_), Some(_)) => return Ok(EndSession::Refused(Refusal::UnregisteredRedirect)),
            // Without an ID token hint or client id the hub cannot tell whose address this is
            // (stock OmniAuth sends only the address): it logs out after asking, and shows its
            // own page instead of redirecting (RP-Initiated Logout §3).
            (Some(_), None) => None,
        };
        let Some(current) = current else { return Ok(EndSession::Done { redirect, ended: false }) };
        let hinted_session = hint.as_ref().and_then(|c| c.get("sid")).and_then(|v| v.as_str());
        if !confirmed && hinted_session != Some(current.session.sid.as_str()) {
            return Ok(EndSession::Confirm { client_name: client.map(|c| c.name.clone()), redirect });
        }
        self.logout(SessionSelector::Digest(&current.digest)).await?;
        Ok(EndSession::Done { redirect, ended: true })
    }
}
