//! The fake Jira's HTTP side: faults, authentication, the two comment endpoints, Jira-shaped
//! errors, the request log, and the conformance checks of what comes in and goes out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::Utc;
use preview_tower::jira::rest::Edition;
use serde_json::{Value, json};

use super::check;
use super::model::{EMAIL, Fault, RequestRecord, State, TOKEN};
use crate::support::fake_server::{Conformance as _, lock};

/// The shared state handed to the axum handler.
pub(super) type SharedState = Arc<Mutex<State>>;

/// An answer before it becomes a response.
struct Reply {
    status: u16,
    body: String,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            body: body.to_string(),
            content_type: "application/json;charset=UTF-8",
            headers: Vec::new(),
        }
    }

    /// Jira's error body: `{"errorMessages": [...], "errors": {...}}`.
    fn error(status: u16, message: &str) -> Self {
        Self::json(status, &json!({"errorMessages": [message], "errors": {}}))
    }

    fn field_error(status: u16, field: &str, message: &str) -> Self {
        Self::json(
            status,
            &json!({"errorMessages": [], "errors": {field: message}}),
        )
    }
}

/// The one handler: every request goes through here.
pub(super) async fn handle(
    Shared(state): Shared<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = {
        let mut state = lock(&state);
        if state.down {
            Some(Fault::Status(503))
        } else {
            state.faults.pop_front()
        }
    };
    if let Some(Fault::Stall(delay)) = &fault {
        tokio::time::sleep(*delay).await;
    }
    let mut state = lock(&state);
    let authorized = authorized(state.edition, &headers);
    let reply = match fault.as_ref().and_then(fault_reply) {
        Some(reply) => reply,
        None => answer(&mut state, &method, &uri, &headers, authorized, &body),
    };
    state.log.push(RequestRecord {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        status: reply.status,
        authorized,
    });
    respond(reply)
}

fn respond(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, reply.body).into_response();
    let out = response.headers_mut();
    if let Ok(value) = reply.content_type.parse() {
        out.insert(header::CONTENT_TYPE, value);
    }
    for (name, value) in reply.headers {
        if let Ok(value) = value.parse() {
            out.insert(name, value);
        }
    }
    response
}

fn fault_reply(fault: &Fault) -> Option<Reply> {
    match fault {
        Fault::Stall(_) => None,
        Fault::Status(503) => Some(Reply::error(
            503,
            "Jira is temporarily unavailable. Please try again later.",
        )),
        Fault::Status(status) => {
            let reason = StatusCode::from_u16(*status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error");
            Some(Reply::error(*status, reason))
        }
        Fault::RateLimited { retry_after } => {
            let reset = Utc::now() + chrono::Duration::seconds(*retry_after as i64);
            let mut reply = Reply::error(429, "Rate limit exceeded.");
            reply.headers = vec![
                ("retry-after", retry_after.to_string()),
                (
                    "x-ratelimit-reset",
                    reset.format("%Y-%m-%dT%H:%MZ").to_string(),
                ),
                ("ratelimit-reason", "jira-burst-based".to_owned()),
            ];
            Some(reply)
        }
        Fault::Malformed => Some(Reply {
            status: 200,
            body: "<html><body><h1>Log in to continue to Jira</h1></body></html>".to_owned(),
            content_type: "text/html;charset=UTF-8",
            headers: Vec::new(),
        }),
    }
}

/// Cloud: `Basic base64(email:api-token)`; Data Center: `Bearer <personal access token>`.
fn authorized(edition: Edition, headers: &HeaderMap) -> bool {
    let expected = match edition {
        Edition::Cloud => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{TOKEN}"))
        ),
        Edition::DataCenter => format!("Bearer {TOKEN}"),
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected)
}

fn answer(
    state: &mut State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    authorized: bool,
    body: &[u8],
) -> Reply {
    let path = uri.path().strip_prefix('/').unwrap_or(uri.path());
    let segments: Vec<String> = path
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let version = state.edition.api_version();
    let key = match segments
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["rest", "api", v, "issue", key, "comment"] if *v == version => (*key).to_owned(),
        _ => {
            return Reply::error(
                404,
                "null for uri: the fake knows only the comment endpoints",
            );
        }
    };
    if !authorized {
        return Reply::error(
            401,
            "You are not authenticated. Authentication required to perform this operation.",
        );
    }
    let Some(issue_id) = state.issues.get(&key).map(|i| i.id) else {
        return Reply::error(
            404,
            "Issue does not exist or you do not have permission to see it.",
        );
    };
    match *method {
        Method::GET => list(state, &key, issue_id, uri),
        Method::POST => create(state, &key, headers, body),
        _ => Reply::error(405, "Method Not Allowed"),
    }
}

fn create(state: &mut State, key: &str, headers: &HeaderMap, body: &[u8]) -> Reply {
    let json_sent = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_sent {
        state.record("addComment without `Content-Type: application/json`");
        return Reply::error(415, "Unsupported Media Type");
    }
    let request: Value = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(e) => {
            state.record(format!("addComment body is not JSON: {e}"));
            return Reply::error(400, "Unexpected character in the request body.");
        }
    };
    let problems = check::request(state.edition, &request);
    if !problems.is_empty() {
        problems.into_iter().for_each(|p| state.record(p));
        return Reply::field_error(400, "comment", "Comment body is not valid!");
    }
    let edition = state.edition;
    let Some(comment) = state.store(key, request["body"].clone(), true) else {
        return Reply::error(500, "fake Jira could not store the comment");
    };
    let problems = check::served(edition, "addComment.response-201.schema.json", &comment);
    problems.into_iter().for_each(|p| state.record(p));
    Reply::json(201, &comment)
}

fn list(state: &mut State, key: &str, issue_id: u64, uri: &Uri) -> Reply {
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let number = |name: &str, default: usize| match query.get(name) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| name.to_owned()),
    };
    // Cloud pages hold up to 100 comments; Data Center's default and cap is 50.
    let cap = match state.edition {
        Edition::Cloud => 100,
        Edition::DataCenter => 50,
    };
    let (start_at, max_results) = match (number("startAt", 0), number("maxResults", cap)) {
        (Ok(start), Ok(max)) => (start, max.min(cap)),
        (Err(name), _) | (_, Err(name)) => {
            return Reply::error(400, &format!("The value of parameter {name} is invalid."));
        }
    };
    let newest_first = match query.get("orderBy").map(String::as_str) {
        None | Some("created" | "+created") => false,
        Some("-created") => true,
        Some(other) => {
            state.record(format!("getComments with unsupported orderBy `{other}`"));
            return Reply::error(400, "Invalid orderBy.");
        }
    };
    let issue = &state.issues[key];
    let mut order: Vec<usize> = (0..issue.comments.len()).collect();
    if newest_first {
        order.reverse();
    }
    let comments: Vec<Value> = order
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|&i| state.render(issue_id, &issue.comments[i]))
        .collect();
    let page = json!({
        "startAt": start_at,
        "maxResults": max_results,
        "total": issue.comments.len(),
        "comments": comments,
    });
    let problems = check::served(state.edition, "getComments.response-200.schema.json", &page);
    problems.into_iter().for_each(|p| state.record(p));
    Reply::json(200, &page)
}
