//! Reading Jira's answers: status to [`JiraError`], `Retry-After`, Jira's error body, comment
//! pages and the text of comment bodies. Pure, apart from the clock for `X-RateLimit-Reset`.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use crate::jira::JiraError;

/// Longest Jira message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 300;

/// One answer, read.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

/// `PageOfComments`, the parts we read.
#[derive(Debug, Deserialize)]
pub(super) struct Page {
    pub(super) total: Option<u64>,
    pub(super) comments: Vec<PageComment>,
}

/// One comment of a page: only its body matters.
#[derive(Debug, Deserialize)]
pub(super) struct PageComment {
    /// ADF (Cloud, v3) or a string (Data Center, v2).
    #[serde(default)]
    pub(super) body: Value,
}

impl Reply {
    fn success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn error(&self) -> JiraError {
        error_for(self.status, &self.headers, &self.body, Utc::now())
    }

    /// A `PageOfComments` from a 200, or the error the answer stands for.
    pub(super) fn page(self) -> Result<Page, JiraError> {
        if !self.success() {
            return Err(self.error());
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| JiraError::Malformed(format!("comment page: {e}")))
    }

    /// `Ok` for a 2xx carrying a comment (a JSON object with an `id`): a proxy's 200 login
    /// page must not pass for a posted comment.
    pub(super) fn created(self) -> Result<(), JiraError> {
        if !self.success() {
            return Err(self.error());
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(comment) if comment.get("id").is_some() => Ok(()),
            Ok(_) => Err(JiraError::Malformed("created comment has no id".to_owned())),
            Err(e) => Err(JiraError::Malformed(format!("created comment: {e}"))),
        }
    }
}

/// The error a non-2xx answer stands for.
pub(super) fn error_for(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> JiraError {
    let message = jira_message(status, body);
    match status {
        429 => JiraError::RateLimited {
            retry_after: retry_after(headers, now),
        },
        401 | 403 => JiraError::Unauthorized(format!("{status}: {message}")),
        400 | 404 | 413 => JiraError::Rejected(format!("{status}: {message}")),
        _ => JiraError::Upstream { status, message },
    }
}

/// How long Jira asks us to wait: `Retry-After` (seconds), else `X-RateLimit-Reset` (a
/// timestamp, `yyyy-MM-ddTHH:mmZ` per Atlassian's rate-limiting page, or RFC 3339) minus now.
pub(super) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(seconds) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    let reset = header("x-ratelimit-reset")?;
    let at = DateTime::parse_from_rfc3339(reset)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(reset, "%Y-%m-%dT%H:%MZ").map(|t| t.and_utc()))
        .ok()?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Jira's words from an error body (`{"errorMessages": [...], "errors": {"field": "..."}}`),
/// joined with `; `; else the status's reason. Never the raw body (it may be a proxy's HTML).
pub(super) fn jira_message(status: u16, body: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Ok(Value::Object(error)) = serde_json::from_slice::<Value>(body) {
        if let Some(Value::Array(messages)) = error.get("errorMessages") {
            parts.extend(messages.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        if let Some(Value::Object(fields)) = error.get("errors") {
            parts.extend(
                fields
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}: {v}"))),
            );
        }
        if let Some(Value::String(message)) = error.get("message") {
            parts.push(message.clone());
        }
    }
    let joined = parts.join("; ");
    if joined.trim().is_empty() {
        return http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("no message")
            .to_owned();
    }
    joined.chars().take(MAX_MESSAGE_CHARS).collect()
}

/// Whether a comment body contains any of `markers`, in its text: a v2 body is the text, a
/// v3 body is ADF whose text nodes are joined (a paragraph's nodes without separator, blocks
/// with a newline) so a marker split across nodes is still found.
pub(super) fn mentions(body: &Value, markers: &[String]) -> bool {
    let mut text = String::new();
    collect_text(body, &mut text);
    markers.iter().any(|m| text.contains(m.as_str()))
}

fn collect_text(node: &Value, out: &mut String) {
    match node {
        Value::String(text) => out.push_str(text),
        Value::Array(nodes) => nodes.iter().for_each(|n| collect_text(n, out)),
        Value::Object(fields) => {
            if let Some(Value::String(text)) = fields.get("text") {
                out.push_str(text);
            }
            if let Some(content) = fields.get("content") {
                collect_text(content, out);
                out.push('\n');
            }
        }
        _ => {}
    }
}

/// A `reqwest` failure as a [`JiraError`]: `Timeout` when the deadline passed, else
/// `Transport` with the causes.
pub(super) fn send_error(error: reqwest::Error) -> JiraError {
    if error.is_timeout() {
        JiraError::Timeout
    } else {
        JiraError::Transport(error_chain(&error))
    }
}

/// An error and its sources on one line.
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
