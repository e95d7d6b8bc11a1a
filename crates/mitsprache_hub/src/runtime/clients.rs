//! Registered clients are read on every token request; this instance keeps them a few seconds,
//! so a change made through another instance (or the CLI) arrives soon. Unknown ids are not
//! cached, so a client registered elsewhere works at once.

use mitsprache_oidc::client::Client;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a cached client is trusted before it is read again.
const TRUST: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct ClientCache {
    entries: RwLock<HashMap<String, (Instant, Arc<Client>)>>,
}

impl ClientCache {
    pub fn get(&self, id: &str) -> Option<Arc<Client>> {
        let cache = self.entries.read().ok()?;
        cache.get(id).filter(|(at, _)| at.elapsed() < TRUST).map(|(_, c)| c.clone())
    }

    pub fn put(&self, client: Arc<Client>) {
        if let Ok(mut cache) = self.entries.write() {
            if cache.len() > 10_000 {
                cache.retain(|_, (at, _)| at.elapsed() < TRUST);
            }
            cache.insert(client.id.clone(), (Instant::now(), client));
        }
    }

    /// Drops a client after it was changed or removed through this instance.
    pub fn forget(&self, id: &str) {
        if let Ok(mut cache) = self.entries.write() {
            cache.remove(id);
        }
    }
}
