//! The fields of GitHub's webhook payloads that preview-tower reads, and nothing else.
//!
//! Every field is optional: real deliveries carry fields the published schemas lack and lack
//! some they require, so a field is only an error when the event needs it (see
//! [`super::parse`]). A field of the wrong JSON type is an error (a replayer's broken body).

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::PayloadError;

/// `repository`, in every event about one.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Repository {
    pub full_name: Option<String>,
}

/// A user (`comment.user`, `sender`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct User {
    pub login: Option<String>,
}

/// `ping`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Ping {
    pub zen: Option<String>,
}

/// `pull_request`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PullRequestEvent {
    pub action: Option<String>,
    pub number: Option<u64>,
    pub pull_request: Option<PullRequest>,
    pub repository: Option<Repository>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PullRequest {
    pub number: Option<u64>,
}

/// `issue_comment`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct IssueCommentEvent {
    pub action: Option<String>,
    pub issue: Option<Issue>,
    pub comment: Option<Comment>,
    pub repository: Option<Repository>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Issue {
    pub number: Option<u64>,
    /// Present (an object) only when the issue is a pull request.
    pub pull_request: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Comment {
    pub body: Option<String>,
    pub user: Option<User>,
}

/// `check_run`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CheckRunEvent {
    pub action: Option<String>,
    pub check_run: Option<Run>,
    pub repository: Option<Repository>,
}

/// `workflow_run`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct WorkflowRunEvent {
    pub action: Option<String>,
    pub workflow_run: Option<Run>,
    pub repository: Option<Repository>,
}

/// A check run or a workflow run: both name themselves and the commit they built.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Run {
    pub name: Option<String>,
    pub head_sha: Option<String>,
    pub conclusion: Option<String>,
}

/// `check_suite`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CheckSuiteEvent {
    pub action: Option<String>,
    pub check_suite: Option<CheckSuite>,
    pub repository: Option<Repository>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CheckSuite {
    pub head_sha: Option<String>,
    pub conclusion: Option<String>,
    pub app: Option<App>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct App {
    pub slug: Option<String>,
}

/// Only `action`, for events preview-tower does not read: anything unreadable is no action.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActionOnly {
    action: Option<serde_json::Value>,
}

/// Most characters of serde's message kept in a [`PayloadError::Json`].
const MAX_DETAIL_CHARS: usize = 300;

/// `body` as `T`, or a precise error naming `event`.
pub(super) fn decode<T: DeserializeOwned>(
    event: &'static str,
    body: &[u8],
) -> Result<T, PayloadError> {
    serde_json::from_slice(body).map_err(|error| PayloadError::Json {
        event,
        // serde quotes a string of the wrong type whole: a field can be megabytes.
        detail: super::short(&error.to_string(), MAX_DETAIL_CHARS),
    })
}

/// The `action` of any payload, when it is a string.
pub(super) fn action_of(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<ActionOnly>(body).ok()?.action? {
        serde_json::Value::String(action) => Some(action),
        _ => None,
    }
}
