//! What people did on a pull request, as compact facts read from GitHub ([`PullEvent`]), and
//! their summary into the planner's [`Activity`] ([`summarize`]). Pure: no I/O, no clock.
//!
//! **What counts.** A push (a commit, or a force-push), a label added or removed, a comment or
//! review by one of the repository's people, a PR marked ready for review or reopened, and a
//! `/preview` command. The adapter has already dropped what preview-tower itself did (its
//! comments, its deployments) and what other bots wrote.
//!
//! **Whose comments count.** On a public repository any account can comment and review, so a
//! comment or review counts only when its author's `author_association` is one that
//! `counting.associations` lists (the fleet's `activity_associations`; by default `OWNER`,
//! `MEMBER`, `COLLABORATOR`), or its author is known to have write access (`authorized`).
//! Pushes and label changes count whoever made them: only people with write access can make
//! them. A comment that holds a `/preview` command counts as activity by the same rule. Its
//! *command* takes effect only when its author has write access, which the caller resolves
//! (I/O) and passes in as `authorized`; an author not resolved yet is not authorized yet.
//!
//! **Commits are dated by preview-tower.** A commit's dates are its author's to set (a commit
//! dated 2099 is one `git commit --date` away). A commit counts from the earlier of its
//! committer date and the moment preview-tower first saw it in the PR's timeline (`first_seen`,
//! which the caller remembers across reads): never later than that first sight, whatever the
//! date says, and an old commit does not count as new when it is first seen late (after a
//! restart). Every other time is GitHub's (`created_at`, `submitted_at`).
//!
//! **Fallback.** The timeline of an eligible PR always shows its commits and the `labeled`
//! event of its opt-in label, so `last` is known. If it shows nothing at all, the PR's
//! `updated_at` (from the listing) stands in: GitHub bumps it on every comment, label change,
//! push and review, so it is never earlier than the real last activity, and can only make
//! expiry later. (Not when it shows only events that do not count: `updated_at` moves with
//! anyone's comment. `last` is then unknown, and the preview does not expire.) The queue order
//! (`labelled_at`) has no fallback: unknown goes last, as the quota documents.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::AuthorAssociation;
use super::Command;

/// A `/preview` command from someone with write access to the repo, with its time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimedCommand {
    /// What was asked.
    pub command: Command,
    /// When (the comment's creation).
    pub at: DateTime<Utc>,
}

/// What people did on a PR, with times, as read from GitHub: preview-tower's own comments and
/// deployments are not activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    /// The latest push, label change, comment, review or command; `None` when none is known.
    pub last: Option<DateTime<Utc>>,
    /// When the opt-in label was last added: the order of the queue when the quota is full.
    pub labelled_at: Option<DateTime<Utc>>,
    /// `/preview` commands from people with write access, oldest first.
    pub commands: Vec<TimedCommand>,
    /// Up to when these facts are known to be complete: the last successful read of the PR's
    /// activity (or a listing that showed it unchanged since).
    pub read_at: DateTime<Utc>,
}

/// One thing that happened on a pull request, with its time, as GitHub's timeline shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullEvent {
    /// When (a commit: its committer date, the author's to set; the others: the event's
    /// creation, GitHub's).
    pub at: DateTime<Utc>,
    /// Who did it; `None` for commits (git authors are not GitHub accounts).
    pub actor: Option<String>,
    /// What happened.
    pub kind: PullEventKind,
}

/// The kinds of [`PullEvent`] that are activity. Other timeline events are not kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PullEventKind {
    /// Commit `sha` on the PR's branch: its `at` is untrusted (see the module doc).
    Committed {
        /// The commit's SHA, which its first sighting is remembered by.
        sha: String,
    },
    /// A force-push of the head branch.
    Pushed,
    /// Label `0` added.
    Labeled(String),
    /// Label `0` removed.
    Unlabeled(String),
    /// A comment by a person; with the `/preview` command it gives, when it gives a valid one.
    Commented {
        /// The comment's command (see [`crate::pull_request::parse_command`]).
        command: Option<Command>,
        /// How its author is associated with the repository.
        association: AuthorAssociation,
    },
    /// A review submitted.
    Reviewed {
        /// How its author is associated with the repository.
        association: AuthorAssociation,
    },
    /// Marked ready for review, or reopened.
    Reopened,
}

/// What decides which of a PR's events count, and from when, beside the events themselves.
#[derive(Clone, Copy, Debug)]
pub struct Counting<'a> {
    /// The PR's opt-in label: its latest adding orders the queue.
    pub label: &'a str,
    /// Whose comments and reviews are activity, by their author's association with the
    /// repository (besides authors with write access).
    pub associations: &'a [AuthorAssociation],
    /// When preview-tower first saw each commit in the PR's timeline, by SHA. A commit
    /// missing here counts from `read_at` at the latest.
    pub first_seen: &'a HashMap<String, DateTime<Utc>>,
}

/// The planner's [`Activity`] for a PR from its `events` read at `read_at`, counted as
/// `counting` says. `updated_at` is the PR's, the fallback for `last` (see the module doc);
/// `authorized(login)` says whether a command's author has write access (`false` while
/// unknown).
pub fn summarize(
    events: &[PullEvent],
    counting: &Counting<'_>,
    updated_at: DateTime<Utc>,
    read_at: DateTime<Utc>,
    authorized: impl Fn(&str) -> bool,
) -> Activity {
    let counts = |e: &&PullEvent| match &e.kind {
        PullEventKind::Commented { association, .. } | PullEventKind::Reviewed { association } => {
            counting.associations.contains(association)
                || e.actor.as_deref().is_some_and(&authorized)
        }
        _ => true,
    };
    let last = if events.is_empty() {
        Some(updated_at)
    } else {
        events
            .iter()
            .filter(counts)
            .map(|e| match &e.kind {
                PullEventKind::Committed { sha } => {
                    let seen = counting.first_seen.get(sha).copied().unwrap_or(read_at);
                    e.at.min(seen)
                }
                _ => e.at,
            })
            .max()
    };
    let label = counting.label;
    let labelled_at = events
        .iter()
        .filter(
            |e| matches!(&e.kind, PullEventKind::Labeled(name) if name.eq_ignore_ascii_case(label)),
        )
        .map(|e| e.at)
        .max();
    let mut commands: Vec<TimedCommand> = events
        .iter()
        .filter_map(|e| match (&e.kind, &e.actor) {
            (
                PullEventKind::Commented {
                    command: Some(command),
                    ..
                },
                Some(author),
            ) if authorized(author) => Some(TimedCommand {
                command: *command,
                at: e.at,
            }),
            _ => None,
        })
        .collect();
    commands.sort_by_key(|c| c.at);
    Activity {
        last,
        labelled_at,
        commands,
        read_at,
    }
}

/// The logins whose permission a summary of `events` needs: the authors of commands.
pub fn command_authors(events: &[PullEvent]) -> impl Iterator<Item = &str> {
    events.iter().filter_map(|e| match (&e.kind, &e.actor) {
        (
            PullEventKind::Commented {
                command: Some(_), ..
            },
            Some(author),
        ) => Some(author.as_str()),
        _ => None,
    })
}

#[cfg(test)]
mod tests;
