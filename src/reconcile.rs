//! The lifecycle's I/O shell: reconciling what GitHub and Jira show with the previews as they
//! really are, around the pure decisions of [`crate::lifecycle`] ([`crate::lifecycle::decide`],
//! [`crate::lifecycle::notices`]).
//!
//! While this replica leads, for each repo whose pull requests have been synced and once the
//! Applications have been listed, the [`Worker`] reads back what GitHub shows (preview-tower's
//! deployments, the sticky comments), decides, and writes only the difference: deployments and
//! statuses, the comment, and Jira notes (queued for [`JiraQueue`], which posts them on its own
//! task). Level-triggered: every round starts from current state, so a failed write is simply
//! redone by a later round, and a restart (empty memory) reads everything back before writing
//! anything. [`start()`] runs the election, the queue and the worker as tasks that stop together.
//!
//! Writes to GitHub go one at a time through a [`Pacer`]; a rate limit holds every write off.
//! A write whose outcome is unknown (timeout, connection lost, 5xx) marks its environment as
//! suspect: the next round reads that environment's deployments back before deciding again,
//! so a deployment that was created after all is not created twice. It must not decide what
//! GitHub or Jira should show (that is [`crate::lifecycle`]'s), nor write without reading back.

mod comments;
mod error;
pub mod jira_queue;
mod notes;
pub mod pacer;
mod round;
mod start;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use self::error::RoundError;
use self::jira_queue::JiraQueue;
pub use self::pacer::Pacer;
pub use self::start::{Parts, start};
use crate::argocd::ApplicationIndex;
use crate::backoff::Backoff;
use crate::cost::meter::SharedMeter;
use crate::fleet::Fleet;
use crate::github::{GitHubError, IssueComment, PreviewReporter};
use crate::lifecycle::Shown;
use crate::metrics::Metrics;
use crate::naming::RepoName;
use crate::plan::Preview;
use crate::snapshot::SnapshotStore;

/// The wait after a failed round: 2 s, doubling per consecutive failure to 5 min (unless
/// GitHub asks for longer); `Retry-After` honoured up to an hour.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_secs(2),
    cap: Duration::from_secs(300),
    retry_after_max: Duration::from_secs(3600),
};

/// How the worker behaves.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where Argo CD's web UI shows the previews' Applications
    /// (`<argocd_url>/applications/<namespace>`), for the deployments' `log_url`.
    pub applications_url: Option<String>,
    /// Least time between two writes to GitHub.
    pub write_interval: Duration,
    /// How many of a repo's newest preview-tower deployments are read back at start-up.
    pub deployment_scan: usize,
    /// How often everything is read back from GitHub again (catches hand edits).
    pub resync_interval: Duration,
    /// Jira projects whose keys count (empty: any).
    pub jira_projects: Vec<String>,
}

/// What the leader remembers of a PR between rounds.
#[derive(Clone, Debug, Default)]
struct PrMemory {
    /// Our sticky comment as last written or read, once known.
    comment: Option<IssueComment>,
    /// Whether the comment was looked for (and is absent when `comment` is `None`).
    comment_looked_up: bool,
    /// The PR's title, branch and description, from its last preview (for Jira keys).
    text: Option<(String, String, String)>,
}

/// What the leader remembers of a repo.
#[derive(Debug, Default)]
struct RepoMemory {
    /// preview-tower's deployments as GitHub shows them; `None` until read back.
    ledger: Option<Vec<Shown>>,
    /// When the ledger was read back.
    read_at: Option<Instant>,
    /// Environments whose last write has an unknown outcome: read back before deciding.
    suspect: BTreeSet<String>,
    /// Environments read back on their own since the ledger was read.
    read_environments: BTreeSet<String>,
    prs: BTreeMap<u64, PrMemory>,
    /// The (snapshot generation, index version, meter count) last reconciled without error.
    clean_at: Option<(u64, u64, u64)>,
    failures: u32,
    retry_at: Option<Instant>,
}

impl RepoMemory {
    /// PR `number`'s desired previews (from `previews`) and its deployments as GitHub shows
    /// them.
    fn pull_request<'p>(
        &self,
        previews: &[&'p Preview],
        number: u64,
    ) -> (Vec<&'p Preview>, Vec<Shown>) {
        let of_pr = previews
            .iter()
            .copied()
            .filter(|p| p.pr.number == number)
            .collect();
        let shown = self
            .ledger
            .iter()
            .flatten()
            .filter(|s| s.number == number)
            .cloned()
            .collect();
        (of_pr, shown)
    }
}

