//! Jira: which issues a pull request names, what preview-tower tells them, and the
//! [`IssueNotifier`] trait the lifecycle worker calls.
//!
//! The pure part (issue-key extraction, the notes and their markers, rendering for each
//! edition) does no I/O. The REST adapter lives in `jira::rest`. A Jira outage or a bad key must
//! never block GitHub updates or the plugin: callers treat every error here as "try later" or
//! "give up on this issue", never as a reason to stop.

use std::time::Duration;

use async_trait::async_trait;

use crate::naming::RepoName;
use crate::naming::ServiceName;

mod keys;
mod render;
pub mod rest;

pub use keys::{InvalidIssueKey, MAX_KEYS, MAX_NUMBER_DIGITS, MAX_PROJECT_LEN, issue_keys};
pub use render::{MAX_TITLE_CHARS, render_adf, render_wiki};

/// A Jira issue key, `PROJECT-123`, validated.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IssueKey(String);

impl IssueKey {
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IssueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The two moments a Jira issue hears about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    /// The PR's previews first became healthy.
    Ready,
    /// They were torn down (PR merged or closed, unlabelled, or expired).
    Gone,
}

impl Event {
    /// `ready` or `gone`, as written in [`Note::marker`].
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Ready => "ready",
            Event::Gone => "gone",
        }
    }
}

/// One preview named in a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotePreview {
    /// The service.
    pub service: ServiceName,
    /// Its URL.
    pub url: String,
}

/// What preview-tower tells a Jira issue about one pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Ready or gone.
    pub event: Event,
    /// The repository of the PR.
    pub repo: RepoName,
    /// The PR number.
    pub number: u64,
    /// Untrusted: the PR title.
    pub title: String,
    /// The PR's page on GitHub.
    pub pr_url: String,
    /// The PR's previews.
    pub previews: Vec<NotePreview>,
}

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
