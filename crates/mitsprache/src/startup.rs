//! Building a running hub from a configuration: connect, migrate, load the bundled catalogue
//! into an empty database, start the application layer with its ports, schedule the recurring
//! jobs, start this instance's job worker and snapshot refresher, bind the listener.

use crate::config::Config;
use anyhow::Context;
use mitsprache_catalogue::bundled;
use mitsprache_domain::{Clock, SystemClock};
use mitsprache_hub::jobs::Worker;
use mitsprache_hub::{Hub, HubConfig, JobsConfig, Ports, UpstreamProvider};
use mitsprache_oidc::Lifetimes;
use mitsprache_store::Store;
use mitsprache_web::{AppState, WebConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct App {
    pub state: AppState,
    pub listener: TcpListener,
    pub address: SocketAddr,
    worker: Worker,
    refresher: tokio::task::JoinHandle<()>,
}

/// The settings of the application layer, from the configuration.
pub fn hub_config(config: &Config) -> HubConfig {
    HubConfig {
        issuer: config.public_url.trim_end_matches('/').to_owned(),
        lifetimes: Lifetimes { session: config.identity.session_hours * 3600, ..Lifetimes::default() },
        login_attempts: config.identity.login_attempts,
        login_window: time::Duration::minutes(config.identity.login_window_minutes),
        open_registration: config.identity.open_registration,
        registration_token: config.identity.registration_token.clone(),
        upstream: config
            .identity
            .upstream
            .iter()
            .map(|u| UpstreamProvider {
                id: u.id.clone(),
                name: u.name.clone(),
                issuer: u.issuer.trim_end_matches('/').to_owned(),
                client_id: u.client_id.clone(),
                client_secret: u.client_secret.clone().unwrap_or_default(),
            })
            .collect(),
        jobs: JobsConfig {
            lease: time::Duration::seconds(config.jobs.lease_seconds),
            poll: Duration::from_secs(config.jobs.poll_seconds),
            concurrency: config.jobs.concurrency,
            ..JobsConfig::default()
        },
        source_timeout: Duration::from_secs(config.sources.request_timeout_seconds),
        operator: std::sync::Arc::new(config.operator.operator()),
        portal: std::sync::Arc::new(config.portal.portal()),
        ..HubConfig::default()
    }
}

/// The ports of a real hub: the system's randomness, the configured mail transport, outbound
/// HTTP through reqwest, and `clock`.
pub fn ports(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Ports> {
    Ok(Ports {
        clock,
        random: Arc::new(mitsprache_oidc::random::OsRandom),
        mailer: crate::mail::mailer(&config.mail)?,
        http: Arc::new(crate::http::ReqwestHttp::new()?),
    })
}

/// Opens and migrates the store; on an empty catalogue loads the bundled one.
pub async fn prepare_store(config: &Config, clock: &dyn Clock) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database)
        .await
        .with_context(|| format!("cannot open the database {}", mitsprache_store::redact(&config.database)))?;
    let applied = store.migrate().await.context("database migration failed")?;
    if applied > 0 {
        tracing::info!(applied, "applied database migrations");
    }
    if config.catalogue.load_bundled && store.catalogue().is_empty().await? {
        let doc = bundled::document().map_err(|(path, e)| anyhow::anyhow!("bundled catalogue file {path}: {e}"))?;
        let summary = store.catalogue().import(&doc, clock.now(), &mitsprache_store::Author::new("bundled")).await?;
        tracing::info!(
            tools = doc.tools.len(),
            interfaces = doc.interfaces.len(),
            created = summary.created,
            "loaded the bundled catalogue into the empty database"
        );
    }
    Ok(store)
}

/// The application layer over a prepared store, as `serve` and the CLI commands use it.
pub async fn hub(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Hub> {
    let store = prepare_store(config, clock.as_ref()).await?;
    let ports = ports(config, clock)?;
    Ok(Hub::start(store, hub_config(config), ports).await?)
}

impl App {
    pub async fn build(config: &Config) -> anyhow::Result<App> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
        let store = prepare_store(config, clock.as_ref()).await?;
        let hub = Hub::start(store, hub_config(config), ports(config, clock)?).await?;
        hub.schedule_recurring().await?;
        let web = WebConfig {
            secure_cookies: config.public_url.starts_with("https://"),
            client_ip_header: config.identity.client_ip_header.clone(),
        };
        let state = AppState::new(hub.clone(), web);
        let worker = Worker::start(hub.clone());
        let refresher = hub.spawn_refresher(Duration::from_secs(config.catalogue.refresh_seconds));
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = listener.local_addr()?;
        if public_url_misleads(&config.public_url, address) {
            tracing::warn!(
                public_url = %config.public_url, listen = %address,
                "public_url is a loopback address other than the one the hub listens on: discovery, redirects and \
                 mail links will point elsewhere; set public_url to the address people and tools reach the hub at"
            );
        }
        Ok(App { state, listener, address, worker, refresher })
    }

    pub fn hub(&self) -> &mitsprache_hub::Hub {
        self.state.hub()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests, gives running jobs
    /// a moment to end, and closes the store.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let router = mitsprache_web::router(self.state.clone())
            // The span names the path only: query strings carry mail-link tokens, ID token hints
            // and login hints, which must never reach a log.
            .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |request: &axum::http::Request<axum::body::Body>| {
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
                },
            ));
        let missing = self.state.hub().config().operator.missing();
        if !missing.is_empty() {
            tracing::warn!(missing = %missing.join(", "),
                "the operator is not fully named: a public deployment needs an imprint, a privacy notice and an accessibility statement");
        }
        tracing::info!(address = %self.address, public_url = %self.state.hub().config().issuer, "mitsprache serves");
        mitsprache_web::serve::serve(self.listener, router, shutdown).await?;
        self.refresher.abort();
        self.worker.stop(Duration::from_secs(10)).await;
        self.state.hub().store().close().await;
        tracing::info!("mitsprache stopped");
        Ok(())
    }
}

/// Whether `public_url` names a loopback address other than the one the hub listens on (the
/// default `http://127.0.0.1:8080` with another `--listen` port silently breaks discovery).
fn public_url_misleads(public_url: &str, listen: SocketAddr) -> bool {
    let Ok(url) = url::Url::parse(public_url) else { return false };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    loopback && url.port_or_known_default() != Some(listen.port())
}

/// Completes on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when the
/// future is first polled, so a signal that arrives while the server starts is not lost.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            // An error means no handler could be installed; SIGTERM still stops the hub.
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async move {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = term => {},
        }
        tracing::info!("shutdown requested; finishing open requests");
    }
}

#[cfg(test)]
mod tests {
    use super::public_url_misleads;

    #[test]
    fn a_loopback_public_url_on_another_port_is_noticed() {
        let listen = "127.0.0.1:9000".parse().unwrap();
        assert!(public_url_misleads("http://127.0.0.1:8080", listen));
        assert!(public_url_misleads("http://localhost", listen));
        assert!(!public_url_misleads("http://127.0.0.1:9000", listen));
        assert!(!public_url_misleads("https://hub.example", listen));
    }
}
