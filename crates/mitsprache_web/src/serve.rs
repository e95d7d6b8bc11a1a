//! The HTTP/1.1 server: hyper with a timer, so that a client has a bounded time to send its
//! request head (a connection that trickles a head never completes holds a socket forever
//! otherwise), graceful shutdown, and the peer address for the per-IP limits.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// How long a client may take to send a request head.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets open
/// requests finish and closes idle connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let (done, mut all_done) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors or a reset before accept: keep serving.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = router.clone().map_request(move |mut request: axum::extract::Request| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let mut stopped = stopped.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let _done = done;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
            let connection = builder.serve_connection(
                TokioIo::new(stream),
                TowerToHyperService::new(
                    service.map_request(|r: hyper::Request<hyper::body::Incoming>| r.map(axum::body::Body::new)),
                ),
            );
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stopped.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(done);
    // Every connection task holds a sender; `changed` fails once the last one is gone.
    while all_done.changed().await.is_ok() {}
    Ok(())
}
