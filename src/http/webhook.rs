//! `POST /api/v1/webhooks/github`: GitHub's webhook deliveries, on the main port.
//!
//! Checks in order: size (25 MiB, GitHub's cap), then the `X-Hub-Signature-256` over the raw
//! bytes. Without a valid signature nothing else happens: no delivery recorded, no event, a 401.
//! Then the `X-GitHub-Event` and `X-GitHub-Delivery` headers (400 when missing), the body (400
//! with the reason when unreadable), and the delivery id (a replay is answered `duplicate` and
//! not acted on). `ping` is answered `pong`; an event preview-tower acts on goes to the
//! [`WebhookSink`], which must not block, and is answered 202 at once: GitHub wants an answer
//! within 10 s, and the work (refresh, Argo CD) happens after it. Anything else is 202
//! `ignored` with the reason, visible in the App's delivery log.

mod deliveries;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tracing::Instrument as _;

use super::ApiError;
use crate::github::webhook::{
    self, DELIVERY_HEADER, EVENT_HEADER, Event, SIGNATURE_HEADER, verify_signature,
};
use crate::metrics::{Metrics, WebhookLabels};

pub use deliveries::DeliveryLog;

/// Where GitHub delivers: the webhook URL is `https://<main host>/api/v1/webhooks/github`.
pub const WEBHOOK_PATH: &str = "/api/v1/webhooks/github";
/// Largest delivery accepted, in bytes: GitHub caps payloads at 25 MB.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 25 * 1024 * 1024;
/// Longest `X-GitHub-Delivery` accepted (GitHub's are 36-character GUIDs).
const MAX_DELIVERY_ID_CHARS: usize = 100;

/// Where accepted events go. [`WebhookSink::deliver`] is called on the request's task before
/// the answer is sent: it must return at once (queue, coalesce, notify), never wait on GitHub
/// or Kubernetes.
pub trait WebhookSink: Send + Sync {
    /// Takes one event ([`Event::PullRequest`], [`Event::BuildFinished`] or
    /// [`Event::Command`]; never `Ping` or `Ignored`), and says whether it does anything with
    /// it: a delivery that changes nothing is answered `ignored`.
    fn deliver(&self, event: Event) -> webhook::Delivered;
}

/// What the webhook handler shares.
#[derive(Clone)]
pub struct WebhookState {
    /// The webhook secret, as set on the GitHub App (never logged).
    pub secret: Arc<SecretString>,
    /// Delivery ids seen lately.
    pub deliveries: Arc<DeliveryLog>,
    /// Where accepted events go.
    pub sink: Arc<dyn WebhookSink>,
    /// Metrics (`webhook_deliveries`).
    pub metrics: Arc<Metrics>,
}

/// The webhook route with every layer of [`super::router`] (timeout, panic, trace). Merge it
/// into the main router: `http::router(plugin).merge(webhook_routes(webhook))`. It has no
/// fallback of its own, so the merge keeps the plugin router's.
pub fn webhook_routes(state: WebhookState) -> Router {
    super::with_layers(
        Router::new()
            .route(WEBHOOK_PATH, post(receive).fallback(wrong_method))
            .with_state(state),
    )
}

