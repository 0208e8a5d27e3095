//! `POST /api/v1/webhooks/github`: GitHub's webhook deliveries, on their own listener
//! (`--webhook-listen`), the one port published to the internet.
//!
//! Checks in order, cheapest first, and nothing is read before the first three pass:
//! the `X-Hub-Signature-256` header's shape (`sha256=` and 64 hex digits: a 401 without
//! reading the body); the declared size (25 MB, GitHub's cap: 413); a reservation of the body's
//! bytes in the [`ByteBudget`] of every delivery being read (`503` with `Retry-After` when it
//! is spent, so that no flood of bodies can hold more memory than the budget). Then the body is
//! read and the signature verified over the raw bytes: without a valid one nothing else happens
//! (no delivery recorded, no event, a 401). Then the `X-GitHub-Event` and `X-GitHub-Delivery`
//! headers (400 when missing), the body (400 with the reason when unreadable), and the
//! [`DeliveryLog`]: a delivery whose id or body was seen within the last hour is answered
//! `duplicate` and not acted on. `ping` is answered `pong`; an event preview-tower may act on
//! goes to the [`WebhookSink`], which must not block, and is answered 202 at once (`accepted`,
//! or `ignored` with the reason when the sink says it changes nothing, e.g. a repository outside
//! the fleet): GitHub wants an answer within 10 s, and the work (refresh, Argo CD) happens after
//! it. Anything else is 202 `ignored` with the reason, visible in the App's delivery log.

mod budget;
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

pub use budget::{ByteBudget, Reservation};
pub use deliveries::{DeliveryLog, Recorded, digest};

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
    /// Deliveries seen lately.
    pub deliveries: Arc<DeliveryLog>,
    /// The webhook body bytes that may be in memory at once.
    pub budget: Arc<ByteBudget>,
    /// Where accepted events go.
    pub sink: Arc<dyn WebhookSink>,
    /// Metrics (`webhook_deliveries`).
    pub metrics: Arc<Metrics>,
}

/// The webhook listener's router, with every layer of [`super::router`] (timeout, panic,
/// trace): [`WEBHOOK_PATH`] and nothing else (404).
pub fn webhook_routes(state: WebhookState) -> Router {
    super::with_layers(
        Router::new()
            .route(WEBHOOK_PATH, post(receive).fallback(wrong_method))
            .fallback(not_found)
            .with_state(state),
    )
}

async fn not_found() -> Response {
    ApiError::NotFound(format!(
        "not found; GitHub webhooks are POSTed to {WEBHOOK_PATH}"
    ))
    .into_response()
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
    // Before a byte of the body is read: a delivery that cannot be signed is refused, and one
    // that is read must fit in the budget.
    if let Err(error) = webhook::signature_tag(text(headers, SIGNATURE_HEADER)) {
        tracing::warn!(reason = error.kind(), "webhook delivery refused: {error}");
        return (
            "unauthorized",
            closing(ApiError::from(error).into_response()),
        );
    }
    let Some(wanted) = wanted_bytes(headers) else {
        return ("invalid", too_large());
    };
    let Some(reservation) = state.budget.try_reserve(wanted) else {
        tracing::warn!(
            wanted,
            "webhook bodies in memory at their budget; delivery refused for now"
        );
        return ("busy", busy("too many deliveries being read; retry later"));
    };
    let body = match read_body(body, reservation.bytes()).await {
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
    let seen = state
        .deliveries
        .record(delivery, &digest(&body), std::time::Instant::now());
    drop((body, reservation));
    match seen {
        Recorded::New => dispatch(state, event),
        Recorded::SameId | Recorded::SameBody => {
            tracing::debug!(?seen, "webhook delivery already seen");
            let body = json!({"status": "duplicate"});
            ("duplicate", reply(StatusCode::OK, body))
        }
        Recorded::Full => {
            tracing::warn!("the delivery log is full within its window; delivery refused for now");
            ("busy", busy("too many deliveries to remember; retry later"))
        }
    }
}

/// The bytes the body may need: its declared length, or the largest delivery without one;
/// `None` when it declares more than the largest delivery.
fn wanted_bytes(headers: &HeaderMap) -> Option<usize> {
    let declared =
        text(headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_WEBHOOK_BODY_BYTES as u64 => None,
        Some(length) => Some(usize::try_from(length).unwrap_or(MAX_WEBHOOK_BODY_BYTES)),
        None => Some(MAX_WEBHOOK_BODY_BYTES),
    }
}

/// A `503` asking to come back in a few seconds; the connection is closed (the body was not
/// read).
fn busy(message: &str) -> Response {
    let mut response = reply(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({ "message": message }),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    closing(response)
}

/// `response`, closing the connection after it: the request's body is left unread.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn too_large() -> Response {
    closing(ApiError::PayloadTooLarge(MAX_WEBHOOK_BODY_BYTES).into_response())
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
            log_event(&event);
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

fn log_event(event: &Event) {
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

/// The whole body, at most `limit` bytes (what was reserved): beyond, a 413 and the connection
/// is closed (the rest is left unread).
async fn read_body(body: Body, limit: usize) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        let limit = std::error::Error::source(&error)
            .is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
        if limit {
            too_large()
        } else {
            ApiError::BadRequest(format!("cannot read the request body: {error}")).into_response()
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
