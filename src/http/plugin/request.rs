//! Reading a plugin request: the bearer token, the JSON envelope, and whether the fleet answers
//! the ApplicationSet asking. Pure. The body is untrusted: [`parse_request`] never panics, and
//! every error is a `400` with a message that quotes little of the body.

mod appset;

use axum::http::{HeaderMap, header};
use serde::Deserialize;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::fleet::Fleet;
use crate::http::ApiError;
use crate::snapshot::Query;

/// Keys of Argo CD's pullRequest generator: their presence means a matrix.
const PULL_REQUEST_KEYS: [&str; 5] = [
    "number",
    "branch",
    "branch_slug",
    "head_sha",
    "head_short_sha",
];

/// Checks `Authorization: Bearer <token>` in constant time: missing → 401, wrong → 403. The
/// scheme is case-insensitive, as HTTP says.
pub(crate) fn authorize(headers: &HeaderMap, token: &str) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::Unauthorized);
    };
    let value = value.as_bytes();
    let presented = match value.split_at_checked(7) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case(b"bearer ") => rest,
        _ => return Err(ApiError::Unauthorized),
    };
    if bool::from(presented.trim_ascii().ct_eq(token.trim().as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The request envelope. Unknown fields are ignored, as Argo CD may add some.
#[derive(Debug, Deserialize)]
struct PluginRequest {
    #[serde(default, rename = "applicationSetName")]
    application_set_name: Option<String>,
    #[serde(default)]
    input: Option<PluginInput>,
}

#[derive(Debug, Deserialize)]
struct PluginInput {
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
}

/// The ApplicationSet's name (for logs, cut to 64 characters) and what the request asks for.
/// An ApplicationSet that `fleet` does not name is refused ([`appset::check`]).
pub(crate) fn parse_request(body: &[u8], fleet: &Fleet) -> Result<(String, Query), ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(not_a_plugin_request)?;
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "request body is not a plugin request: expected a JSON object".into(),
        ));
    }
    let request: PluginRequest = serde_json::from_value(value).map_err(not_a_plugin_request)?;
    appset::check(request.application_set_name.as_deref(), fleet)?;
    let appset = request
        .application_set_name
        .unwrap_or_default()
        .chars()
        .take(64)
        .collect();
    let parameters = request.input.and_then(|i| i.parameters).unwrap_or_default();
    Ok((appset, query(&parameters)?))
}

/// Most characters of serde's message quoted in a `400`: it may quote a whole string of the
/// body.
const MAX_DETAIL_CHARS: usize = 200;

/// The `400` for a body serde cannot read as a plugin request: serde's message, cut to
/// [`MAX_DETAIL_CHARS`] and on one line.
fn not_a_plugin_request(error: serde_json::Error) -> ApiError {
    let detail = error.to_string();
    let mut shown: String = detail
        .chars()
        .take(MAX_DETAIL_CHARS)
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    if detail.chars().nth(MAX_DETAIL_CHARS).is_some() {
        shown.push('…');
    }
    ApiError::BadRequest(format!("request body is not a plugin request: {shown}"))
}

fn query(parameters: &Map<String, Value>) -> Result<Query, ApiError> {
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
    let branch = match parameters.get("branch") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    match (service, number) {
        (None, _)
            if PULL_REQUEST_KEYS
                .iter()
                .any(|k| parameters.contains_key(*k)) =>
        {
            Err(ApiError::BadRequest(
                "input.parameters carries the pullRequest generator's keys but no `service`: \
                 PR numbers are per repository, so matrix mode needs `service: <fleet service>` \
                 next to `number: '{{.number}}'`"
                    .into(),
            ))
        }
        (None, _) => Ok(Query::All),
        (Some(service), None) => Ok(Query::Service(service)),
        (Some(service), Some(number)) => Ok(Query::Matrix {
            service,
            number,
            branch,
        }),
    }
}

fn bad_number() -> ApiError {
    ApiError::BadRequest("input.parameters.number must be a PR number (digits)".into())
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
