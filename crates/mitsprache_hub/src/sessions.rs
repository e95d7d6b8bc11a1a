//! Login sessions: started after a login, found by the cookie's value, ended by a logout. The
//! cookie holds a 256-bit random value; the store keeps only its digest.

use crate::{Hub, Result};
use mitsprache_domain::Account;
use mitsprache_oidc::grant::{Amr, Session};
use mitsprache_oidc::random::{digest, id, secret};
use mitsprache_store::NewSession;
use time::Duration;

/// The signed-in person of a request.
#[derive(Debug, Clone)]
pub struct Current {
    pub session: Session,
    pub account: Account,
    /// The digest of the cookie value, to end this very session.
    pub digest: String,
}

/// A started session and the value its cookie carries (shown once, never stored).
#[derive(Debug, Clone)]
pub struct Started {
    pub cookie: String,
    pub session: Session,
}

impl Hub {
    /// How long a session lasts; also the cookie's `Max-Age`.
    pub fn session_lifetime(&self) -> Duration {
        Duration::seconds(self.config().lifetimes.session)
    }

    pub async fn start_session(&self, account_id: &str, amr: Amr, user_agent: Option<&str>) -> Result<Started> {
        let now = self.now();
        let cookie = secret(self.random());
        let session = Session {
            sid: id(self.random()),
            account_id: account_id.to_owned(),
            auth_time: now,
            amr,
            created_at: now,
            expires_at: now + self.session_lifetime(),
            user_agent: user_agent.map(|ua| ua.chars().take(200).collect()),
        };
        self.store().sessions().create(&NewSession { digest: &digest(&cookie), session: &session }).await?;
        Ok(Started { cookie, session })
    }

    /// The live session behind a cookie value, with its account.
    pub async fn current_session(&self, cookie: &str) -> Result<Option<Current>> {
        let d = digest(cookie);
        Ok(self.store().sessions().find(&d, self.now()).await?.map(|(session, account)| Current {
            session,
            account,
            digest: d,
        }))
    }
}
