//! Removal of what has expired, run as the recurring housekeeping job.

use crate::timestamp::secs;
use crate::{Store, StoreError};
use time::OffsetDateTime;

/// How long ended grants and finished jobs are kept for the account page and the operator.
const KEEP_SECONDS: i64 = 30 * 86_400;

pub(crate) async fn purge_expired(store: &Store, now: OffsetDateTime) -> Result<u64, StoreError> {
    let mut total = 0;
    for sql in [
        "DELETE FROM sessions WHERE expires_at <= $1",
        "DELETE FROM pending_authorizations WHERE expires_at <= $1",
        "DELETE FROM auth_codes WHERE expires_at <= $1",
        "DELETE FROM refresh_tokens WHERE expires_at <= $1",
        "DELETE FROM email_tokens WHERE expires_at <= $1",
        "DELETE FROM revoked_tokens WHERE expires_at <= $1",
        "DELETE FROM used_assertions WHERE expires_at <= $1",
        // Sessions that expired (rather than ended by a logout) need no logout token.
        "DELETE FROM session_clients WHERE sid NOT IN (SELECT sid FROM sessions) AND $1 > 0",
        "DELETE FROM rate_limits WHERE window_start <= $1 - 86400",
    ] {
        total += sqlx::query(sql).bind(secs(now)).execute(store.pool()).await?.rows_affected();
    }
    for sql in [
        "DELETE FROM grants WHERE revoked_at IS NOT NULL AND revoked_at <= $1",
        "DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished_at <= $1",
        // The conformance report counts the last 30 days.
        "DELETE FROM data_rejection_counts WHERE day * 86400 <= $1",
    ] {
        total += sqlx::query(sql).bind(secs(now) - KEEP_SECONDS).execute(store.pool()).await?.rows_affected();
    }
    Ok(total)
}
