//! The HTTP/1.1 server: hyper with a timer, so that a client has a bounded time to send its
//! request head (a connection that trickles a head never completes holds a socket forever
//! otherwise), graceful shutdown, and the peer address for the per-IP limits.
//!
//! Requests hyper cannot parse (bytes that are no request line, a URI over 64 KiB, headers
//! beyond its buffer) never reach a route: hyper answers them itself, with an empty body. The
//! connection wrapper [`Canned`] recognises those answers on their way out and writes the error
//! response of the route group the request was meant for instead, so that every error of the
//! hub has the format of its route group.

use crate::error::{Format, format_of, from_status, oauth, page, problem};
use crate::render::Lang;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
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
) -> io::Result<()> {
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
        let service = router
            .clone()
            .map_request(move |mut request: axum::extract::Request| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            })
            .map_request(|r: hyper::Request<hyper::body::Incoming>| r.map(axum::body::Body::new));
        let mut stopped = stopped.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let _done = done;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
            let io = TokioIo::new(Canned::new(stream));
            let connection = builder.serve_connection(io, TowerToHyperService::new(service));
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
    // Tells every connection to finish its request and close; then waits until all have.
    // Fails only when no connection is left to tell.
    let _ = stop.send(true);
    drop(done);
    while all_done.changed().await.is_ok() {}
    Ok(())
}

/// How much of a request the wrapper keeps to tell which route group it was meant for.
const SNIFF: usize = 2048;

/// A connection that replaces hyper's own empty answers to unparseable requests (see the
/// module documentation).
struct Canned<T> {
    inner: T,
    /// The start of what was read since the last response went out: the request hyper may fail to parse.
    head: Vec<u8>,
    /// A replacement being written, and how much of it is out.
    replacing: Option<(Vec<u8>, usize)>,
}

impl<T> Canned<T> {
    fn new(inner: T) -> Canned<T> {
        Canned { inner, head: Vec::new(), replacing: None }
    }
}

/// The statuses hyper answers on its own when it cannot parse a request.
const HYPER_STATUSES: [u16; 3] = [400, 414, 431];

/// Whether `bytes` begin one of hyper's automatic answers: one of its statuses, without a body,
/// and without `x-content-type-options`, which the router's outermost layer sets on every
/// response it makes.
fn is_automatic_answer(bytes: &[u8]) -> Option<u16> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    let status: u16 = head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let lower = head.to_ascii_lowercase();
    let automatic = HYPER_STATUSES.contains(&status)
        && lower.contains("\r\ncontent-length: 0")
        && !lower.contains("\r\nx-content-type-options:");
    automatic.then_some(status)
}

/// The body of an already built response, which the renderers make in memory.
fn body_now(response: Response) -> (axum::http::response::Parts, Vec<u8>) {
    let (parts, body) = response.into_parts();
    let future = axum::body::to_bytes(body, usize::MAX);
    let mut future = std::pin::pin!(future);
    let bytes = match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(b)) => b.to_vec(),
        _ => Vec::new(),
    };
    (parts, bytes)
}

