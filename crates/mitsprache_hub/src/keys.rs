//! Signing-key rotation: new keys for every instance; the retired ones stay published until the
//! tokens they signed have expired (the key-cleanup job removes them afterwards).

use crate::{Hub, Result};
use mitsprache_oidc::keys::{KeySet, generate};

impl Hub {
    /// Adds a new ES256 and RS256 key and retires the previous ones; returns the new kids. This
    /// instance switches at once, the others within their refresh interval.
    pub async fn rotate_keys(&self) -> Result<Vec<String>> {
        let now = self.now();
        let new = generate(self.random(), now).map_err(|e| crate::Error::Internal(e.to_string()))?;
        self.store().keys().rotate(&new, now).await?;
        self.refresh_keys().await?;
        tracing::info!("signing keys rotated");
        Ok(new.into_iter().map(|k| k.kid).collect())
    }

    /// Reloads the signing keys when the stored ones differ from this instance's snapshot.
    pub async fn refresh_keys(&self) -> Result<bool> {
        let stored = self.store().keys().list().await?;
        if stored.iter().map(|k| k.kid.as_str()).eq(self.keys().kids.iter().map(String::as_str)) {
            return Ok(false);
        }
        let set = KeySet::build(&stored, self.now(), self.config().keep_retired())
            .map_err(|e| crate::Error::Internal(e.to_string()))?;
        self.inner.keys.replace(set);
        Ok(true)
    }
}
