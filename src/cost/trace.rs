//! A trace: what happened on the fleet's pull requests, with times, as JSON lines. Recorded from
//! GitHub or made up by [`super::simulate`]; replayed by [`super::replay`].
//!
//! One event per line, in any order (they are sorted by time, stably):
//!
//! ```text
//! {"at":"2026-03-02T09:14:00Z","repo":"acme/api","pr":12,"event":"opened","labels":["preview"]}
//! {"at":"2026-03-02T10:02:00Z","repo":"acme/api","pr":12,"event":"push"}
//! {"at":"2026-03-02T11:30:00Z","repo":"acme/api","pr":12,"event":"comment"}
//! {"at":"2026-03-02T11:31:00Z","repo":"acme/api","pr":12,"event":"command","text":"/preview extend 3d"}
//! {"at":"2026-03-03T16:00:00Z","repo":"acme/api","pr":12,"event":"closed","merged":true}
//! ```
//!
//! Every event is activity for the idle TTL. `opened` (also a reopening) takes the PR's
//! `labels` and `draft` flag; `labeled`/`unlabeled` take a `label`; `command` takes the
//! comment's text, read as GitHub comments are (a `/preview` line from someone with write
//! access: the trace is trusted), and a text that is no valid command is a plain comment;
//! `ready_for_review`, `converted_to_draft`; `closed` (merged or not) ends the PR. An event on a
//! PR never opened is an error; events on a closed PR are ignored. Blank lines and lines
//! starting with `#` are skipped. Pure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::naming::RepoName;

/// Longest trace read: a year of a large fleet fits many times over.
pub const MAX_EVENTS: usize = 2_000_000;

/// One event on one pull request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The PR's repository.
    pub repo: RepoName,
    /// The PR number.
    pub pr: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened on a pull request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// Opened or reopened.
    Opened {
        /// Its labels then.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        labels: Vec<String>,
        /// Whether it is a draft.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        draft: bool,
    },
    /// A label added.
    Labeled {
        /// The label.
        label: String,
    },
    /// A label removed.
    Unlabeled {
        /// The label.
        label: String,
    },
    /// A push to the head branch.
    Push,
    /// A comment or a review.
    Comment,
    /// A comment with a `/preview` command.
    Command {
        /// The comment's text.
        text: String,
    },
    /// Marked ready for review.
    ReadyForReview,
    /// Turned back into a draft.
    ConvertedToDraft,
    /// Closed, merged or not.
    Closed {
        /// Whether it was merged (reported only).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        merged: bool,
    },
}

/// Why a trace cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// A line is not an event.
    #[error("line {line}: {message}")]
    Invalid {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An event on a PR that was never opened before it.
    #[error("line {line}: {repo}#{pr} has a `{event}` event before any `opened` event")]
    NotOpened {
        /// 1-based line number.
        line: usize,
        /// The repository.
        repo: String,
        /// The PR number.
        pr: u64,
        /// The event name.
        event: &'static str,
    },
    /// More than [`MAX_EVENTS`] events.
    #[error("more than {MAX_EVENTS} events: cut the trace to a shorter window")]
    TooLong,
    /// No event at all.
    #[error("the trace has no events")]
    Empty,
}

impl EventKind {
    /// The `event` name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Opened { .. } => "opened",
            Self::Labeled { .. } => "labeled",
            Self::Unlabeled { .. } => "unlabeled",
            Self::Push => "push",
            Self::Comment => "comment",
            Self::Command { .. } => "command",
            Self::ReadyForReview => "ready_for_review",
            Self::ConvertedToDraft => "converted_to_draft",
            Self::Closed { .. } => "closed",
        }
    }
}

/// Reads a trace: every event, sorted by time (stable), checked that each PR is opened before
/// anything else happens to it.
pub fn parse(text: &str) -> Result<Vec<TraceEvent>, TraceError> {
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if events.len() == MAX_EVENTS {
            return Err(TraceError::TooLong);
        }
        let event: TraceEvent = serde_json::from_str(line).map_err(|err| TraceError::Invalid {
            line: line_no,
            message: format!("not a trace event ({err}); see docs/cost.md for the format"),
        })?;
        events.push((line_no, event));
    }
    if events.is_empty() {
        return Err(TraceError::Empty);
    }
    events.sort_by_key(|(_, e)| e.at);
    let mut opened = std::collections::BTreeSet::new();
    for (line, event) in &events {
        let key = (event.repo.clone(), event.pr);
        if matches!(event.kind, EventKind::Opened { .. }) {
            opened.insert(key);
        } else if !opened.contains(&key) {
            return Err(TraceError::NotOpened {
                line: *line,
                repo: event.repo.to_string(),
                pr: event.pr,
                event: event.kind.name(),
            });
        }
    }
    Ok(events.into_iter().map(|(_, e)| e).collect())
}

/// Writes `events` as JSON lines, one event a line, in the order given.
pub fn to_json_lines(events: &[TraceEvent]) -> String {
    let mut out = String::new();
    for event in events {
        // A trace event always serializes: plain strings, numbers and a timestamp.
        if let Ok(line) = serde_json::to_string(event) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}
