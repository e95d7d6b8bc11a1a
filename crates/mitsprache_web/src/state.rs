//! Shared request state: the store, the current catalogue snapshot, configuration and clock.

use arc_swap::ArcSwap;
use mitsprache_catalogue::{Catalogue, bundled};
use mitsprache_domain::Clock;
use mitsprache_matching::MatchIndex;
use mitsprache_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// What the web layer needs from the configuration; the binary fills it from the config file.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Bearer token for the catalogue write API. `None` disables writes. The identity issue
    /// replaces this with editor roles.
    pub editor_token: Option<String>,
    /// Set cookies with `Secure`; true when the public URL is https.
    pub secure_cookies: bool,
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// The catalogue and what is derived from it, swapped together so a request never sees a
/// matching index built from another revision than the catalogue it reads.
struct Snapshot {
    catalogue: Arc<Catalogue>,
    matching: Arc<MatchIndex>,
}

impl Snapshot {
    fn of(catalogue: Catalogue) -> Snapshot {
        let matching = Arc::new(MatchIndex::new(&catalogue));
        Snapshot { catalogue: Arc::new(catalogue), matching }
    }
}

struct Inner {
    store: Store,
    snapshot: ArcSwap<Snapshot>,
    config: WebConfig,
    clock: Arc<dyn Clock>,
}

impl AppState {
    /// Loads the catalogue snapshot from the store.
    pub async fn new(store: Store, config: WebConfig, clock: Arc<dyn Clock>) -> Result<AppState, StoreError> {
        let catalogue = load(&store).await?;
        Ok(AppState {
            inner: Arc::new(Inner { store, snapshot: ArcSwap::from_pointee(Snapshot::of(catalogue)), config, clock }),
        })
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    pub fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    /// The current snapshot; cheap (an atomic load), never blocks on the database.
    pub fn catalogue(&self) -> Arc<Catalogue> {
        self.inner.snapshot.load().catalogue.clone()
    }

    /// The catalogue with its matching index, from the same revision.
    pub fn matching(&self) -> (Arc<Catalogue>, Arc<MatchIndex>) {
        let snapshot = self.inner.snapshot.load();
        (snapshot.catalogue.clone(), snapshot.matching.clone())
    }

    /// Rebuilds the snapshot when the stored revision differs from the one served.
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let stored = self.store().catalogue().revision().await?;
        if stored == self.catalogue().revision {
            return Ok(false);
        }
        let fresh = load(self.store()).await?;
        self.inner.snapshot.store(Arc::new(Snapshot::of(fresh)));
        Ok(true)
    }

    /// Keeps this instance's snapshot in step with writes made through other instances that
    /// share the database (PostgreSQL deployments). Local writes refresh immediately.
    pub fn spawn_refresh(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = state.refresh().await {
                    tracing::warn!(error = %e, "catalogue refresh failed; serving the previous snapshot");
                }
            }
        })
    }
}

async fn load(store: &Store) -> Result<Catalogue, StoreError> {
    let data = store.catalogue().load().await?;
    // A store filled by an older import may lack the taxonomy; the bundled one keeps labels.
    let taxonomy = data.taxonomy.unwrap_or_else(bundled::taxonomy);
    Ok(Catalogue::new(data.revision, taxonomy, data.tools, data.interfaces))
}
