//! The application layer of the hub: every use case (accounts, sessions, the OpenID provider's
//! flows, clients, logout, upstream login, catalogue edits, keys), the per-instance runtime
//! they share, the durable background jobs and the ports to the outside world.
//!
//! [`Hub`] is what the web crate's handlers and the CLI call: they extract and render, the hub
//! decides. It reads and writes through `mitsprache_store`, applies the rules of the pure
//! crates (`mitsprache_oidc`, `mitsprache_catalogue`, `mitsprache_matching`), and reaches the
//! world only through [`ports`] (mail, outbound HTTP, time, randomness).
//!
//! Deliberately not here: HTTP requests and responses, cookies, templates (the web crate); SQL
//! (the store); reading configuration or the environment (the binary).

pub mod accounts;
pub mod authorize;
pub mod catalogue;
pub mod clients;
pub mod config;
pub mod conformance;
pub mod connectors;
pub mod data;
pub mod demo;
pub mod error;
pub mod jobs;
pub mod keys;
pub mod logout;
pub mod participation;
pub mod ports;
mod recent;
mod runtime;
pub mod sessions;
pub mod tokens;
pub mod upstream;
pub mod vendors;

pub use config::{HubConfig, JobsConfig, LegalText, Logo, Operator, Portal, UpstreamProvider};
pub use error::{Error, Forbidden, Result};
pub use sessions::Current;

use base64::Engine;
use mitsprache_oidc::client::Client;
use mitsprache_oidc::keys::KeySet;
use mitsprache_oidc::random::Random;
use mitsprache_oidc::token::Provider;
use mitsprache_store::Store;
use ports::{Clock, Http, Mailer};
use runtime::catalogue::CatalogueSnapshot;
use runtime::clients::ClientCache;
use runtime::hashing::HashingPool;
use runtime::keys::KeyRing;
use runtime::rotation::Rotator;
use std::sync::Arc;
use time::OffsetDateTime;

/// What the binary plugs in: time, randomness, mail and outbound HTTP.
#[derive(Clone)]
pub struct Ports {
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub mailer: Arc<dyn Mailer>,
    pub http: Arc<dyn Http>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] mitsprache_store::StoreError),
    #[error(transparent)]
    Keys(#[from] mitsprache_oidc::keys::KeyError),
    #[error("the stored pairwise subject secret cannot be read")]
    PairwiseSecret,
}

/// The hub of one instance. Cheap to clone; every clone shares the same runtime.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: HubConfig,
    provider: Provider,
    ports: Ports,
    keys: KeyRing,
    /// The secret pairwise subjects are derived from, shared by all instances through the store.
    pairwise: Vec<u8>,
    hashing: HashingPool,
    rotator: Rotator,
    clients: ClientCache,
    catalogue: CatalogueSnapshot,
    /// A hash of a random password: what an unknown address's login is checked against.
    decoy: tokio::sync::OnceCell<String>,
    /// Wakes this instance's job worker when a job was queued here.
    jobs_queued: tokio::sync::Notify,
    /// The portal's filter choices, lists and municipality pages as read lately.
    facets: recent::Recent<participation::PortalFacets>,
    lists: recent::Recent<participation::PortalList>,
    activity: recent::Recent<participation::MunicipalityActivity>,
    processes: recent::Recent<participation::PortalProcess>,
}

