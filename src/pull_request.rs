//! Pull-request facts as plain data: what the planner consumes.
//!
//! These types are what the GitHub adapter (or the demo) produces and what [`crate::plan`] reads.
//! They hold no octocrab types and do no I/O. Every string in here except `head_sha` and the
//! repository name is written by whoever opened the pull request: treat it as untrusted text,
//! never as a name, a path or a template.

mod activity;
mod association;
mod command;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use activity::{
    Activity, Counting, PullEvent, PullEventKind, TimedCommand, command_authors, summarize,
};
pub use association::AuthorAssociation;
pub use command::{
    Command, CommandError, MAX_COMMAND_LINES, MAX_EXTENSION, MAX_LINE_CHARS, parse_command,
};

/// An open pull request as GitHub lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The PR number, unique within its repository.
    pub number: u64,
    /// Untrusted: the PR title.
    pub title: String,
    /// Untrusted: the PR description (Markdown), for Jira issue keys; empty when none.
    #[serde(default)]
    pub body: String,
    /// Untrusted: the head branch name (in a fork, the fork's branch).
    pub branch: String,
    /// The base branch the PR merges into.
    pub target_branch: String,
    /// The head commit: 40 lowercase hex characters (checked by the adapter).
    pub head_sha: String,
    /// Login of the PR's author.
    pub author: String,
    /// Untrusted: label names, as set on the PR.
    pub labels: Vec<String>,
    /// Whether the PR is a draft.
    pub draft: bool,
    /// Whether the head branch lives in another repository (a fork).
    pub from_fork: bool,
    /// Last update on GitHub's side: activity evidence for the TTL.
    pub updated_at: DateTime<Utc>,
}

impl PullRequest {
    /// Whether the PR carries `label` (GitHub label names are case-insensitive).
    pub fn has_label(&self, label: &str) -> bool {
        self.labels.iter().any(|l| l.eq_ignore_ascii_case(label))
    }
}

/// The in-repo config file as read at a head commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "text", rename_all = "snake_case")]
pub enum ConfigFile {
    /// No file at that path: the fleet's defaults apply.
    Missing,
    /// The file's text (untrusted).
    Present(String),
    /// Something is at that path but it is not a readable text file (directory, symlink,
    /// submodule, binary, too large). The message says which.
    Unreadable(String),
}

/// What is known about one head commit of a repository. Keyed by SHA, so it never changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadFacts {
    /// The repo config file at this commit.
    pub config: ConfigFile,
    /// The git object SHA of the seed path at this commit (`git rev-parse <sha>:<path>`), or
    /// `None` when the path does not exist there. Absent when the service has no seed path.
    pub seed_tree_sha: Option<String>,
}

/// What a service's build check says about one commit: whether its image exists.
///
/// Read from the newest check run of that name on the commit. Only `Succeeded` is final for a
/// commit (an image once pushed stays); `Failed` can still turn into `Succeeded` when the job
/// is re-run, and `Pending` is the usual state while it builds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BuildStatus {
    /// The check completed with `success`: the image exists.
    Succeeded,
    /// No run of the check yet, or a run not completed (queued, in progress, waiting).
    Pending,
    /// The check completed with anything but `success` (`failure`, `cancelled`, `timed_out`,
    /// `action_required`, `stale`, `neutral`, `skipped`): no image to trust.
    Failed {
        /// GitHub's `conclusion`, as reported (lowercase letters and `_`, at most 30).
        conclusion: String,
    },
}

impl BuildStatus {
    /// Whether the image of the commit exists.
    pub fn succeeded(&self) -> bool {
        matches!(self, Self::Succeeded)
    }
}

/// Whether `sha` looks like a full git object id (40 lowercase hex characters).
pub fn is_full_sha(sha: &str) -> bool {
    sha.len() == 40
        && sha
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_case_insensitively() {
        let pr = PullRequest {
            number: 1,
            title: String::new(),
            body: String::new(),
            branch: "b".into(),
            target_branch: "main".into(),
            head_sha: "0".repeat(40),
            author: "a".into(),
            labels: vec!["Preview".into()],
            draft: false,
            from_fork: false,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        assert!(pr.has_label("preview"));
        assert!(!pr.has_label("preview-keep"));
    }

    #[test]
    fn full_shas_are_forty_lowercase_hex() {
        assert!(is_full_sha(&"a1".repeat(20)));
        assert!(!is_full_sha(&"A1".repeat(20)));
        assert!(!is_full_sha("abc"));
    }
}
