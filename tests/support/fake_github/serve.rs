//! The fake's HTTP side: routing, faults, `ETag`s and 304s, rate-limit headers, the request
//! log, and the conformance check of every JSON body it sends.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::Value;

use super::endpoints::{answer, authenticate};
use super::model::{AuthSeen, Endpoint, Fault, RequestRecord, State};
use super::render;
use super::reporting::{self, RepoRef};
use crate::support::conformance;
use crate::support::fake_server::{Conformance as _, lock};

pub(super) const SCHEMAS: &str = "github/schemas";
const RATE_LIMIT: u64 = 5000;

/// The shared state handed to the axum handler.
pub type SharedState = Arc<Mutex<State>>;

/// What the request is about.
pub(super) struct Route {
    pub(super) endpoint: Endpoint,
    pub(super) repo: Option<String>,
    pub(super) path: String,
    pub(super) installation: Option<u64>,
}

/// An answer before headers are finalised.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) body: Option<Value>,
    pub(super) raw: Option<&'static str>,
    pub(super) schema: Option<&'static str>,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) exhausted: bool,
}

impl Reply {
    pub(super) fn json(status: StatusCode, body: Value, schema: &'static str) -> Self {
        Self {
            status,
            body: Some(body),
            raw: None,
            schema: Some(schema),
            headers: Vec::new(),
            exhausted: false,
        }
    }

    pub(super) fn error(status: u16, message: &str) -> Self {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::json(
            code,
            render::error(status, message),
            "common.basic-error.schema.json",
        )
    }
}

/// The one handler: every request goes through here.
pub async fn handle(
    Shared(state): Shared<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method == Method::POST && uri.path() == super::graphql::path(&lock(&state).prefix) {
        return super::graphql::handle(state, uri, headers, body).await;
    }
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let page = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let (route, fault) = {
        let mut state = lock(&state);
        let route = match uri.path().strip_prefix(state.prefix.as_str()) {
            Some(path) => route(&state, &method, path),
            None => route(&state, &method, ""),
        };
        let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        let fault = state.take_fault(route.endpoint, route.repo.as_deref(), page, target);
        (route, fault)
    };
    if let Some(Fault::Timeout(delay)) = &fault {
        tokio::time::sleep(*delay).await;
    }
    let response = {
        let mut guard = lock(&state);
        let state = &mut *guard;
        if let (Some(Fault::ClosePullFirst(number)), Some(repo)) = (&fault, &route.repo)
            && let Some(pull) = state.repo_mut(repo).pulls.get_mut(number)
        {
            pull.closed_at = Some(chrono::Utc::now());
        }
        let moved = moved(state, &route, &uri);
        let (reply, auth) = match fault.as_ref().and_then(fault_reply).or(moved) {
            Some(reply) => (reply, AuthSeen::None),
            None => match authenticate(state, &route, &headers) {
                Err(reply) => (reply, AuthSeen::Rejected),
                Ok(auth) => (answer(state, &route, &query, &body, &auth), auth),
            },
        };
        finish(state, &method, &uri, &headers, route, auth, reply)
    };
    // The request was carried out; only its answer is late (lost, for a client that gives up).
    if let Some(Fault::LoseAnswer(delay)) = &fault {
        tokio::time::sleep(*delay).await;
    }
    let latency = lock(&state).rest_latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

/// A renamed repository answers `301 Moved Permanently` towards its new name, as GitHub does.
fn moved(state: &State, route: &Route, uri: &Uri) -> Option<Reply> {
    let old = route.repo.as_deref()?;
    let new = state.renamed.get(old)?;
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let (before, after) = path_and_query.split_once(&format!("/repos/{old}"))?;
    let location = format!(
        "{}{before}/repos/{new}{after}",
        state.base_url.trim_end_matches(&state.prefix)
    );
    let mut reply = Reply::json(
        StatusCode::MOVED_PERMANENTLY,
        serde_json::json!({"message": "Moved Permanently", "url": location, "documentation_url": "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects"}),
        "common.basic-error.schema.json",
    );
    reply.headers.push(("location", location));
    Some(reply)
}

fn route(state: &State, method: &Method, path: &str) -> Route {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let repo_of = |o: &str, r: &str| Some(format!("{o}/{r}").to_ascii_lowercase());
    let by_id = |id: &str| {
        state
            .repos
            .iter()
            .find(|(_, r)| r.id.to_string() == id)
            .map(|(k, _)| k.clone())
    };
    let (endpoint, repo, rest, installation) = match (method.as_str(), segs.as_slice()) {
        ("GET", ["repos", o, r, "pulls"]) => (Endpoint::Pulls, repo_of(o, r), String::new(), None),
        ("GET", ["repos", o, r, "pulls", number]) => {
            (Endpoint::Pull, repo_of(o, r), (*number).to_owned(), None)
        }
        ("GET", ["repositories", id, "pulls"]) => (Endpoint::Pulls, by_id(id), String::new(), None),
        ("GET", ["repos", o, r, "contents", rest @ ..]) => {
            let rest: Vec<&str> = rest.iter().copied().filter(|s| !s.is_empty()).collect();
            (Endpoint::Contents, repo_of(o, r), rest.join("/"), None)
        }
        ("GET", ["repos", o, r, "installation"]) => {
            (Endpoint::Installation, repo_of(o, r), String::new(), None)
        }
        ("GET", ["repos", o, r, "collaborators", user, "permission"]) => (
            Endpoint::Permission,
            repo_of(o, r),
            (*user).to_owned(),
            None,
        ),
        ("GET", ["user"]) => (Endpoint::User, None, String::new(), None),
        ("GET", ["app"]) => (Endpoint::App, None, String::new(), None),
        ("POST", ["app", "installations", id, "access_tokens"]) => {
            (Endpoint::AccessToken, None, String::new(), id.parse().ok())
        }
        (method, segs) => match other_route(method, segs) {
            Some((endpoint, owner_repo, rest)) => {
                let repo = match owner_repo {
                    RepoRef::Name(o, r) => repo_of(o, r),
                    RepoRef::Id(id) => by_id(id),
                };
                (endpoint, repo, rest, None)
            }
            None => (Endpoint::Other, None, String::new(), None),
        },
    };
    Route {
        endpoint,
        repo,
        path: rest,
        installation,
    }
}

/// The write-side and check-run endpoints, which name their repository by name or by id.
fn other_route<'a>(method: &str, segs: &[&'a str]) -> Option<(Endpoint, RepoRef<'a>, String)> {
    reporting::route(method, segs)
        .or_else(|| super::checks::route(method, segs))
        .or_else(|| super::timeline::route(method, segs))
}