impl Hub {
    /// Loads the catalogue snapshot and the signing keys (creating the first ones and the
    /// pairwise secret when the store has none), and starts the refresh-token writer.
    pub async fn start(store: Store, config: HubConfig, ports: Ports) -> std::result::Result<Hub, StartError> {
        let now = ports.clock.now();
        let catalogue = CatalogueSnapshot::load(&store).await?;
        let stored = store.keys().list().await?;
        if !KeySet::is_complete(&stored) {
            store.keys().rotate(&mitsprache_oidc::keys::generate(ports.random.as_ref(), now)?, now).await?;
            tracing::info!("created the first signing keys (ES256, RS256)");
        }
        let keys = KeySet::build(&store.keys().list().await?, now, config.keep_retired())?;
        let mut candidate = [0u8; 32];
        ports.random.fill(&mut candidate);
        let candidate = base64::engine::general_purpose::STANDARD.encode(candidate);
        let pairwise = store.keys().hub_secret("pairwise_subject", &candidate).await?;
        let pairwise =
            base64::engine::general_purpose::STANDARD.decode(pairwise).map_err(|_| StartError::PairwiseSecret)?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Hub {
            inner: Arc::new(Inner {
                rotator: Rotator::start(store.clone()),
                store,
                provider: config.provider(),
                config,
                ports,
                keys: KeyRing::new(keys),
                pairwise,
                hashing: HashingPool::new(threads),
                clients: ClientCache::default(),
                catalogue,
                decoy: tokio::sync::OnceCell::new(),
                jobs_queued: tokio::sync::Notify::new(),
                facets: recent::Recent::new(participation::FACETS_FOR, 1),
                lists: recent::Recent::new(participation::LISTS_FOR, participation::LISTS_KEPT),
                // One municipality page per municipality a region has, at most.
                activity: recent::Recent::new(participation::LISTS_FOR, participation::LISTS_KEPT),
                processes: recent::Recent::new(participation::LISTS_FOR, participation::LISTS_KEPT),
            }),
        })
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &HubConfig {
        &self.inner.config
    }

    /// The issuer and lifetimes, as the protocol crate takes them.
    pub fn provider(&self) -> &Provider {
        &self.inner.provider
    }

    pub fn now(&self) -> OffsetDateTime {
        self.inner.ports.clock.now()
    }

    pub fn random(&self) -> &dyn Random {
        self.inner.ports.random.as_ref()
    }

    /// The current key snapshot (an atomic load).
    pub fn keys(&self) -> Arc<KeySet> {
        self.inner.keys.get()
    }

    pub(crate) fn mailer(&self) -> &dyn Mailer {
        self.inner.ports.mailer.as_ref()
    }

    pub(crate) fn http(&self) -> &dyn Http {
        self.inner.ports.http.as_ref()
    }

    /// A registered client, from this instance's short-lived cache or the store.
    pub async fn client(&self, id: &str) -> Result<Option<Arc<Client>>> {
        if let Some(c) = self.inner.clients.get(id) {
            return Ok(Some(c));
        }
        let Some(c) = self.store().clients().find(id).await? else { return Ok(None) };
        let c = Arc::new(c);
        self.inner.clients.put(c.clone());
        Ok(Some(c))
    }

    /// The `sub` a client sees for an account.
    pub fn subject_for(&self, client: &Client, account_id: &str) -> String {
        mitsprache_oidc::subject::subject(&self.inner.pairwise, client.subject_type, &client.sector, account_id)
    }

    /// An HMAC of `value` for `purpose` under the hub's secret. The purpose holds a space, so
    /// it can never be a sector (a host) and no tool's subject equals such a value.
    pub(crate) fn mac(&self, purpose: &str, value: &str) -> String {
        debug_assert!(purpose.contains(' '));
        mitsprache_oidc::subject::subject(
            &self.inner.pairwise,
            mitsprache_oidc::subject::SubjectType::Pairwise,
            purpose,
            value,
        )
    }

    /// Runs `f` (an Argon2id hash or check) on the hashing threads.
    async fn hash<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        self.inner.hashing.run(f).await.ok_or_else(|| Error::Internal("password hashing is unavailable".into()))
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store().ping().await?)
    }

    /// Keeps this instance's snapshots in step with changes made through other instances or the
    /// CLI: the catalogue (by its revision) and the signing keys (by their kids). Each instance
    /// runs its own: this only reads, and every instance must see the change.
    pub fn spawn_refresher(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = hub.refresh_catalogue().await {
                    tracing::warn!(error = %e, "catalogue refresh failed; serving the previous snapshot");
                }
                if let Err(e) = hub.refresh_keys().await {
                    tracing::warn!(error = %e, "signing key refresh failed; keeping the previous keys");
                }
            }
        })
    }
}
