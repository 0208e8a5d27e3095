//! `POST /api/v1/getparams.execute`: Argo CD's ApplicationSet plugin-generator protocol.
//!
//! Request: `{"applicationSetName": "...", "input": {"parameters": {...}}}`, `parameters`
//! possibly absent. `service` selects one service; `number` (with `service`) selects matrix mode.
//! Answer: `{"output": {"parameters": [...]}}` from the snapshot, or a JSON error with `message`.
//! Checks run cheapest first: token, then body size, then JSON.

use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::{ApiError, PluginState};
use crate::metrics::PluginLabels;
use crate::snapshot::Query;

/// The plugin path, as Argo CD appends it to the ConfigMap's `baseUrl`.
pub const PLUGIN_PATH: &str = "/api/v1/getparams.execute";
/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub(super) fn routes(state: PluginState) -> Router {
    Router::new()
        .route(PLUGIN_PATH, post(getparams))
        // A `baseUrl` with a path prefix (`http://svc/prefix`) reaches us as
        // `/prefix/api/v1/getparams.execute`.
        .fallback(prefixed)
        .with_state(state)
}

async fn prefixed(State(state): State<PluginState>, request: Request) -> Response {
    if request.method() == Method::POST && request.uri().path().ends_with(PLUGIN_PATH) {
        getparams(State(state), request).await
    } else {
        (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"message": format!("not found; the plugin answers POST {PLUGIN_PATH}")})),
        )
            .into_response()
    }
}

async fn getparams(State(state): State<PluginState>, request: Request) -> Response {
    let started = Instant::now();
    let (mode, result) = answer(&state, request).await;
    let response = match result {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => {
            if error.status().is_server_error() {
                tracing::warn!(error = %error, "plugin request not answered");
            }
            error.into_response()
        }
    };
    let labels = PluginLabels {
        mode,
        status: response.status().as_u16(),
    };
    state.metrics.plugin_requests.get_or_create(&labels).inc();
    state
        .metrics
        .plugin_duration
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

async fn answer(state: &PluginState, request: Request) -> (&'static str, Result<Bytes, ApiError>) {
    if let Err(error) = authorize(request.headers(), state.token.expose_secret()) {
        return ("invalid", Err(error));
    }
    let body = match read_body(request.into_body()).await {
        Ok(body) => body,
        Err(error) => return ("invalid", Err(error)),
    };
    let query = match parse_query(&body) {
        Ok(query) => query,
        Err(error) => return ("invalid", Err(error)),
    };
    let mode = match query {
        Query::All => "all",
        Query::Service(_) => "service",
        Query::Matrix { .. } => "matrix",
    };
    (
        mode,
        state.store.load().answer(&query).map_err(ApiError::from),
    )
}

/// Checks `Authorization: Bearer <token>` in constant time: missing → 401, wrong → 403.
fn authorize(headers: &HeaderMap, token: &str) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::Unauthorized);
    };
    let presented = value
        .as_bytes()
        .strip_prefix(b"Bearer ")
        .ok_or(ApiError::Unauthorized)?;
    if bool::from(presented.trim_ascii().ct_eq(token.trim().as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_BODY_BYTES))
}

/// The request envelope. Unknown fields are ignored, as Argo CD may add some.
#[derive(Debug, Deserialize)]
struct PluginRequest {
    #[serde(default)]
    input: Option<PluginInput>,
}

#[derive(Debug, Deserialize)]
struct PluginInput {
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
}

/// What the request asks for.
fn parse_query(body: &[u8]) -> Result<Query, ApiError> {
    let request: PluginRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("request body is not a plugin request: {e}")))?;
    let parameters = request.input.and_then(|i| i.parameters).unwrap_or_default();
    let service = match parameters.get("service") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "input.parameters.service must be a string".into(),
            ));
        }
    };
    let number = match parameters.get("number") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_u64().ok_or_else(bad_number)?),
        Some(Value::String(s)) => Some(s.trim().parse::<u64>().map_err(|_| bad_number())?),
        Some(_) => return Err(bad_number()),
    };
    match (service, number) {
        (None, None) => Ok(Query::All),
        (Some(service), None) => Ok(Query::Service(service)),
        (Some(service), Some(number)) => Ok(Query::Matrix { service, number }),
        (None, Some(_)) => Err(ApiError::BadRequest(
            "matrix mode needs input.parameters.service next to number".into(),
        )),
    }
}

fn bad_number() -> ApiError {
    ApiError::BadRequest("input.parameters.number must be a PR number (digits)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_map_to_queries() {
        let cases: &[(&str, Query)] = &[
            (r#"{"applicationSetName":"a","input":{}}"#, Query::All),
            (
                r#"{"applicationSetName":"a","input":{"parameters":{}}}"#,
                Query::All,
            ),
            (r#"{}"#, Query::All),
            (
                r#"{"input":{"parameters":{"service":"web","other":[1,{"x":null}]}}}"#,
                Query::Service("web".into()),
            ),
            (
                r#"{"input":{"parameters":{"service":"web","number":"42","branch":"b"}}}"#,
                Query::Matrix {
                    service: "web".into(),
                    number: 42,
                },
            ),
            (
                r#"{"input":{"parameters":{"service":"web","number":7}}}"#,
                Query::Matrix {
                    service: "web".into(),
                    number: 7,
                },
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                parse_query(body.as_bytes()).ok().as_ref(),
                Some(expected),
                "{body}"
            );
        }
    }

    #[test]
    fn malformed_requests_are_rejected_with_a_reason() {
        for body in [
            "not json",
            r#"{"input":{"parameters":{"service":3}}}"#,
            r#"{"input":{"parameters":{"service":"web","number":"4x"}}}"#,
            r#"{"input":{"parameters":{"service":"web","number":-1}}}"#,
            r#"{"input":{"parameters":{"number":"4"}}}"#,
            r#"{"input":"x"}"#,
        ] {
            let error = parse_query(body.as_bytes()).expect_err(body);
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{body}");
        }
    }

    #[test]
    fn tokens_are_checked() {
        let mut headers = HeaderMap::new();
        assert!(matches!(
            authorize(&headers, "t0k"),
            Err(ApiError::Unauthorized)
        ));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().expect("header"));
        assert!(matches!(
            authorize(&headers, "t0k"),
            Err(ApiError::Unauthorized)
        ));
        headers.insert(
            header::AUTHORIZATION,
            "Bearer nope".parse().expect("header"),
        );
        assert!(matches!(
            authorize(&headers, "t0k"),
            Err(ApiError::Forbidden)
        ));
        headers.insert(header::AUTHORIZATION, "Bearer t0k".parse().expect("header"));
        assert!(authorize(&headers, "t0k\n").is_ok());
    }
}