/// The route group's answer to a request hyper refused with `status`, as HTTP/1.1 bytes.
fn replacement(status: u16, request: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    let target = text.split(' ').nth(1).unwrap_or("/");
    let status_code = axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    let error = from_status(status_code, "the request line or its headers cannot be read".into());
    let english = text.lines().any(|l| l.to_ascii_lowercase().starts_with("accept-language: en"));
    let response = match format_of(target) {
        Format::Problem => problem(&error),
        Format::OAuth => oauth(&error),
        Format::Page => {
            let locale = if english { mitsprache_domain::Locale::En } else { mitsprache_domain::Locale::De };
            // Written below the router, without its state: this page names no operator.
            let parts = axum::http::Request::new(()).into_parts().0;
            let lang = Lang::of(&parts, false, Default::default()).with(locale);
            page(&error, &lang, "/", None)
        }
    };
    let (parts, body) = body_now(response);
    let mut out = format!("HTTP/1.1 {} {}\r\n", parts.status.as_u16(), parts.status.canonical_reason().unwrap_or(""));
    for (name, value) in &parts.headers {
        if let Ok(v) = value.to_str() {
            out.push_str(&format!("{name}: {v}\r\n"));
        }
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\nx-content-type-options: nosniff\r\nx-frame-options: DENY\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

impl<T: AsyncRead + Unpin> AsyncRead for Canned<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            let room = SNIFF.saturating_sub(self.head.len());
            let new = &buf.filled()[before..];
            let take = new.len().min(room);
            let new = new[..take].to_vec();
            self.head.extend_from_slice(&new);
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> Canned<T> {
    /// Writes the replacement; ready once all of it is out, answering as if `claimed` bytes of
    /// hyper's were written.
    fn drive(&mut self, cx: &mut Context<'_>, claimed: usize) -> Poll<io::Result<usize>> {
        while let Some((bytes, written)) = &mut self.replacing {
            if *written == bytes.len() {
                self.replacing = Some((Vec::new(), 0));
                return Poll::Ready(Ok(claimed));
            }
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(claimed))
    }

    /// What to do with the next bytes hyper writes: replace them (an automatic answer), drop
    /// them (the rest of hyper's answer while a replacement is out), or pass them on.
    fn intercept(&mut self, first: &[u8]) -> io::Result<bool> {
        match &self.replacing {
            Some((bytes, _)) if bytes.is_empty() => {
                // The replacement said `connection: close`: nothing more may follow it, and an
                // error makes hyper close the connection instead of serving on it.
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            Some(_) => return Ok(true),
            None => {}
        }
        match is_automatic_answer(first) {
            Some(status) => {
                let request = std::mem::take(&mut self.head);
                self.replacing = Some((replacement(status, &request), 0));
                Ok(true)
            }
            None => {
                // A response of the router: what is read next belongs to the next request.
                self.head.clear();
                Ok(false)
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Canned<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.intercept(buf) {
            Err(e) => return Poll::Ready(Err(e)),
            Ok(true) => return self.drive(cx, buf.len()),
            Ok(false) => {}
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &b[..]);
        match self.intercept(first) {
            Err(e) => return Poll::Ready(Err(e)),
            Ok(true) => {
                let total = bufs.iter().map(|b| b.len()).sum();
                return self.drive(cx, total);
            }
            Ok(false) => {}
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_automatic_answers_are_told_from_the_routers() {
        let automatic = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(is_automatic_answer(automatic), Some(414));
        let routed = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nx-content-type-options: nosniff\r\n\r\n";
        assert_eq!(is_automatic_answer(routed), None);
        assert_eq!(is_automatic_answer(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"), None);
        // A router answer that lost its headers (a layer outside the router) is not hyper's.
        assert_eq!(is_automatic_answer(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n"), None);
        assert_eq!(is_automatic_answer(b"HTTP/1.1 400 Bad"), None, "a head not complete in one write");
    }

    #[test]
    fn the_replacement_has_the_format_of_the_route_group() {
        let api = String::from_utf8(replacement(400, b"GET /api/v1/tools/\xff HTTP/1.1\r\n")).unwrap();
        assert!(api.starts_with("HTTP/1.1 400 Bad Request\r\n") && api.contains("application/problem+json"), "{api}");
        let oauth = String::from_utf8(replacement(431, b"POST /oidc/token HTTP/1.1\r\n")).unwrap();
        assert!(oauth.contains("\"error\":\"invalid_request\""), "{oauth}");
        let page = String::from_utf8(replacement(414, b"GET /marktplatz?q=aaaa")).unwrap();
        assert!(page.contains("text/html") && page.contains("content-security-policy"), "{page}");
        assert!(page.contains("Die Adresse ist zu lang"));
    }
}
