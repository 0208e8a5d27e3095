//! The records the sync keeps beside its lists and caches: a gated PR's last search for a
//! built commit, a PR's activity as last read, a command author's permission. Plain data.

use chrono::{DateTime, Utc};

use crate::pull_request::PullEvent;

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

/// Most permission answers kept; the map is emptied when it would grow past this.
pub(crate) const MAX_PERMISSIONS: usize = 10_000;

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

/// Whether a login may give `/preview` commands on a repo, as last asked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Permission {
    /// Write access (or more).
    pub(crate) authorized: bool,
    /// When GitHub said so.
    pub(crate) checked_at: DateTime<Utc>,
}
