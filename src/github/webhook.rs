//! What GitHub pushes: webhook signatures ([`verify_signature`]), the events preview-tower acts
//! on ([`parse`] into [`Event`]), the `/preview` commands of PR comments (read by
//! [`crate::pull_request::parse_command`], the grammar's home; who may give them is the sync's
//! `permissions`).
//!
//! Pure: bytes and strings in, values out; no HTTP, no I/O. Bodies are untrusted until their
//! signature verifies, and their text stays untrusted after: every string kept is bounded and
//! [`parse`] never panics (a property test feeds it arbitrary bytes). Parsing is lenient: only
//! the fields used are read, unknown events and actions become [`Event::Ignored`], never errors.
//! What an event does (refresh, image gate, cost controls) is decided elsewhere.

mod decode;
mod signature;
mod wire;

#[cfg(test)]
mod tests;

pub use decode::parse;
pub use signature::{SIGNATURE_HEADER, SignatureError, sign, signature_tag, verify_signature};

use crate::naming::RepoName;
use crate::pull_request::{Command, parse_command};

/// The header naming the event (`pull_request`, `ping`...), lower case.
pub const EVENT_HEADER: &str = "x-github-event";
/// The header carrying the delivery's GUID, the same on a redelivery, lower case.
pub const DELIVERY_HEADER: &str = "x-github-delivery";
/// Longest check, workflow or app name kept, in characters: longer ones are refused.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest event name or action quoted in an [`Event::Ignored`], in characters.
const MAX_LABEL_CHARS: usize = 64;

/// A delivery, as far as preview-tower cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `ping`, sent when the webhook is created: answered, nothing else.
    Ping {
        /// GitHub's aphorism, at most 200 characters.
        zen: String,
    },
    /// A `pull_request` action that can change a preview (never [`PullRequestAction::Other`]:
    /// those are [`Event::Ignored`]).
    PullRequest {
        /// The base repository.
        repo: RepoName,
        /// The PR number (≥ 1).
        number: u64,
        /// What happened.
        action: PullRequestAction,
    },
    /// A build finished (`check_run`, `check_suite` or `workflow_run`, action `completed`).
    BuildFinished {
        /// The repository built.
        repo: RepoName,
        /// The commit built: 40 lowercase hex characters.
        head_sha: String,
        /// The check run's name, the check suite's app slug, or the workflow's name (at most
        /// [`MAX_NAME_CHARS`]).
        name: String,
        /// How it ended.
        conclusion: Conclusion,
    },
    /// A `/preview` command in a new comment on a pull request. Not yet authorized: check
    /// `author` first ([`crate::sync::Syncer::check_author`]).
    Command {
        /// The repository.
        repo: RepoName,
        /// The PR commented on.
        number: u64,
        /// The commenter's login (valid GitHub login syntax).
        author: String,
        /// What they asked.
        command: Command,
    },
    /// Anything else: an event or action preview-tower does not act on, a comment without a
    /// valid command. Answered 202 with `reason`.
    Ignored {
        /// The event name (at most 64 characters).
        event: String,
        /// The payload's `action`, when it has one (at most 64 characters).
        action: Option<String>,
        /// Why, for the delivery log in GitHub's UI.
        reason: String,
    },
}

/// What the receiver's sink did with an acted-on [`Event`]: the answer GitHub shows in the
/// App's delivery log, and the `outcome` of `preview_tower_webhook_deliveries_total`.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Taken: a refresh was asked for, or a command's author is being checked.
    Accepted,
    /// Nothing was done (a repository outside the fleet, a command nobody can authorize):
    /// answered `ignored` with the reason.
    Ignored {
        /// Why, for the delivery log in GitHub's UI.
        reason: String,
    },
}

/// Where the webhook receiver (`crate::http::webhook`) sends accepted events (the freshness
/// sink in `serve`). [`WebhookSink::deliver`] is called on the request's task before
/// the answer is sent: it must return at once (queue, coalesce, notify), never wait on GitHub
/// or Kubernetes.
pub trait WebhookSink: Send + Sync {
    /// Takes one event ([`Event::PullRequest`], [`Event::BuildFinished`] or
    /// [`Event::Command`]; never `Ping` or `Ignored`), and says whether it does anything with
    /// it: a delivery that changes nothing is answered `ignored`.
    fn deliver(&self, event: Event) -> Delivered;
}

impl Event {
    /// The repository the event is about, if it is acted on.
    pub fn repo(&self) -> Option<&RepoName> {
        match self {
            Self::PullRequest { repo, .. }
            | Self::BuildFinished { repo, .. }
            | Self::Command { repo, .. } => Some(repo),
            Self::Ping { .. } | Self::Ignored { .. } => None,
        }
    }
}

