//! The HTTP shell: the plugin router and the GitHub webhook receiver (main port), and the admin
//! router (health and metrics).
//!
//! [`router`] and [`admin_router`] build complete routers with every layer, so that tests call
//! exactly what production serves (`tower::ServiceExt::oneshot`). `main` only binds and serves
//! them with [`serve`]. Handlers read the current [`crate::snapshot::Snapshot`] and never wait on
//! GitHub.

mod admin;
pub mod board;
mod error;
mod plugin;
mod request_body;
pub mod server;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use prometheus_client::registry::Registry;
use secrecy::SecretString;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::metrics::Metrics;
use crate::snapshot::SnapshotStore;

pub use board::{BoardState, Observe, board_router};
pub use error::ApiError;
pub use plugin::{MAX_BODY_BYTES, PLUGIN_PATH, valid_base_path};
pub use server::{Limits, serve};
pub use webhook::{
    DeliveryLog, MAX_WEBHOOK_BODY_BYTES, WEBHOOK_PATH, WebhookState, webhook_routes,
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

/// The plugin listener's router: the plugin generator endpoint at [`PLUGIN_PATH`], and
/// nowhere else.
pub fn router(state: PluginState) -> Router {
    router_with_base_paths(state, &[])
}

/// [`router`], also answering under each of `base_paths` (`/prefix`: Argo CD's `baseUrl`
/// with a path appends [`PLUGIN_PATH`] to it). Check them with [`valid_base_path`].
pub fn router_with_base_paths(state: PluginState, base_paths: &[String]) -> Router {
    with_layers(plugin::routes(state, base_paths))
}

/// The admin-port router: `/healthz`, `/readyz`, `/metrics`.
pub fn admin_router(state: AdminState) -> Router {
    with_layers(admin::routes(state))
}

/// Timeout innermost, then a panic turned into a JSON 500, then tracing around everything.
/// A 5xx is not an ERROR line by itself: the expected ones (a 503 while not synced or holding,
/// `/readyz` before the first listing) are said by the handlers at the level they deserve, and
/// a bug (a 500) is logged at ERROR where it happens.
fn with_layers(router: Router) -> Router {
    router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http().on_failure(
                tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG),
            ),
        )
}

/// A route that answers POST with `handler`, and any other method with a `405` saying
/// `what_is_posted` (with `Allow: POST`).
fn post_only<H, T, S>(handler: H, what_is_posted: &'static str) -> MethodRouter<S>
where
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    post(handler)
        .fallback(move || async move { ApiError::MethodNotAllowed(what_is_posted).into_response() })
}

fn panic_response(_: Box<dyn std::any::Any + Send>) -> Response {
    ApiError::Internal("handler panicked".into()).into_response()
}
