//! Serving a router on a listener with connection discipline: what an attacker who can reach a
//! port may hold is bounded, and the other ports do not feel it.
//!
//! - **At most [`Limits::max_connections`] open at once** per listener. One more is answered a
//!   plain `503` (`Retry-After: 1`) with a non-blocking write and closed at once: no task, no
//!   buffer, no wait. Each listener has its own count, so an attacker holding the webhook port
//!   never takes the plugin's or the admin port's connections.
//! - **HTTP/1**: a request's headers must arrive within [`Limits::header_timeout`], which also
//!   closes a keep-alive connection idle that long (hyper starts the timer when it waits for a
//!   request's head).
//! - **HTTP/2**: at most [`Limits::max_streams`] streams at once per connection.
//! - **Any connection** on which nothing was read or written for [`Limits::idle_timeout`] is
//!   shut down gracefully (an HTTP/2 connection sitting idle, a client that stops reading).
//! - **Shutdown**: the listener closes at once, connections finish what is in flight (HTTP/2 gets
//!   a `GOAWAY`), for at most [`super::SHUTDOWN_GRACE`].
//!
//! The handlers' own limits (request timeout, body sizes, the webhook byte budget) sit on top.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use crate::metrics::{ListenerLabel, Metrics};

/// What one listener allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; beyond, a new one is refused.
    pub max_connections: usize,
    /// Time for an HTTP/1 request's headers to arrive (and for an idle keep-alive connection).
    pub header_timeout: Duration,
    /// Time without a byte read or written after which a connection is shut down.
    pub idle_timeout: Duration,
    /// HTTP/2 streams at once per connection.
    pub max_streams: u32,
}

impl Limits {
    /// The plugin's port: Argo CD's ApplicationSet controller, a few connections.
    pub const PLUGIN: Self = Self {
        max_connections: 512,
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
        max_streams: 16,
    };
    /// The webhook port, published to the internet through an Ingress.
    pub const WEBHOOK: Self = Self {
        max_connections: 512,
        ..Self::PLUGIN
    };
    /// The admin port: the kubelet's probes and Prometheus.
    pub const ADMIN: Self = Self {
        max_connections: 64,
        ..Self::PLUGIN
    };
}

/// The answer to a connection beyond [`Limits::max_connections`].
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
retry-after: 1\r\nconnection: close\r\ncontent-length: 48\r\n\r\n\
{\"message\":\"too many connections; retry later\"}\n";

/// How often an idle connection is looked at (its timeout is late by this much at most).
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` under `limits` until `cancel` fires, then for at most
/// [`super::SHUTDOWN_GRACE`] while connections finish. `name` labels the metrics and logs.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    name: &'static str,
    metrics: Option<Arc<Metrics>>,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_streams);
    let builder = Arc::new(builder);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let counted = Counted::new(metrics, name);
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, _) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, mostly: wait a little rather than spin.
                warn!(listener = name, %error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            counted.refused();
            refuse(&stream);
            continue;
        };
        if let Err(error) = stream.set_nodelay(true) {
            debug!(%error, "cannot set TCP_NODELAY on a connection");
        }
        let (builder, router, cancel) = (Arc::clone(&builder), router.clone(), cancel.clone());
        let open = counted.opened();
        tracker.spawn(async move {
            connection(&builder, stream, router, limits.idle_timeout, &cancel).await;
            drop((permit, open));
        });
    }
    tracker.close();
    if tokio::time::timeout(super::SHUTDOWN_GRACE, tracker.wait())
        .await
        .is_err()
    {
        warn!(
            listener = name,
            grace_s = super::SHUTDOWN_GRACE.as_secs(),
            "connections still open after the grace period; closing them"
        );
    }
    Ok(())
}

/// Serves one connection until it ends, is idle too long, or `cancel` fires (then gracefully).
async fn connection(
    builder: &auto::Builder<TokioExecutor>,
    stream: TcpStream,
    router: Router,
    idle_timeout: Duration,
    cancel: &CancellationToken,
) {
    let (io, activity) = Watched::new(stream);
    let service = TowerToHyperService::new(router);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    debug!(%error, "connection ended with an error");
                }
                return;
            }
            () = cancel.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = activity.idle_for(idle_timeout), if !closing => {
                debug!(idle_s = idle_timeout.as_secs(), "closing an idle connection");
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

/// Answers a connection beyond the limit without waiting: what the socket takes of the
/// refusal now, then it is closed.
fn refuse(stream: &TcpStream) {
    let _ = stream.try_write(REFUSAL);
}

/// The open-connection gauge and refusal counter of one listener, when metrics are kept.
struct Counted {
    metrics: Option<Arc<Metrics>>,
    label: ListenerLabel,
}

/// One open connection, counted until dropped.
struct Open(Option<(Arc<Metrics>, ListenerLabel)>);

impl Counted {
    fn new(metrics: Option<Arc<Metrics>>, name: &'static str) -> Self {
        Self {
            metrics,
            label: ListenerLabel { listener: name },
        }
    }

    fn opened(&self) -> Open {
        Open(self.metrics.as_ref().map(|metrics| {
            metrics.http_connections.get_or_create(&self.label).inc();
            (Arc::clone(metrics), self.label.clone())
        }))
    }

    fn refused(&self) {
        if let Some(metrics) = &self.metrics {
            metrics
                .http_connections_refused
                .get_or_create(&self.label)
                .inc();
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some((metrics, label)) = &self.0 {
            metrics.http_connections.get_or_create(label).dec();
        }
    }
}

/// When a connection last moved a byte, in milliseconds since it was accepted.
#[derive(Clone)]
struct Activity {
    since: Instant,
    last: Arc<AtomicU64>,
}

impl Activity {
    fn touch(&self) {
        let now = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    /// Resolves once nothing moved for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
            let quiet = self.since.elapsed().saturating_sub(last);
            if quiet >= timeout {
                return;
            }
            tokio::time::sleep(
                (timeout - quiet)
                    .min(IDLE_CHECK)
                    .max(Duration::from_millis(10)),
            )
            .await;
        }
    }
}

/// A TCP stream that records when it last read or wrote a byte.
struct Watched {
    stream: TcpStream,
    activity: Activity,
}

impl Watched {
    fn new(stream: TcpStream) -> (Self, Activity) {
        let activity = Activity {
            since: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        };
        let watched = Self {
            stream,
            activity: activity.clone(),
        };
        (watched, activity)
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
