//! The key snapshot an instance signs and verifies with: loaded from the store, replaced
//! atomically when another instance (or the CLI) rotated the stored keys.

use arc_swap::ArcSwap;
use mitsprache_oidc::keys::KeySet;
use std::sync::Arc;

pub struct KeyRing {
    current: ArcSwap<KeySet>,
}

impl KeyRing {
    pub fn new(keys: KeySet) -> KeyRing {
        KeyRing { current: ArcSwap::from_pointee(keys) }
    }

    /// The current snapshot (an atomic load).
    pub fn get(&self) -> Arc<KeySet> {
        self.current.load_full()
    }

    pub fn replace(&self, keys: KeySet) {
        self.current.store(Arc::new(keys));
    }
}