async fn wrong_method() -> Response {
    let message = "method not allowed; GitHub webhooks are POSTed";
    let mut response = (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({ "message": message })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

async fn receive(State(state): State<WebhookState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let event = webhook::event_label(text(&parts.headers, EVENT_HEADER).unwrap_or_default());
    let delivery = delivery_id(&parts.headers).unwrap_or_default();
    let span = tracing::info_span!("webhook", event, delivery);
    let (outcome, response) = answer(&state, &parts.headers, body).instrument(span).await;
    let labels = WebhookLabels { event, outcome };
    state
        .metrics
        .webhook_deliveries
        .get_or_create(&labels)
        .inc();
    response
}

/// The outcome label and the answer.
async fn answer(state: &WebhookState, headers: &HeaderMap, body: Body) -> (&'static str, Response) {
    let body = match read_body(headers, body).await {
        Ok(body) => body,
        Err(response) => return ("invalid", response),
    };
    let secret = state.secret.expose_secret().as_bytes();
    if let Err(error) = verify_signature(secret, &body, text(headers, SIGNATURE_HEADER)) {
        tracing::warn!(reason = error.kind(), "webhook delivery refused: {error}");
        return ("unauthorized", ApiError::from(error).into_response());
    }
    let Some(event_name) = text(headers, EVENT_HEADER) else {
        return invalid("missing X-GitHub-Event header".to_owned());
    };
    let Some(delivery) = delivery_id(headers) else {
        return invalid(format!(
            "missing or malformed X-GitHub-Delivery header (at most {MAX_DELIVERY_ID_CHARS} characters)"
        ));
    };
    let event = match webhook::parse(event_name, &body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(
                reason = error.kind(),
                "signed webhook delivery unreadable: {error}"
            );
            return invalid(format!("cannot read this delivery: {error}"));
        }
    };
    if !state.deliveries.record(delivery) {
        tracing::debug!("webhook delivery already seen");
        return (
            "duplicate",
            reply(StatusCode::OK, json!({"status": "duplicate"})),
        );
    }
    dispatch(state, event)
}

fn dispatch(state: &WebhookState, event: Event) -> (&'static str, Response) {
    match event {
        Event::Ping { zen } => {
            tracing::info!(zen, "webhook ping");
            ("pong", reply(StatusCode::OK, json!({"status": "pong"})))
        }
        Event::Ignored {
            event,
            action,
            reason,
        } => {
            tracing::debug!(event, action, reason, "webhook delivery ignored");
            let body = json!({"status": "ignored", "reason": reason});
            ("ignored", reply(StatusCode::ACCEPTED, body))
        }
        event => {
            log_accepted(&event);
            match state.sink.deliver(event) {
                webhook::Delivered::Accepted => (
                    "accepted",
                    reply(StatusCode::ACCEPTED, json!({"status": "accepted"})),
                ),
                webhook::Delivered::Ignored { reason } => {
                    tracing::info!(reason, "webhook delivery changes nothing");
                    let body = json!({"status": "ignored", "reason": reason});
                    ("ignored", reply(StatusCode::ACCEPTED, body))
                }
            }
        }
    }
}

fn log_accepted(event: &Event) {
    match event {
        Event::PullRequest {
            repo,
            number,
            action,
        } => tracing::info!(%repo, number, action = action.as_str(), "webhook: pull request"),
        Event::BuildFinished {
            repo,
            head_sha,
            name,
            conclusion,
        } => tracing::info!(%repo, head_sha, name, ?conclusion, "webhook: build finished"),
        Event::Command {
            repo,
            number,
            author,
            command,
        } => tracing::info!(%repo, number, author, ?command, "webhook: /preview command"),
        Event::Ping { .. } | Event::Ignored { .. } => {}
    }
}

/// The whole body, refused past [`MAX_WEBHOOK_BODY_BYTES`] (then the connection is closed: the
/// rest is left unread).
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let too_large = || {
        let mut response = ApiError::PayloadTooLarge(MAX_WEBHOOK_BODY_BYTES).into_response();
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    };
    let declared =
        text(headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_WEBHOOK_BODY_BYTES as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, MAX_WEBHOOK_BODY_BYTES)
        .await
        .map_err(|error| {
            let limit = std::error::Error::source(&error)
                .is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
            if limit {
                too_large()
            } else {
                ApiError::BadRequest(format!("cannot read the request body: {error}"))
                    .into_response()
            }
        })
}

fn invalid(message: String) -> (&'static str, Response) {
    ("invalid", ApiError::BadRequest(message).into_response())
}

fn reply(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Header `name` as text, when present and visible ASCII.
fn text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name)?.to_str().ok()
}

/// `X-GitHub-Delivery`, when present, not blank and short.
fn delivery_id(headers: &HeaderMap) -> Option<&str> {
    text(headers, DELIVERY_HEADER)
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= MAX_DELIVERY_ID_CHARS)
}
