//! Serving a router on a listener with connection discipline: what an attacker who can reach a
//! port may hold is bounded, and the other ports do not feel it.
//!
//! - **At most [`Limits::max_connections`] open at once** per listener. One more is answered a
//!   plain `503` (`Retry-After: 1`) with a non-blocking write and closed at once: no task, no
//!   buffer, no wait. Each listener has its own count, so an attacker holding the webhook port
//!   never takes the plugin's or the admin port's connections.
//! - **HTTP/1**: a request's headers must arrive within [`Limits::header_timeout`], which also
//!   closes a keep-alive connection idle that long (hyper starts the timer when it waits for a
//!   request's head); at most [`READ_BUFFER`] bytes are buffered for a request's head.
//! - **HTTP/2**: at most [`Limits::max_streams`] streams at once per connection, small flow-control
//!   windows and header lists, so that what a client may send ahead of being read stays small.
//! - **Any connection** must start a request within [`Limits::header_timeout`] of being accepted
//!   (an HTTP/2 preface trickled byte by byte starts none); one on which nothing was read or
//!   written for [`Limits::idle_timeout`], or open longer than [`MAX_AGE`], is shut down
//!   gracefully, and dropped [`CLOSE_GRACE`] later if it has not finished by then (a client that
//!   stops reading its answers, or opens no window for them, cannot keep it).
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
    /// The board's port: people's browsers, behind the sign-in proxy.
    pub const BOARD: Self = Self {
        max_connections: 256,
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
/// Longest a connection stays open, however busy: then it is closed gracefully (clients open
/// another).
pub const MAX_AGE: Duration = Duration::from_secs(600);
/// How long a connection asked to close may take to finish what is in flight before it is
/// dropped.
pub const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// Largest HTTP/1 read buffer (a request's head must fit).
pub const READ_BUFFER: usize = 64 * 1024;
/// Largest HTTP/2 header list of one request, decoded. Kept small because a connection holds
/// one per open stream: [`Limits::max_streams`] of them at most. GitHub's and Argo CD's headers
/// are under 2 KiB.
pub const H2_HEADER_LIST: u32 = 16 * 1024;
/// HTTP/2 flow-control windows: what a client may send on a connection (and a stream) before
/// the server reads it.
const H2_CONNECTION_WINDOW: u32 = 128 * 1024;
const H2_STREAM_WINDOW: u32 = 64 * 1024;

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
        .max_buf_size(READ_BUFFER)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_streams)
        .max_header_list_size(H2_HEADER_LIST)
        .initial_connection_window_size(H2_CONNECTION_WINDOW)
        .initial_stream_window_size(H2_STREAM_WINDOW);
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
            connection(&builder, stream, router, limits, &cancel).await;
            drop((permit, open));
        });
    }
    // New connections are refused from now on; those open finish.
    drop(listener);
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

/// Serves one connection until it ends: gracefully when `cancel` fires, when it started no
/// request within the header timeout, sat idle, or grew too old, and then dropped if it does
/// not finish within [`CLOSE_GRACE`].
async fn connection(
    builder: &auto::Builder<TokioExecutor>,
    stream: TcpStream,
    router: Router,
    limits: Limits,
    cancel: &CancellationToken,
) {
    let (io, activity) = Watched::new(stream);
    let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let requested = Arc::clone(&started);
    let service = tower::ServiceExt::map_request(router, move |request| {
        requested.store(true, Ordering::Relaxed);
        request
    });
    let conn = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
    tokio::pin!(conn);
    let first_request = async {
        tokio::time::sleep(limits.header_timeout).await;
        if started.load(Ordering::Relaxed) {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(first_request);
    let mut deadline: Option<Pin<Box<tokio::time::Sleep>>> = None;
    let close_by = |deadline: &mut Option<_>| {
        *deadline = Some(Box::pin(tokio::time::sleep(CLOSE_GRACE)));
    };
    loop {
        let closing = deadline.is_some();
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    debug!(%error, "connection ended with an error");
                }
                return;
            }
            () = async { deadline.as_mut().expect("set").await }, if closing => {
                debug!("dropping a connection that did not finish closing");
                return;
            }
            () = &mut first_request => {
                debug!("no request started in time; dropping the connection");
                return;
            }
            () = cancel.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                close_by(&mut deadline);
            }
            () = activity.idle_for(limits.idle_timeout), if !closing => {
                debug!(idle_s = limits.idle_timeout.as_secs(), "closing an idle connection");
                conn.as_mut().graceful_shutdown();
                close_by(&mut deadline);
            }
            () = activity.older_than(MAX_AGE), if !closing => {
                conn.as_mut().graceful_shutdown();
                close_by(&mut deadline);
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
            metrics.http.connections.get_or_create(&self.label).inc();
            (Arc::clone(metrics), self.label.clone())
        }))
    }

    fn refused(&self) {
        if let Some(metrics) = &self.metrics {
            metrics
                .http
                .connections_refused
                .get_or_create(&self.label)
                .inc();
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some((metrics, label)) = &self.0 {
            metrics.http.connections.get_or_create(label).dec();
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

    /// Resolves once the connection is `age` old.
    async fn older_than(&self, age: Duration) {
        tokio::time::sleep(age.saturating_sub(self.since.elapsed())).await;
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
