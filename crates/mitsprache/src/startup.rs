//! Building a running hub from a configuration: connect, migrate, load the bundled catalogue
//! into an empty database, build the web state, bind the listener.

use crate::config::Config;
use anyhow::Context;
use mitsprache_catalogue::bundled;
use mitsprache_domain::{Clock, SystemClock};
use mitsprache_oidc::Lifetimes;
use mitsprache_store::Store;
use mitsprache_web::identity::IdentityConfig;
use mitsprache_web::{AppState, Services, WebConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct App {
    pub state: AppState,
    pub listener: TcpListener,
    pub address: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// The identity settings the web layer needs, from the configuration.
pub fn identity_config(config: &Config) -> IdentityConfig {
    IdentityConfig {
        issuer: config.public_url.trim_end_matches('/').to_owned(),
        lifetimes: Lifetimes { session: config.identity.session_hours * 3600, ..Lifetimes::default() },
        login_attempts: config.identity.login_attempts,
        login_window: config.identity.login_window_minutes * 60,
        open_registration: config.identity.open_registration,
        registration_token: config.identity.registration_token.clone(),
        client_ip_header: config.identity.client_ip_header.clone(),
        upstream: config
            .identity
            .upstream
            .iter()
            .map(|u| mitsprache_web::identity::UpstreamProvider {
                id: u.id.clone(),
                name: u.name.clone(),
                issuer: u.issuer.trim_end_matches('/').to_owned(),
                client_id: u.client_id.clone(),
                client_secret: u.client_secret.clone().unwrap_or_default(),
            })
            .collect(),
        ..IdentityConfig::default()
    }
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
        let summary = store.catalogue().import(&doc, clock.now()).await?;
        tracing::info!(
            tools = doc.tools.len(),
            interfaces = doc.interfaces.len(),
            created = summary.created,
            "loaded the bundled catalogue into the empty database"
        );
    }
    Ok(store)
}

impl App {
    pub async fn build(config: &Config) -> anyhow::Result<App> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
        let services = Services {
            random: Arc::new(mitsprache_oidc::random::OsRandom),
            mailer: crate::mail::mailer(&config.mail)?,
        };
        Self::build_with(config, clock, services).await
    }

    /// Builds with injected clock, randomness and mail transport (tests).
    pub async fn build_with(config: &Config, clock: Arc<dyn Clock>, services: Services) -> anyhow::Result<App> {
        let store = prepare_store(config, clock.as_ref()).await?;
        let web =
            WebConfig { secure_cookies: config.public_url.starts_with("https://"), identity: identity_config(config) };
        let state = AppState::new(store, web, clock, services).await?;
        let mut tasks = vec![state.spawn_refresh(Duration::from_secs(config.catalogue.refresh_seconds))];
        tasks.extend(state.spawn_identity_tasks());
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = listener.local_addr()?;
        Ok(App { state, listener, address, tasks })
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and closes the store.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let router = mitsprache_web::router(self.state.clone())
            // The span names the path only: query strings carry mail-link tokens, ID token hints
            // and login hints, which must never reach a log.
            .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |request: &axum::http::Request<axum::body::Body>| {
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
                },
            ))
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(30),
            ));
        tracing::info!(address = %self.address, "mitsprache serves");
        // The peer address feeds the per-IP login rate limit.
        axum::serve(self.listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await?;
        for task in &self.tasks {
            task.abort();
        }
        self.state.store().close().await;
        tracing::info!("mitsprache stopped");
        Ok(())
    }
}

/// Completes on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when the
/// future is first polled, so a signal that arrives while the server starts is not lost.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
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