/// The `pull_request` actions that matter to a preview. GitHub adds actions: any other is
/// [`PullRequestAction::Other`], never an error.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PullRequestAction {
    /// `opened`.
    Opened,
    /// `reopened`.
    Reopened,
    /// `synchronize`: new commits on the head branch.
    Synchronize,
    /// `labeled`.
    Labeled,
    /// `unlabeled`.
    Unlabeled,
    /// `closed` (merged or not).
    Closed,
    /// `ready_for_review`: no longer a draft.
    ReadyForReview,
    /// `converted_to_draft`.
    ConvertedToDraft,
    /// `edited`: title, body or base branch.
    Edited,
    /// Any other action (`assigned`, `review_requested`, one GitHub adds tomorrow), at most 64
    /// characters.
    Other(String),
}

impl PullRequestAction {
    /// The action named `action` in a payload.
    pub fn from_wire(action: &str) -> Self {
        match action {
            "opened" => Self::Opened,
            "reopened" => Self::Reopened,
            "synchronize" => Self::Synchronize,
            "labeled" => Self::Labeled,
            "unlabeled" => Self::Unlabeled,
            "closed" => Self::Closed,
            "ready_for_review" => Self::ReadyForReview,
            "converted_to_draft" => Self::ConvertedToDraft,
            "edited" => Self::Edited,
            other => Self::Other(short(other, MAX_LABEL_CHARS)),
        }
    }

    /// The name GitHub uses.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Opened => "opened",
            Self::Reopened => "reopened",
            Self::Synchronize => "synchronize",
            Self::Labeled => "labeled",
            Self::Unlabeled => "unlabeled",
            Self::Closed => "closed",
            Self::ReadyForReview => "ready_for_review",
            Self::ConvertedToDraft => "converted_to_draft",
            Self::Edited => "edited",
            Self::Other(other) => other,
        }
    }
}

/// How a check run, check suite or workflow run ended (GitHub's `conclusion`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Conclusion {
    /// `success`: the only one that proves an image was built.
    Success,
    /// `failure`.
    Failure,
    /// `neutral`.
    Neutral,
    /// `cancelled`.
    Cancelled,
    /// `skipped`.
    Skipped,
    /// `timed_out`.
    TimedOut,
    /// `action_required`.
    ActionRequired,
    /// `stale`.
    Stale,
    /// `startup_failure` (workflow runs).
    StartupFailure,
    /// Anything else, at most 64 characters.
    Other(String),
}

impl Conclusion {
    /// The conclusion named `conclusion` in a payload.
    pub fn from_wire(conclusion: &str) -> Self {
        match conclusion {
            "success" => Self::Success,
            "failure" => Self::Failure,
            "neutral" => Self::Neutral,
            "cancelled" => Self::Cancelled,
            "skipped" => Self::Skipped,
            "timed_out" => Self::TimedOut,
            "action_required" => Self::ActionRequired,
            "stale" => Self::Stale,
            "startup_failure" => Self::StartupFailure,
            other => Self::Other(short(other, MAX_LABEL_CHARS)),
        }
    }

    /// Whether the build succeeded.
    pub fn is_success(&self) -> bool {
        *self == Self::Success
    }
}

/// Why a signed body is not a delivery preview-tower can read: GitHub never sends these, a
/// replayer or a proxy that rewrote the body might. Answered 400 with the message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The webhook's content type is `application/x-www-form-urlencoded`.
    #[error("the body is form-encoded: set the webhook's content type to application/json")]
    FormEncoded,
    /// Not JSON, or a field preview-tower reads has the wrong type.
    #[error("unreadable `{event}` payload: {detail}")]
    Json {
        /// The event.
        event: &'static str,
        /// serde's message (at most 300 characters).
        detail: String,
    },
    /// A field the event needs is absent or null.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// A field has a value GitHub never sends.
    #[error("`{field}` is invalid: {detail}")]
    Invalid {
        /// The field's path.
        field: &'static str,
        /// What is wrong (quotes at most 100 characters of the value).
        detail: String,
    },
}

impl PayloadError {
    /// A short, bounded label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::FormEncoded => "form_encoded",
            Self::Json { .. } => "json",
            Self::Missing(_) => "missing",
            Self::Invalid { .. } => "invalid",
        }
    }
}

/// At most `max` characters of untrusted text, control characters and line or paragraph
/// separators replaced by spaces, and `…` when cut.
fn short(text: &str, max: usize) -> String {
    let breaks = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if breaks(c) { ' ' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// The metric label of event `event_name`: one of the events preview-tower knows, or `other`
/// (labels stay bounded whatever a sender puts in the header).
pub fn event_label(event_name: &str) -> &'static str {
    match event_name {
        "ping" => "ping",
        "pull_request" => "pull_request",
        "issue_comment" => "issue_comment",
        "check_run" => "check_run",
        "check_suite" => "check_suite",
        "workflow_run" => "workflow_run",
        "push" => "push",
        _ => "other",
    }
}
