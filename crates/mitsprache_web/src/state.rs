//! Shared request state: the application layer (`Hub`) and what only HTTP needs to know.

use mitsprache_hub::Hub;
use std::sync::Arc;

/// What the web layer needs from the configuration; the binary fills it from the config file.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Set cookies with `Secure` and the `__Host-` prefix; true when the public URL is https.
    pub secure_cookies: bool,
    /// Behind a reverse proxy: the header it writes the client address to (e.g.
    /// `X-Forwarded-For`). Unset: the TCP peer address counts.
    pub client_ip_header: Option<String>,
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    hub: Hub,
    config: WebConfig,
}

impl AppState {
    pub fn new(hub: Hub, config: WebConfig) -> AppState {
        AppState { inner: Arc::new(Inner { hub, config }) }
    }

    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    pub fn config(&self) -> &WebConfig {
        &self.inner.config
    }
}
