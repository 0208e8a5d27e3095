//! The GraphQL budget (points per hour, apart from REST's), its rate-limit answers and headers,
//! and the request log entry of each GraphQL request.

use axum::http::{HeaderMap, Uri, header};
use axum::response::Response;
use chrono::Utc;
use serde_json::json;

use super::exec::RateInfo;
use super::{LIMIT, Seen, json_reply};
use crate::support::fake_github::model::{Endpoint, Fault, RequestRecord, State};
use crate::support::fake_github::serve::Reply;

/// The GraphQL budget first (spent: `GraphqlRateLimited`), then the first matching rule.
pub(super) fn take_fault(
    state: &mut State,
    repo: Option<&str>,
    target: &str,
) -> Option<(Fault, Option<String>)> {
    if let Some(budget) = state.graphql.budget {
        if budget.reset_at <= Utc::now().timestamp() {
            state.graphql.budget = None;
        } else if budget.left == 0 {
            return Some((Fault::GraphqlRateLimited, None));
        }
    }
    state.take_rule(Endpoint::Graphql, false, repo, 1, target)
}

pub(super) fn installation(state: &State, headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))?;
    state.tokens.get(token.trim()).copied()
}

/// What `rateLimit` says after charging `points`; `None` when the budget cannot pay them.
pub(super) fn rate_after(state: &State, points: u64) -> Option<RateInfo> {
    let used = state.graphql.used + points;
    Some(match state.graphql.budget {
        Some(budget) if budget.left < points => return None,
        Some(budget) => RateInfo {
            cost: points,
            limit: LIMIT,
            remaining: budget.left - points,
            used: LIMIT.saturating_sub(budget.left - points),
            reset_at: budget.reset_at,
        },
        None => RateInfo {
            cost: points,
            limit: LIMIT,
            remaining: LIMIT.saturating_sub(used),
            used,
            reset_at: state.reset_at,
        },
    })
}

pub(super) fn charge(state: &mut State, points: u64) {
    state.graphql.used += points;
    if let Some(budget) = state.graphql.budget.as_mut() {
        budget.left = budget.left.saturating_sub(points);
    }
}

/// GitHub's GraphQL primary limit: `200`, `RATE_LIMITED`, no `data`.
pub(super) fn rate_limited(state: &State, headers: &HeaderMap) -> Reply {
    let who = match installation(state, headers) {
        Some(id) => format!("installation ID {id}"),
        None => "user ID 1".to_owned(),
    };
    let error = json!({"type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": format!("API rate limit exceeded for {who}.")});
    let mut reply = json_reply(200, json!({"errors": [error]}));
    reply.exhausted = true;
    reply
}

/// Headers (`x-ratelimit-*` of the GraphQL budget), the request log.
pub(super) fn finish(state: &mut State, uri: &Uri, reply: Reply, seen: Seen) -> Response {
    let bytes = match (&reply.body, reply.raw) {
        (_, Some(raw)) => raw.as_bytes().to_vec(),
        (Some(body), None) => serde_json::to_vec(body).unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    let (remaining, used, reset) = match (reply.exhausted, state.graphql.budget) {
        (true, budget) => (
            0,
            LIMIT,
            budget.map_or(Utc::now().timestamp() + 60, |b| b.reset_at),
        ),
        (false, Some(budget)) => (
            budget.left,
            LIMIT.saturating_sub(budget.left),
            budget.reset_at,
        ),
        (false, None) => (
            LIMIT.saturating_sub(state.graphql.used),
            state.graphql.used,
            state.reset_at,
        ),
    };
    state.log.push(RequestRecord {
        method: "POST".to_owned(),
        path: uri.path().to_owned(),
        status: reply.status.as_u16(),
        endpoint: Endpoint::Graphql,
        repo: seen.repo,
        auth: seen.auth,
    });
    let mut response = axum::response::IntoResponse::into_response((reply.status, bytes));
    let out = response.headers_mut();
    let mut headers: Vec<(&'static str, String)> = vec![
        ("x-ratelimit-limit", LIMIT.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-used", used.to_string()),
        ("x-ratelimit-reset", reset.to_string()),
        ("x-ratelimit-resource", "graphql".to_owned()),
        ("content-type", "application/json; charset=utf-8".to_owned()),
    ];
    headers.extend(reply.headers);
    for (name, value) in headers {
        if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
            out.insert(name, value);
        }
    }
    response
}
