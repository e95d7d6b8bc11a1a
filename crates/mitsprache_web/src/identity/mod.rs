//! The identity side of the hub as the web layer sees it: the provider's keys and secrets,
//! sessions and CSRF, outgoing mail, and the HTTP endpoints of OpenID Connect (`oidc`) and of
//! accounts (`pages::account`). Protocol rules live in `mitsprache_oidc`; state in the store.

pub mod hashing;
pub mod keys;
pub mod mail;
pub mod oidc;
pub mod rotation;
pub mod session;
pub mod upstream;

use mitsprache_oidc::Lifetimes;
use mitsprache_oidc::password::Cost;

/// Fetches a client's `sector_identifier_uri` and returns the sector it names, after checking
/// that the document lists every redirect URI (OIDC Core §8.1). At most 64 KiB, 5 seconds.
pub async fn sector_host(http: &reqwest::Client, uri: &str, redirect_uris: &[String]) -> Result<String, String> {
    use mitsprache_oidc::client::sector_from_document;
    let response = http
        .get(uri)
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| format!("sector_identifier_uri cannot be fetched: {}", e.without_url()))?;
    if !response.status().is_success() {
        return Err(format!("sector_identifier_uri answered {}", response.status().as_u16()));
    }
    if response.content_length().is_some_and(|n| n > 65_536) {
        return Err("the sector identifier document is larger than 64 KiB".into());
    }
    let body = response.bytes().await.map_err(|e| format!("sector_identifier_uri: {}", e.without_url()))?;
    if body.len() > 65_536 {
        return Err("the sector identifier document is larger than 64 KiB".into());
    }
    sector_from_document(uri, &body, redirect_uris).map_err(|e| e.to_string())
}

/// An upstream OpenID provider people may log in with (a state Servicekonto, a municipal Keycloak).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamProvider {
    /// Short id used in URLs and in the link table, e.g. `servicekonto-nrw`.
    pub id: String,
    /// Shown on the login button.
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

/// What the identity side needs from the configuration.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// The issuer: the hub's public URL without a trailing slash.
    pub issuer: String,
    pub lifetimes: Lifetimes,
    pub password_cost: Cost,
    /// Failed logins per account (and 6× that per IP address) in `login_window` seconds.
    pub login_attempts: i64,
    pub login_window: i64,
    /// Whether people may register themselves (otherwise admins add accounts).
    pub open_registration: bool,
    /// The initial access token for RFC 7591 dynamic registration; none disables it.
    pub registration_token: Option<String>,
    pub upstream: Vec<UpstreamProvider>,
    /// Behind a reverse proxy: the header it writes the client address to (e.g.
    /// `X-Forwarded-For`). Unset: the TCP peer address counts.
    pub client_ip_header: Option<String>,
}

impl IdentityConfig {
    /// How long retired keys stay published: until the last token they signed has expired.
    pub fn keep_retired(&self) -> i64 {
        self.lifetimes.access_token.max(self.lifetimes.id_token) + 60
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            issuer: "http://127.0.0.1:8080".into(),
            lifetimes: Lifetimes::default(),
            password_cost: Cost::default(),
            login_attempts: 5,
            login_window: 900,
            open_registration: true,
            registration_token: None,
            upstream: Vec::new(),
            client_ip_header: None,
        }
    }
}

use arc_swap::ArcSwap;
use keys::KeySet;
use mail::Mailer;
use std::sync::Arc;

/// The identity side's per-instance runtime: configuration, the key snapshot, the pairwise
/// subject secret (shared by all instances through the store) and outgoing channels.
pub struct Identity {
    pub config: IdentityConfig,
    keys: ArcSwap<KeySet>,
    pairwise: Vec<u8>,
    pub mailer: Arc<dyn Mailer>,
    /// For back-channel logouts and upstream providers; no redirects followed.
    pub http: reqwest::Client,
    /// Wakes the logout delivery task when a logout was queued.
    pub logout_queued: tokio::sync::Notify,
    decoy: tokio::sync::OnceCell<String>,
    pub hashing: hashing::HashingPool,
    /// Refresh-token rotations, committed in groups.
    pub rotator: rotation::Rotator,
    /// Registered clients, read on every token request; entries live a few seconds so a change
    /// made through another instance (or the CLI) arrives soon.
    clients: std::sync::RwLock<
        std::collections::HashMap<String, (std::time::Instant, Arc<mitsprache_oidc::client::Client>)>,
    >,
}

/// How long a cached client is trusted before it is read again.
const CLIENT_CACHE: std::time::Duration = std::time::Duration::from_secs(5);

impl Identity {
    pub fn new(
        config: IdentityConfig,
        keys: KeySet,
        pairwise: Vec<u8>,
        mailer: Arc<dyn Mailer>,
        rotator: rotation::Rotator,
    ) -> Identity {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(5))
            .user_agent(concat!("mitsprache/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Identity {
            config,
            keys: ArcSwap::from_pointee(keys),
            pairwise,
            mailer,
            http,
            logout_queued: tokio::sync::Notify::new(),
            decoy: tokio::sync::OnceCell::new(),
            rotator,
            clients: std::sync::RwLock::new(std::collections::HashMap::new()),
            hashing: hashing::HashingPool::new(std::thread::available_parallelism().map_or(1, |n| n.get())),
        }
    }

    /// The current key snapshot (an atomic load).
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.load_full()
    }

    pub fn replace_keys(&self, keys: KeySet) {
        self.keys.store(Arc::new(keys));
    }

    /// A hash of a random password at the configured cost: what an unknown address's login is
    /// checked against, so it costs as much time as a known one.
    pub async fn decoy_hash(&self, cost: Cost) -> String {
        self.decoy
            .get_or_init(|| async move {
                self.hashing
                    .run(move || {
                        mitsprache_oidc::password::decoy(cost, &mitsprache_oidc::random::OsRandom).unwrap_or_default()
                    })
                    .await
                    .unwrap_or_default()
            })
            .await
            .clone()
    }

    pub fn cached_client(&self, id: &str) -> Option<Arc<mitsprache_oidc::client::Client>> {
        let cache = self.clients.read().ok()?;
        cache.get(id).filter(|(at, _)| at.elapsed() < CLIENT_CACHE).map(|(_, c)| c.clone())
    }

    pub fn cache_client(&self, client: Arc<mitsprache_oidc::client::Client>) {
        if let Ok(mut cache) = self.clients.write() {
            if cache.len() > 10_000 {
                cache.retain(|_, (at, _)| at.elapsed() < CLIENT_CACHE);
            }
            cache.insert(client.id.clone(), (std::time::Instant::now(), client));
        }
    }

    /// Drops a client from this instance's cache after it was changed or removed here.
    pub fn forget_client(&self, id: &str) {
        if let Ok(mut cache) = self.clients.write() {
            cache.remove(id);
        }
    }

    pub fn pairwise_secret(&self) -> &[u8] {
        &self.pairwise
    }

    pub fn keep_retired(&self) -> i64 {
        self.config.keep_retired()
    }
}
