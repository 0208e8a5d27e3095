//! `POST /api/v1/getparams.execute`: Argo CD's ApplicationSet plugin-generator protocol.
//!
//! Request: `{"applicationSetName": "...", "input": {"parameters": {...}}}`, `parameters`
//! possibly absent. `service` selects one service; `number` (with `service`) selects matrix mode.
//! Answer: `{"output": {"parameters": [...]}}` from the snapshot, or a JSON error with `message`.
//! Checks run cheapest first: token, then body size, then JSON. A refused body is read and
//! discarded (up to 4 MiB) before the error is sent, so that the client reads the error rather
//! than a broken pipe; beyond that the connection is closed.

mod answer_body;
mod request;

use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;

use super::request_body::{BodyLimits, Refused, declared_length};
use super::{ApiError, PluginState, post_only};
use crate::metrics::PluginLabels;
use crate::snapshot::{Answer, Query};

pub(crate) use request::{authorize, parse_request};

/// The plugin path, as Argo CD appends it to the ConfigMap's `baseUrl`.
pub const PLUGIN_PATH: &str = "/api/v1/getparams.execute";
/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most bytes of a refused request read and discarded before answering.
const DRAIN_LIMIT: usize = 4 * MAX_BODY_BYTES;
/// Longest time spent discarding a refused request's body.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// What a `405` says.
const ANSWERS_POST: &str = "the plugin answers POST";

/// The plugin at [`PLUGIN_PATH`] and under each of `base_paths` (a `baseUrl` with a path
/// prefix, `http://svc/prefix`, reaches us as `/prefix/api/v1/getparams.execute`); everything
/// else is a 404, so that no other path (the webhook's, an Ingress prefix) publishes it. A base
/// path given twice is served once (axum refuses a route added twice).
pub(super) fn routes(state: PluginState, base_paths: &[String]) -> Router {
    let mut router = Router::new().route(PLUGIN_PATH, post_only(getparams, ANSWERS_POST));
    let distinct: std::collections::BTreeSet<&str> =
        base_paths.iter().map(String::as_str).collect();
    for base in distinct {
        let path = format!("{base}{PLUGIN_PATH}");
        router = router.route(&path, post_only(getparams, ANSWERS_POST));
    }
    router.fallback(not_found).with_state(state)
}

/// Whether `path` may be a plugin base path: `/` then segments of letters, digits, `-`, `_`,
/// `.` and `~`, no empty segment, no trailing `/`, at most 200 characters.
pub fn valid_base_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    path.len() <= 200
        && !rest.is_empty()
        && rest.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        })
}

async fn not_found() -> Response {
    ApiError::NotFound(format!("not found; the plugin answers POST {PLUGIN_PATH}")).into_response()
}

async fn getparams(State(state): State<PluginState>, request: Request) -> Response {
    let started = Instant::now();
    let Outcome {
        mode,
        result,
        unread,
    } = answer(&state, request).await;
    let response = match result {
        Ok(answer) => respond(answer),
        Err(error) => {
            // Expected while a service is not synced or holds previews (the sync warns when
            // that starts): said once per request at INFO, never as an ERROR.
            if error.status() == axum::http::StatusCode::SERVICE_UNAVAILABLE {
                tracing::info!(error = %error, "plugin request answered 503");
            }
            let mut response = error.into_response();
            if unread {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
    };
    let labels = PluginLabels {
        mode,
        status: response.status().as_u16(),
    };
    state.metrics.plugin.requests.get_or_create(&labels).inc();
    state
        .metrics
        .plugin
        .duration
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// An answer as a `200`, its chunks sent as they are with their total length.
fn respond(answer: Answer) -> Response {
    let length = HeaderValue::from(answer.len());
    let mut response = Response::new(Body::new(answer_body::AnswerBody::new(answer)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, length);
    response
}

/// What one plugin request came to.
struct Outcome {
    /// The `mode` label of the request's metrics: `all`, `service`, `matrix`, or `invalid`
    /// for a request refused before its query was known.
    mode: &'static str,
    /// The answer, or the error to send.
    result: Result<Answer, ApiError>,
    /// Whether part of the request body was left unread: the connection must then be closed.
    unread: bool,
}

impl Outcome {
    /// A request refused before its query was known.
    fn refused(error: ApiError, unread: bool) -> Self {
        Self {
            mode: "invalid",
            result: Err(error),
            unread,
        }
    }
}

/// What `request` comes to.
async fn answer(state: &PluginState, request: Request) -> Outcome {
    let (parts, body) = request.into_parts();
    if let Err(error) = authorize(&parts.headers, state.token.expose_secret()) {
        return Outcome::refused(error, !drain(body).await);
    }
    let declared = declared_length(&parts.headers);
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        let error = ApiError::PayloadTooLarge(MAX_BODY_BYTES);
        return Outcome::refused(error, !drain(body).await);
    }
    let limits = BodyLimits {
        cap: MAX_BODY_BYTES,
        deadline: None,
    };
    let body = match super::request_body::read_body(body, declared, limits, None).await {
        Ok(body) => body,
        // Reading stops at the limit: the rest of an oversized body is left unread.
        Err(Refused::TooLarge(cap)) => {
            return Outcome::refused(ApiError::PayloadTooLarge(cap), true);
        }
        Err(refused) => {
            let unread = !matches!(refused, Refused::Unreadable(_));
            return Outcome::refused(ApiError::BadRequest(refused.to_string()), unread);
        }
    };
    let (appset, query) = match parse_request(&body, state.store.load().fleet()) {
        Ok(parsed) => parsed,
        Err(error) => return Outcome::refused(error, false),
    };
    let mode = match query {
        Query::All => "all",
        Query::Service(_) => "service",
        Query::Matrix { .. } => "matrix",
    };
    let result = state
        .store
        .load()
        .answer_chunks(&query)
        .map_err(ApiError::from);
    tracing::debug!(appset = ?appset, mode, ok = result.is_ok(), "plugin request");
    Outcome {
        mode,
        result,
        unread: false,
    }
}

/// Reads and discards a refused request's body, up to [`DRAIN_LIMIT`] bytes and
/// [`DRAIN_TIMEOUT`], so that the client finishes sending and reads the error instead of a
/// broken pipe. Returns whether the body was read to its end.
async fn drain(mut body: Body) -> bool {
    use http_body_util::BodyExt as _;
    let read = async {
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            seen += frame.data_ref().map_or(0, Bytes::len);
            if seen > DRAIN_LIMIT {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIMEOUT, read)
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests;
