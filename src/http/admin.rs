//! The admin port: liveness, readiness (the first sync of every repo has completed) and
//! Prometheus metrics.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::AdminState;

pub(super) fn routes(state: AdminState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Ready once every repo's first refresh has been tried: from then on the plugin answers each
/// service from its own state, `503` only for a service whose repo (or a dependency's) could not
/// be listed yet. One unreadable repository must not make every pod unready and every
/// ApplicationSet fail.
async fn ready(State(state): State<AdminState>) -> impl IntoResponse {
    let waiting = state.store.load().unsynced_services();
    match ((state.ready)(), waiting.is_empty()) {
        (false, _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "starting: the first listing of every repository is under way\n".to_owned(),
        ),
        (true, true) => (StatusCode::OK, "ready\n".to_owned()),
        (true, false) => (
            StatusCode::OK,
            format!(
                "ready; not listed yet (answered 503): {}\n",
                waiting.join(", ")
            ),
        ),
    }
}

async fn metrics(State(state): State<AdminState>) -> impl IntoResponse {
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, &state.registry) {
        Ok(()) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
