//! Fixed-window counters for rate limits. A hit is counted and read back in one statement, so
//! requests that arrive together each see a distinct count and the limit holds under
//! concurrency, on one instance or many.

use crate::timestamp::{from_secs, secs};
use crate::{Store, StoreError};
use sqlx::Row;
use time::{Duration, OffsetDateTime};

pub struct RateLimits<'a> {
    store: &'a Store,
}

/// The hits of a bucket's current window, this one included, and when the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hits {
    pub count: i64,
    pub resets_at: OffsetDateTime,
}

impl<'a> RateLimits<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        RateLimits { store }
    }

    /// Counts a hit in the bucket's window (a new window starts when the last one is over).
    pub async fn hit(&self, bucket: &str, now: OffsetDateTime, window: Duration) -> Result<Hits, StoreError> {
        let row = sqlx::query(
            "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) ON CONFLICT (bucket) DO UPDATE SET \
             hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END, \
             window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
             RETURNING hits, window_start",
        )
        .bind(bucket)
        .bind(secs(now))
        .bind(secs(now - window))
        .fetch_one(self.store.pool())
        .await?;
        Ok(Hits { count: row.try_get(0)?, resets_at: from_secs("window_start", row.try_get(1)?)? + window })
    }

    /// Takes one hit back (a successful login does not use up its address's budget).
    pub async fn undo(&self, bucket: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE rate_limits SET hits = hits - 1 WHERE bucket = $1 AND hits > 0")
            .bind(bucket)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    pub async fn clear(&self, bucket: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM rate_limits WHERE bucket = $1").bind(bucket).execute(self.store.pool()).await?;
        Ok(())
    }
}
