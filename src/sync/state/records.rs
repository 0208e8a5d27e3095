//! The records the sync keeps beside its lists and caches: a gated PR's last search for a
//! built commit, a PR's activity as last read (with when each of its commits was first
//! seen). Plain data.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::pull_request::{PullEvent, PullEventKind};

/// A search of a gated PR's commits for a built one (see `sync/gate.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Search {
    /// The PR's head when it was made.
    pub(crate) head: String,
    /// The commit its Application ran then, when known.
    pub(crate) deployed: Option<String>,
    /// Whether finding nothing proves that nothing is built: not while the Applications were
    /// expected but not listed (the commit a preview runs was not searched).
    pub(crate) conclusive: bool,
}

impl Search {
    /// Whether this search settles the PR at `head` running `deployed`: made there, and
    /// conclusive (or, when `conclusive_now` is false, as conclusive as a new one could be).
    pub(crate) fn settles(
        &self,
        head: &str,
        deployed: Option<&String>,
        conclusive_now: bool,
    ) -> bool {
        self.head == head
            && self.deployed.as_ref() == deployed
            && (self.conclusive || !conclusive_now)
    }
}

/// A PR's activity as last read (see `sync/activity.rs`).
#[derive(Clone, Debug)]
pub(crate) struct ReadActivity {
    /// Its events; `None` when the source cannot tell (the preview then never expires).
    pub(crate) events: Option<Vec<PullEvent>>,
    /// The PR's `updated_at` in the listing the read was made for: read again when it moves.
    pub(crate) updated_at: DateTime<Utc>,
    /// Up to when the events are known complete: when the read was sent, then advanced to
    /// each later listing that showed the same `updated_at`.
    pub(crate) read_at: DateTime<Utc>,
    /// When the read was sent (not advanced).
    pub(crate) sent_at: DateTime<Utc>,
    /// When a read of this PR's timeline first showed each of its commits, by SHA: what a
    /// commit counts from at the latest (its date is its author's to set). Carried from read to
    /// read (see [`first_seen`]); memory only, so it starts again after a restart.
    pub(crate) first_seen: HashMap<String, DateTime<Utc>>,
}

/// When each commit of `events` was first seen: as `previous` (the PR's last read) says, or
/// `now` for a commit new to it. Only the commits `events` shows are kept, so the map is no
/// larger than the timeline.
pub(crate) fn first_seen(
    events: Option<&[PullEvent]>,
    previous: Option<&ReadActivity>,
    now: DateTime<Utc>,
) -> HashMap<String, DateTime<Utc>> {
    let known = |sha: &str| previous.and_then(|p| p.first_seen.get(sha).copied());
    events
        .into_iter()
        .flatten()
        .filter_map(|event| match &event.kind {
            PullEventKind::Committed { sha } => Some((sha.clone(), known(sha).unwrap_or(now))),
            _ => None,
        })
        .collect()
}

impl ReadActivity {
    /// Whether these facts are complete for a PR listed with `updated_at`: read for that
    /// `updated_at`, and sent long enough after it. GitHub's times have whole seconds, so a
    /// comment in the same second as the read would leave `updated_at` unchanged; the margin
    /// covers that and some clock skew. (Reading again soon after costs nothing when nothing
    /// changed: the timeline pages answer `304`.)
    pub(crate) fn complete_for(&self, updated_at: DateTime<Utc>) -> bool {
        self.updated_at == updated_at && self.sent_at >= updated_at + SETTLE
    }
}

/// How long after a PR's `updated_at` a read of its activity must be sent to be trusted as
/// complete for it (see [`ReadActivity::complete_for`]).
pub(crate) const SETTLE: chrono::Duration = chrono::Duration::seconds(60);

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, hour, 0, 0)
            .single()
            .expect("time")
    }

    fn commit(sha: &str) -> PullEvent {
        let future = Utc
            .with_ymd_and_hms(2099, 1, 1, 0, 0, 0)
            .single()
            .expect("time");
        PullEvent {
            at: future,
            actor: None,
            kind: PullEventKind::Committed {
                sha: sha.to_owned(),
            },
        }
    }

    fn read(events: &[PullEvent], previous: Option<&ReadActivity>, now: u32) -> ReadActivity {
        ReadActivity {
            events: Some(events.to_vec()),
            updated_at: at(0),
            read_at: at(now),
            sent_at: at(now),
            first_seen: first_seen(Some(events), previous, at(now)),
        }
    }

    #[test]
    fn a_commit_keeps_its_first_sighting_across_reads_and_is_forgotten_when_gone() {
        let first = read(&[commit("a")], None, 1);
        let second = read(&[commit("a"), commit("b")], Some(&first), 2);
        assert_eq!(
            second.first_seen,
            HashMap::from([("a".to_owned(), at(1)), ("b".to_owned(), at(2))])
        );
        // Force-pushed away: `a` is no longer in the timeline, and no longer remembered.
        let third = read(&[commit("b")], Some(&second), 3);
        assert_eq!(third.first_seen, HashMap::from([("b".to_owned(), at(2))]));
        assert!(first_seen(None, Some(&third), at(4)).is_empty());
    }
}
