//! Shared request state: the store, the current catalogue snapshot, configuration and clock.

use crate::identity::mail::Mailer;
use crate::identity::{Identity, IdentityConfig, keys};
use arc_swap::ArcSwap;
use base64::Engine;
use mitsprache_catalogue::{Catalogue, bundled};
use mitsprache_domain::Clock;
use mitsprache_matching::MatchIndex;
use mitsprache_oidc::random::Random;
use mitsprache_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// What the web layer needs from the configuration; the binary fills it from the config file.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Set cookies with `Secure`; true when the public URL is https.
    pub secure_cookies: bool,
    pub identity: IdentityConfig,
}

/// What the binary injects besides configuration: randomness and the mail transport.
pub struct Services {
    pub random: Arc<dyn Random>,
    pub mailer: Arc<dyn Mailer>,
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
    random: Arc<dyn Random>,
    identity: Identity,
}

impl AppState {
    /// Loads the catalogue snapshot and the signing keys (creating the first ones) from the store.
    pub async fn new(
        store: Store,
        config: WebConfig,
        clock: Arc<dyn Clock>,
        services: Services,
    ) -> Result<AppState, keys::KeyError> {
        let catalogue = load(&store).await?;
        let now = clock.now().unix_timestamp();
        let random = services.random;
        if keys::ensure(&store, now, random.as_ref()).await? {
            tracing::info!("created the first signing keys (ES256, RS256)");
        }
        let mut candidate = [0u8; 32];
        random.fill(&mut candidate);
        let candidate = base64::engine::general_purpose::STANDARD.encode(candidate);
        let pairwise = store.identity().hub_secret("pairwise_subject", &candidate).await?;
        let pairwise = base64::engine::general_purpose::STANDARD
            .decode(pairwise)
            .map_err(|_| keys::KeyError::Corrupt("pairwise_subject".into()))?;
        let identity_config = config.identity.clone();
        let key_set = keys::load(&store, now, identity_config.keep_retired()).await?;
        let rotator = crate::identity::rotation::Rotator::start(store.clone());
        let identity = Identity::new(identity_config, key_set, pairwise, services.mailer, rotator);
        Ok(AppState {
            inner: Arc::new(Inner {
                store,
                snapshot: ArcSwap::from_pointee(Snapshot::of(catalogue)),
                config,
                clock,
                random,
                identity,
            }),
        })
    }

    pub fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    pub fn random(&self) -> &dyn Random {
        self.inner.random.as_ref()
    }

    /// Reloads the signing keys when another instance (or the CLI) rotated them.
    pub async fn refresh_keys(&self) -> Result<bool, keys::KeyError> {
        let stored: Vec<String> = self.store().identity().keys().await?.into_iter().map(|k| k.kid).collect();
        if stored == self.identity().keys().kids {
            return Ok(false);
        }
        let now = self.clock().now().unix_timestamp();
        self.identity().replace_keys(keys::load(self.store(), now, self.identity().keep_retired()).await?);
        Ok(true)
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
                if let Err(e) = state.refresh_keys().await {
                    tracing::warn!(error = %e, "signing key refresh failed; keeping the previous keys");
                }
            }
        })
    }
}

impl AppState {
    /// Background work of an instance: logout deliveries, and hourly removal of expired records.
    pub fn spawn_identity_tasks(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let deliveries = tokio::spawn(crate::identity::oidc::logout::deliver_logouts(self.clone()));
        let state = self.clone();
        let purge = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let now = state.clock().now().unix_timestamp();
                match state.store().identity().purge_expired(now).await {
                    Ok(n) if n > 0 => tracing::info!(removed = n, "removed expired sessions, codes and tokens"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "removing expired records failed"),
                }
                let _ = state.store().identity().drop_retired_keys(now - state.identity().keep_retired()).await;
            }
        });
        vec![deliveries, purge]
    }
}

async fn load(store: &Store) -> Result<Catalogue, StoreError> {
    let data = store.catalogue().load().await?;
    // A store filled by an older import may lack the taxonomy; the bundled one keeps labels.
    let taxonomy = data.taxonomy.unwrap_or_else(bundled::taxonomy);
    Ok(Catalogue::new(data.revision, taxonomy, data.tools, data.interfaces))
}
