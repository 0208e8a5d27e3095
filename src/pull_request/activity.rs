//! What people did on a pull request, as compact facts read from GitHub ([`PullEvent`]), and
//! their summary into the planner's [`Activity`] ([`summarize`]). Pure: no I/O, no clock.
//!
//! **What counts.** A push (a commit, or a force-push), a label added or removed, a comment or
//! review by a person, a PR marked ready for review or reopened, and a `/preview` command. The adapter has already dropped what preview-tower itself did (its
//! comments, its deployments) and what other bots wrote. A comment that holds a `/preview`
//! command is a comment whoever wrote it: it counts as activity (the issue's definition: "a
//! PR comment"). Its *command* takes effect only when its author has write access, which the
//! caller resolves (I/O) and passes in as `authorized`; an author not resolved yet is not
//! authorized yet.
//!
//! **Commits are dated by preview-tower.** A commit's dates are its author's to set (a commit
//! dated 2099 is one `git commit --date` away). A commit counts from the earlier of its
//! committer date and the moment preview-tower first saw it in the PR's timeline (`first_seen`,
//! which the caller remembers across reads): never later than that first sight, whatever the
//! date says, and an old commit does not count as new when it is first seen late (after a
//! restart). Every other time is GitHub's (`created_at`, `submitted_at`).
//!
//! **Fallback.** The timeline of an eligible PR always shows the `labeled` event of its
//! opt-in label, so `last` is known. If it shows nothing at all, the PR's `updated_at` (from
//! the listing) stands in: GitHub bumps it on every comment, label change, push and review,
//! so it is never earlier than the real last activity, and can only make expiry later. The
//! queue order (`labelled_at`) has no fallback: unknown goes last, as the quota documents.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::github::webhook::Command;
use crate::plan::{Activity, TimedCommand};

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
        /// The comment's command (see [`crate::github::webhook::parse_command`]).
        command: Option<Command>,
    },
    /// A review submitted.
    Reviewed,
    /// Marked ready for review, or reopened.
    Reopened,
}

/// What decides which of a PR's events count, and from when, beside the events themselves.
#[derive(Clone, Copy, Debug)]
pub struct Counting<'a> {
    /// The PR's opt-in label: its latest adding orders the queue.
    pub label: &'a str,
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
    let last = events
        .iter()
        .map(|e| match &e.kind {
            PullEventKind::Committed { sha } => {
                let seen = counting.first_seen.get(sha).copied().unwrap_or(read_at);
                e.at.min(seen)
            }
            _ => e.at,
        })
        .max()
        .or(Some(updated_at));
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
        (PullEventKind::Commented { command: Some(_) }, Some(author)) => Some(author.as_str()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, hour, 0, 0)
            .single()
            .expect("time")
    }

    fn event(hour: u32, actor: Option<&str>, kind: PullEventKind) -> PullEvent {
        PullEvent {
            at: at(hour),
            actor: actor.map(str::to_owned),
            kind,
        }
    }

    fn command(hour: u32, author: &str, command: Command) -> PullEvent {
        event(
            hour,
            Some(author),
            PullEventKind::Commented {
                command: Some(command),
            },
        )
    }

    fn writers(login: &str) -> bool {
        login == "mona"
    }

    /// The summary of `events` for the opt-in label `preview`, commits unseen before.
    fn summary(
        events: &[PullEvent],
        updated_at: DateTime<Utc>,
        read_at: DateTime<Utc>,
    ) -> Activity {
        let counting = Counting {
            label: "preview",
            first_seen: &HashMap::new(),
        };
        summarize(events, &counting, updated_at, read_at, writers)
    }

    fn commit(hour: u32, sha: &str) -> PullEvent {
        let sha = sha.to_owned();
        event(hour, None, PullEventKind::Committed { sha })
    }

    #[test]
    fn last_is_the_latest_event_of_any_kind() {
        use PullEventKind::*;
        #[rustfmt::skip]
        let cases: &[(&str, Vec<PullEvent>, u32)] = &[
            ("push", vec![event(3, None, Labeled("preview".into())), event(5, None, Pushed)], 5),
            ("label", vec![event(5, None, Pushed), event(6, Some("a"), Unlabeled("x".into()))], 6),
            ("comment", vec![event(5, None, Pushed), event(7, Some("a"), Commented { command: None })], 7),
            ("review", vec![event(8, Some("a"), Reviewed), event(5, None, Pushed)], 8),
            ("reopened", vec![event(5, None, Pushed), event(9, Some("a"), Reopened)], 9),
            ("reader's command is a comment", vec![event(5, None, Pushed), command(10, "eve", Command::Keep)], 10),
        ];
        for (name, events, hour) in cases {
            let activity = summary(events, at(23), at(23));
            assert_eq!(activity.last, Some(at(*hour)), "{name}");
        }
    }

    #[test]
    fn a_commit_counts_from_the_earlier_of_its_date_and_its_first_sighting() {
        let first_seen = HashMap::from([("future".to_owned(), at(5)), ("old".to_owned(), at(9))]);
        let counting = Counting {
            label: "preview",
            first_seen: &first_seen,
        };
        #[rustfmt::skip]
        let cases = [
            ("dated later than first seen: first seen", commit(23, "future"), at(5)),
            ("dated before first seen (seen late, as after a restart): its date", commit(3, "old"), at(3)),
            ("never seen: at the latest the read", commit(23, "unseen"), at(12)),
            ("a force-push is GitHub's time", event(11, Some("a"), PullEventKind::Pushed), at(11)),
        ];
        for (name, event, last) in cases {
            let activity = summarize(&[event], &counting, at(1), at(12), writers);
            assert_eq!(activity.last, Some(last), "{name}");
        }
        // The read moving on moves nothing.
        let later = summarize(&[commit(23, "future")], &counting, at(1), at(22), writers);
        assert_eq!(later.last, Some(at(5)));
    }

    #[test]
    fn no_event_falls_back_to_updated_at_which_is_never_earlier() {
        let activity = summary(&[], at(11), at(12));
        assert_eq!(activity.last, Some(at(11)));
        assert_eq!(
            activity.labelled_at, None,
            "no fallback for the queue order"
        );
        assert_eq!(activity.read_at, at(12));
    }

    #[test]
    fn labelled_at_is_the_latest_adding_of_the_opt_in_label() {
        use PullEventKind::*;
        let events = [
            event(1, Some("a"), Labeled("preview".into())),
            event(2, Some("a"), Unlabeled("preview".into())),
            event(3, Some("a"), Labeled("Preview".into())),
            event(4, Some("a"), Labeled("other".into())),
        ];
        let activity = summary(&events, at(23), at(23));
        assert_eq!(activity.labelled_at, Some(at(3)));
        assert_eq!(activity.last, Some(at(4)));
    }

    #[test]
    fn only_writers_commands_count_oldest_first() {
        let extend = Command::Extend(Duration::from_secs(3 * 24 * 3600));
        let events = [
            command(9, "mona", Command::Wake),
            command(4, "mona", extend),
            command(5, "eve", Command::Keep),
            event(6, None, PullEventKind::Commented { command: None }),
        ];
        let activity = summary(&events, at(23), at(23));
        let commands: Vec<(Command, DateTime<Utc>)> = activity
            .commands
            .iter()
            .map(|c| (c.command, c.at))
            .collect();
        assert_eq!(commands, [(extend, at(4)), (Command::Wake, at(9))]);
        let authors: Vec<&str> = command_authors(&events).collect();
        assert_eq!(authors, ["mona", "mona", "eve"]);
    }
}