pub(super) fn fault_reply(fault: &Fault) -> Option<Reply> {
    match fault {
        Fault::None | Fault::Timeout(_) | Fault::LoseAnswer(_) | Fault::ClosePullFirst(_) => None,
        // REST requests never take them (see `State::take_rule`).
        Fault::GraphqlRateLimited
        | Fault::GraphqlServerTimeout
        | Fault::GraphqlNodeError { .. }
        | Fault::GraphqlRefuses { .. } => None,
        Fault::Status(status) => {
            let reason = StatusCode::from_u16(*status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error");
            Some(Reply::error(*status, reason))
        }
        Fault::RateLimited => {
            let mut reply = Reply::error(
                403,
                "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.",
            );
            reply.exhausted = true;
            Some(reply)
        }
        Fault::SecondaryLimit { retry_after } => Some(secondary_limit(*retry_after)),
        Fault::TooManyRequests { retry_after } => {
            let mut reply = Reply::error(
                429,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            reply.headers.push(("retry-after", retry_after.to_string()));
            Some(reply)
        }
        Fault::Malformed => Some(Reply {
            status: StatusCode::OK,
            body: None,
            raw: Some(r#"{"message": "this is not the JSON you are looking for"#),
            schema: None,
            headers: Vec::new(),
            exhausted: false,
        }),
    }
}

/// GitHub's usual secondary-limit answer: 403, `retry-after`, primary limit not exhausted.
pub(super) fn secondary_limit(retry_after: u64) -> Reply {
    let mut reply = Reply::error(
        403,
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:1111:2222:3333:4444.",
    );
    reply.headers.push(("retry-after", retry_after.to_string()));
    reply
}

pub(super) fn record(state: &mut State, violations: Vec<conformance::Violation>) {
    for violation in violations {
        state.record(violation);
    }
}

/// Rate-limit headers, `ETag`/304, conformance check, request log.
fn finish(
    state: &mut State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    route: Route,
    auth: AuthSeen,
    reply: Reply,
) -> Response {
    let bytes: Vec<u8> = match (&reply.body, reply.raw) {
        (_, Some(raw)) => raw.as_bytes().to_vec(),
        (Some(body), None) => serde_json::to_vec(body).unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    if let (Some(body), Some(schema)) = (&reply.body, reply.schema) {
        let violations = conformance::validate(&format!("{SCHEMAS}/{schema}"), body)
            .into_iter()
            // Known gap: GitHub sends `head.repo: null` for a deleted fork; the REST schema
            // says `repository`, the webhook schema allows null.
            .filter(|v| {
                !(v.instance_path.ends_with("/head/repo")
                    && body.pointer(&v.instance_path) == Some(&Value::Null))
            })
            .collect();
        record(state, violations);
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let etag = format!("W/\"{:016x}\"", hasher.finish());
    let not_modified = *method == Method::GET
        && reply.status == StatusCode::OK
        && headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if !not_modified {
        state.used += 1;
        if let Some(budget) = state.budget.as_mut() {
            budget.left = budget.left.saturating_sub(1);
        }
    }
    let status = if not_modified {
        StatusCode::NOT_MODIFIED
    } else {
        reply.status
    };
    let (remaining, used) = match (reply.exhausted, state.budget) {
        (true, _) => (0, RATE_LIMIT),
        (false, Some(budget)) => (budget.left, RATE_LIMIT.saturating_sub(budget.left)),
        (false, None) => (RATE_LIMIT.saturating_sub(state.used), state.used),
    };
    let reset = match (reply.exhausted, state.budget) {
        (_, Some(budget)) => budget.reset_at,
        (true, None) => Utc::now().timestamp() + 60,
        (false, None) => state.reset_at,
    };
    state.log.push(RequestRecord {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |p| p.to_string()),
        status: status.as_u16(),
        endpoint: route.endpoint,
        repo: route.repo,
        auth,
    });
    let mut response = if not_modified {
        status.into_response()
    } else {
        (status, bytes).into_response()
    };
    let out = response.headers_mut();
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            out.insert(name, value);
        }
    };
    put("x-ratelimit-limit", RATE_LIMIT.to_string());
    put("x-ratelimit-remaining", remaining.to_string());
    put("x-ratelimit-used", used.to_string());
    put("x-ratelimit-reset", reset.to_string());
    put("x-ratelimit-resource", "core".to_owned());
    put("x-github-api-version-selected", "2022-11-28".to_owned());
    if reply.body.is_some() || reply.raw.is_some() {
        put("content-type", "application/json; charset=utf-8".to_owned());
    }
    if *method == Method::GET && reply.status == StatusCode::OK {
        put("etag", etag);
    }
    for (name, value) in reply.headers {
        put(name, value);
    }
    response
}
