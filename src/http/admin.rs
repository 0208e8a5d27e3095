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

async fn ready(State(state): State<AdminState>) -> impl IntoResponse {
    let snapshot = state.store.load();
    if snapshot.is_complete() {
        (StatusCode::OK, "ready\n".to_owned())
    } else {
        let waiting = snapshot.unsynced_services().join(", ");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("waiting for the first sync of: {waiting}\n"),
        )
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
