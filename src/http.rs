//! The HTTP shell: the plugin router and the GitHub webhook receiver (main port), and the admin
//! router (health and metrics).
//!
//! [`router`] and [`admin_router`] build complete routers with every layer, so that tests call
//! exactly what production serves (`tower::ServiceExt::oneshot`). `main` only binds and serves
//! them with [`serve`]. Handlers read the current [`crate::snapshot::Snapshot`] and never wait on
//! GitHub.

mod admin;
mod error;
mod plugin;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use prometheus_client::registry::Registry;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::metrics::Metrics;
use crate::snapshot::SnapshotStore;

pub use error::ApiError;
pub use plugin::{MAX_BODY_BYTES, PLUGIN_PATH};
pub use webhook::{
    DeliveryLog, MAX_WEBHOOK_BODY_BYTES, WEBHOOK_PATH, WebhookSink, WebhookState, webhook_routes,
};

/// Longest time any request may take before it is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long answers in flight may finish after a shutdown signal (SIGTERM), before the server
/// closes what is left. Kubernetes waits 30 s by default before SIGKILL.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the plugin handlers share.
#[derive(Clone)]
pub struct PluginState {
    /// The current snapshot.
    pub store: Arc<SnapshotStore>,
    /// The bearer token Argo CD sends (from the plugin token Secret).
    pub token: Arc<SecretString>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

/// What the admin handlers share.
#[derive(Clone)]
pub struct AdminState {
    /// The current snapshot (for the services still waiting for their first sync).
    pub store: Arc<SnapshotStore>,
    /// Ready once every repo's first refresh has been tried.
    pub ready: Arc<dyn Fn() -> bool + Send + Sync>,
    /// Every metric, for `/metrics`.
    pub registry: Arc<Registry>,
}

/// The main-port router: the plugin generator endpoint.
pub fn router(state: PluginState) -> Router {
    with_layers(plugin::routes(state))
}

/// The admin-port router: `/healthz`, `/readyz`, `/metrics`.
pub fn admin_router(state: AdminState) -> Router {
    with_layers(admin::routes(state))
}

/// Timeout innermost, then a panic turned into a JSON 500, then tracing around everything.
fn with_layers(router: Router) -> Router {
    router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
}

fn panic_response(_: Box<dyn std::any::Any + Send>) -> Response {
    ApiError::Internal("handler panicked".into()).into_response()
}

/// Serves `router` on `listener` until `cancel` fires, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    // TCP_NODELAY: an answer goes out as several frames (the all-services answer is one per
    // service); with Nagle's algorithm each small frame after another waits for the client's
    // delayed ACK, 40 ms on Linux.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
        }
    });
    let stopping = cancel.clone();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { stopping.cancelled().await });
    // On shutdown the listener closes at once and answers in flight finish, for at most
    // SHUTDOWN_GRACE: a client that keeps a connection open cannot hold the exit up.
    let grace = async {
        cancel.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result,
        () = grace => {
            tracing::warn!(grace_s = SHUTDOWN_GRACE.as_secs(), "connections still open after the grace period; closing them");
            Ok(())
        }
    }
}