/// Whether a round finished or is waiting for its inputs.
#[derive(Debug, PartialEq, Eq)]
enum Round {
    Done,
    /// The repo is not synced yet, the Applications are not listed yet, or a read back found
    /// more to decide on: the next tick runs the round again.
    Waiting,
}

/// Makes GitHub and Jira show the previews as they really are.
pub struct Worker {
    fleet: Arc<Fleet>,
    store: Arc<SnapshotStore>,
    index: Arc<ApplicationIndex>,
    github: Arc<dyn PreviewReporter>,
    jira: Option<Arc<JiraQueue>>,
    metrics: Arc<Metrics>,
    settings: Settings,
    meter: SharedMeter,
    pacer: Pacer,
    /// Whether this replica leads: checked before every write, so that a replica that lost
    /// its lease in the middle of a round stops writing at once.
    leading: watch::Receiver<bool>,
}

impl Worker {
    /// Runs rounds while `leading` says this replica leads, until `cancel` fires. Each term of
    /// leadership starts with an empty memory: everything is read back first.
    pub async fn run(&self, cancel: CancellationToken) {
        let mut leading = self.leading.clone();
        loop {
            if !*leading.borrow_and_update() {
                self.metrics.lifecycle.leader.set(0);
                tokio::select! {
                    () = cancel.cancelled() => return,
                    changed = leading.changed() => if changed.is_err() { return },
                }
                continue;
            }
            self.metrics.lifecycle.leader.set(1);
            info!("leading: reading back GitHub and acting on the previews");
            self.term(&mut leading, &cancel).await;
            if let Some(jira) = &self.jira {
                jira.clear();
            }
            if cancel.is_cancelled() {
                self.metrics.lifecycle.leader.set(0);
                return;
            }
        }
    }

    /// One term of leadership: rounds whenever the snapshot or the Applications change, the
    /// cost meter counted (every minute: the comments' cost lines), a retry is due, or the
    /// resync interval passed.
    async fn term(&self, leading: &mut watch::Receiver<bool>, cancel: &CancellationToken) {
        let mut memory: HashMap<RepoName, RepoMemory> = HashMap::new();
        let mut apps = self.index.subscribe();
        loop {
            let version = (
                self.store.load().generation(),
                *apps.borrow_and_update(),
                self.meter.lock().counted(),
            );
            for repo in self.fleet.repos() {
                let m = memory.entry(repo.clone()).or_default();
                self.maybe_round(repo, m, version).await;
                if cancel.is_cancelled() || !*leading.borrow() {
                    return;
                }
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = leading.changed() => {}
                _ = apps.changed() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    async fn maybe_round(&self, repo: &RepoName, m: &mut RepoMemory, version: (u64, u64, u64)) {
        let now = Instant::now();
        // A rate limit holds every repo off, reads included.
        if m.retry_at.is_some_and(|at| at > now) || self.pacer.holding().await {
            return;
        }
        if m.read_at
            .is_some_and(|at| now.duration_since(at) >= self.settings.resync_interval)
        {
            *m = RepoMemory::default();
        }
        if m.clean_at == Some(version) && m.suspect.is_empty() {
            return;
        }
        match self.round(repo, m).await {
            Ok(Round::Done) => {
                m.clean_at = Some(version);
                m.failures = 0;
                m.retry_at = None;
            }
            Ok(Round::Waiting) => {}
            Err(error) => {
                m.failures = m.failures.saturating_add(1);
                let wait = BACKOFF.delay(m.failures, error.retry_after());
                if let RoundError::GitHub(GitHubError::RateLimited { retry_after }) = &error {
                    let hold = retry_after.unwrap_or(Duration::from_secs(60));
                    self.pacer.hold_off(BACKOFF.honoured(hold)).await;
                }
                m.retry_at = Some(now + wait);
                warn!(repo = %repo, error = %error, kind = error.kind(), retry_in = ?wait,
                    "lifecycle round failed; will retry");
            }
        }
    }
}
