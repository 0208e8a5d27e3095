//! `POST /api/v1/webhooks/github`: GitHub's webhook deliveries, on their own listener
//! (`--webhook-listen`), the one port published to the internet.
//!
//! Checks in order, cheapest first. Before a byte of the body is read: the
//! `X-Hub-Signature-256` header's shape (`sha256=` and 64 hex digits: a 401 otherwise) and the
//! declared size (25 MB, GitHub's cap: 413). Then the body is read into one buffer, its bytes
//! reserved as they arrive in the [`ByteBudget`] of every delivery being read (`503` with
//! `Retry-After` when it is spent: no flood of bodies holds more memory than the budget, and a
//! client that declares a large body and sends nothing holds nothing), within
//! [`BODY_DEADLINE`] (408). The signature is verified over the raw bytes (off the async workers
//! for a large body): without a valid one nothing else happens (no delivery recorded, no event,
//! a 401). Then the `X-GitHub-Event` and `X-GitHub-Delivery` headers (400 when missing), the
//! body (400 with the reason when unreadable), and the [`DeliveryLog`]: a delivery whose id or
//! body was acted on within the last hour is answered `duplicate` and not acted on again.
//! `ping` is answered `pong`; an event preview-tower may act on goes to the [`WebhookSink`],
//! which must not block, and is answered 202 at once (`accepted`, or `ignored` with the reason
//! when the sink says it changes nothing, e.g. a repository outside the fleet; only what is
//! accepted is remembered): GitHub wants an answer within 10 s, and the work (refresh, Argo CD)
//! happens after it. Anything else is 202 `ignored` with the reason, visible in the App's
//! delivery log.

mod budget;
mod deliveries;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tracing::Instrument as _;

use super::ApiError;
use super::request_body::{BodyLimits, Refused, declared_length};
use crate::github::webhook::{
    self, DELIVERY_HEADER, EVENT_HEADER, Event, SIGNATURE_HEADER, WebhookSink, verify_signature,
};
use crate::metrics::{Metrics, WebhookLabels};

pub use budget::{ByteBudget, Reservation};
pub use deliveries::{DeliveryLog, Recorded, digest};

/// Where GitHub delivers: the webhook URL is `https://<main host>/api/v1/webhooks/github`.
pub const WEBHOOK_PATH: &str = "/api/v1/webhooks/github";
/// Largest delivery accepted, in bytes: GitHub caps payloads at 25 MB.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 25 * 1024 * 1024;
/// How long a delivery's body may take to arrive once its headers have: GitHub sends its
/// largest in well under a second; a client that trickles holds budget no longer than this.
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);
/// Bodies larger than this are hashed off the async workers.
const HASH_ON_WORKER_BYTES: usize = 256 * 1024;
/// Longest `X-GitHub-Delivery` accepted (GitHub's are 36-character GUIDs).
const MAX_DELIVERY_ID_CHARS: usize = 100;

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
            .route(
                WEBHOOK_PATH,
                super::post_only(receive, "GitHub webhooks are POSTed"),
            )
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

async fn receive(State(state): State<WebhookState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let event = webhook::event_label(text(&parts.headers, EVENT_HEADER).unwrap_or_default());
    let delivery = delivery_id(&parts.headers).unwrap_or_default();
    let span = tracing::info_span!("webhook", event, delivery);
    let (outcome, response) = answer(&state, &parts.headers, body).instrument(span).await;
    let labels = WebhookLabels { event, outcome };
    state
        .metrics
        .webhook
        .deliveries
        .get_or_create(&labels)
        .inc();
    response
}

/// The outcome label and the answer.
async fn answer(state: &WebhookState, headers: &HeaderMap, body: Body) -> (&'static str, Response) {
    // Before a byte of the body is read: a delivery that cannot be signed is refused. (Most such
    // requests are scanners: counted, logged at DEBUG only.)
    if let Err(error) = webhook::signature_tag(text(headers, SIGNATURE_HEADER)) {
        tracing::debug!(reason = error.kind(), "webhook delivery refused: {error}");
        return (
            "unauthorized",
            closing(ApiError::from(error).into_response()),
        );
    }
    let (body, reservation) = match read_delivery(state, headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let secret = Arc::clone(&state.secret);
    let signature = text(headers, SIGNATURE_HEADER).map(str::to_owned);
    let body = match verify(secret, body, signature).await {
        Ok(body) => body,
        Err(error) => {
            tracing::warn!(reason = error.kind(), "webhook delivery refused: {error}");
            return ("unauthorized", ApiError::from(error).into_response());
        }
    };
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
    let (digest, now) = (digest(&body), std::time::Instant::now());
    drop((body, reservation));
    match state.deliveries.check(delivery, &digest, now) {
        Recorded::New => {}
        seen @ (Recorded::SameId | Recorded::SameBody) => {
            tracing::debug!(?seen, "webhook delivery already seen");
            let body = json!({"status": "duplicate"});
            return ("duplicate", reply(StatusCode::OK, body));
        }
        Recorded::Full => {
            tracing::warn!("the delivery log is full within its window; delivery refused for now");
            return ("busy", busy("too many deliveries to remember; retry later"));
        }
    }
    let (outcome, response) = dispatch(state, event);
    // Only what is acted on is remembered.
    if outcome == "accepted" {
        state.deliveries.record(delivery, &digest, now);
    }
    (outcome, response)
}

/// Checks the signature of `body` under `secret`, off the async workers when the body is large
/// (a forged 25 MB body must not stall the plugin's answers while it is hashed).
async fn verify(
    secret: Arc<SecretString>,
    body: Bytes,
    signature: Option<String>,
) -> Result<Bytes, webhook::SignatureError> {
    let small = body.len() <= HASH_ON_WORKER_BYTES;
    let check = move || {
        verify_signature(
            secret.expose_secret().as_bytes(),
            &body,
            signature.as_deref(),
        )
        .map(|()| body)
    };
    if small {
        return check();
    }
    tokio::task::spawn_blocking(check)
        .await
        .unwrap_or(Err(webhook::SignatureError::Mismatch))
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

/// The whole body, reserving its bytes in the budget as they arrive, into one buffer: refused
/// with `413` past GitHub's cap (declared or read), `503` when the budget is spent, `408` when
/// it does not arrive within [`BODY_DEADLINE`]; each time the rest of it is left unread and
/// the connection closed.
async fn read_delivery(
    state: &WebhookState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Bytes, Reservation), (&'static str, Response)> {
    let declared = declared_length(headers);
    if declared.is_some_and(|length| length > MAX_WEBHOOK_BODY_BYTES as u64) {
        return Err(("invalid", too_large()));
    }
    let mut reservation = state.budget.reserve();
    let limits = BodyLimits {
        cap: MAX_WEBHOOK_BODY_BYTES,
        deadline: Some(BODY_DEADLINE),
    };
    match super::request_body::read_body(body, declared, limits, Some(&mut reservation)).await {
        Ok(body) => Ok((body, reservation)),
        Err(Refused::TooLarge(_)) => Err(("invalid", too_large())),
        Err(Refused::OverBudget) => {
            tracing::debug!("webhook bodies in memory at their budget; delivery refused");
            Err(("busy", busy("too many deliveries being read; retry later")))
        }
        Err(late @ Refused::Late(_)) => {
            let response = (
                StatusCode::REQUEST_TIMEOUT,
                Json(json!({ "message": late.to_string() })),
            );
            Err(("invalid", closing(response.into_response())))
        }
        Err(unreadable @ Refused::Unreadable(_)) => Err((
            "invalid",
            ApiError::BadRequest(unreadable.to_string()).into_response(),
        )),
    }
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
