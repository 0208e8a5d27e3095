//! Jira's adapter: the [`IssueNotifier`] trait the lifecycle's shell posts notes through, the
//! [`JiraError`] it answers with, and `jira::rest`, the REST client for Cloud (v3) and Data
//! Center (v2).
//!
//! Which issues a pull request names and what they hear is pure and lives in
//! [`crate::issues`]; this module only carries it to Jira, and must not decide or retry. A Jira
//! outage or a bad key must never block GitHub updates or the plugin: callers treat every error
//! here as "try later" or "give up on this issue", never as a reason to stop.

use std::time::Duration;

use async_trait::async_trait;

use crate::issues::{IssueKey, Note};

pub mod rest;

/// Why a Jira call failed.
#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    /// 429: come back later.
    #[error("rate limited by Jira{}", retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// From `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// The issue does not exist or the account cannot see it (404), or the request was refused
    /// as invalid (400, 413): retrying will not help.
    #[error("Jira refused: {0}")]
    Rejected(String),
    /// Bad credentials or missing permission (401, 403).
    #[error("not authorized by Jira: {0}")]
    Unauthorized(String),
    /// Any other status (5xx).
    #[error("Jira answered {status}: {message}")]
    Upstream {
        /// HTTP status.
        status: u16,
        /// Jira's message or a summary of the body.
        message: String,
    },
    /// No answer in time.
    #[error("Jira did not answer in time")]
    Timeout,
    /// Connection, DNS or TLS failure.
    #[error("cannot reach Jira: {0}")]
    Transport(String),
    /// 2xx with a body we could not read.
    #[error("malformed answer from Jira: {0}")]
    Malformed(String),
}

impl JiraError {
    /// A short label for metrics and logs: `rate_limited`, `rejected`, `unauthorized`,
    /// `upstream`, `timeout`, `transport` or `malformed`.
    pub fn kind(&self) -> &'static str {
        match self {
            JiraError::RateLimited { .. } => "rate_limited",
            JiraError::Rejected(_) => "rejected",
            JiraError::Unauthorized(_) => "unauthorized",
            JiraError::Upstream { .. } => "upstream",
            JiraError::Timeout => "timeout",
            JiraError::Transport(_) => "transport",
            JiraError::Malformed(_) => "malformed",
        }
    }
}

/// Tells Jira issues about previews.
#[async_trait]
pub trait IssueNotifier: Send + Sync {
    /// Whether `issue` already carries preview-tower's comment for `note` (found by
    /// [`Note::marker`] in the comments' text, every page).
    async fn has_comment(&self, issue: &IssueKey, note: &Note) -> Result<bool, JiraError>;

    /// Posts `note` on `issue`, in the format of the configured edition.
    async fn comment(&self, issue: &IssueKey, note: &Note) -> Result<(), JiraError>;
}
