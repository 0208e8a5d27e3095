//! Keeping the snapshot fresh: a refresh loop per repo, caches keyed by SHA, last known good.
//!
//! Each repo is refreshed on its own schedule; a refresh lists the open PRs (all pages), reads
//! what the planner needs at each eligible head SHA that is not cached yet, then commits the new
//! list, replans and publishes a new [`Snapshot`]. A refresh that fails at any step commits
//! nothing: the repo keeps its last good list, so no preview ever leaves the set because of a
//! fault, and the other repos are not affected. Failures back off (honouring GitHub's
//! `Retry-After`) and are counted and logged.
//!
//! A PR that may hold a preview (Argo CD has its Application, or this process served it) is
//! never left out of an answer because its facts are not read: the plan holds it, and its
//! service answers `503` until it is read (`sync/hold.rs`). That is what makes the promise
//! hold across a restart, when nothing is in memory yet.
//!
//! Each eligible PR's activity (what idle expiry, sleep and the queue are computed from) is
//! read after its files (`sync/activity.rs`): only when it changed, and never failing the
//! refresh. The time the planner sees is the syncer's [`Clock`], the machine's by default.

mod activity;
mod bulk;
mod follow;
mod gate;
mod heads;
mod hold;
mod permissions;
mod poll;
mod state;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tracing::{info, warn};

use crate::argocd::{ApplicationIndex, PreviewRevisions};
use crate::backoff::Backoff;
use crate::fleet::Fleet;
use crate::github::rate::RateLimits;
use crate::github::{Collaborators, GitHubError, PullRequestSource};
use crate::metrics::{CallLabels, Metrics, RepoLabel, RepoLabels, ServiceLabel};
use crate::naming::RepoName;
use crate::naming::ServiceName;
use crate::pull_request::PullRequest;
use crate::snapshot::{Snapshot, SnapshotStore};

use state::SyncState;

pub use follow::follow_applications;
pub use permissions::{Author, may_command};

/// Reads at most this many files at once per repo.
const FETCH_CONCURRENCY: usize = 4;
/// The wait after a failed refresh: 5 s, doubling per failure to 5 min (unless GitHub asks
/// for longer), and GitHub's `Retry-After` honoured up to an hour, so a bogus header cannot
/// stop refreshes for days.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_secs(5),
    cap: Duration::from_secs(300),
    retry_after_max: Duration::from_secs(3600),
};
/// Below this share of GitHub's hourly budget, polling waits for the window to reset.
const RATE_RESERVE: f64 = 0.05;
/// How long the first refreshes wait for the first list of Argo CD's Applications.
const FIRST_LIST_WAIT: Duration = Duration::from_secs(10);

/// What time it is for the planner: `Utc::now` in service, a hand-moved clock in tests (so
/// that expiry and sleep are tested without waiting).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Refreshes repos and publishes snapshots.
pub struct Syncer {
    fleet: Arc<Fleet>,
    source: Arc<dyn PullRequestSource>,
    store: Arc<SnapshotStore>,
    metrics: Arc<Metrics>,
    state: Mutex<SyncState>,
    repo_locks: HashMap<RepoName, tokio::sync::Mutex<()>>,
    /// Repos whose first refresh has been tried (succeeded or not).
    first_round: std::sync::atomic::AtomicUsize,
    /// Time between two polls of a repo after a success.
    interval: Duration,
    /// Who may give `/preview` commands; `None`: nobody (the demo).
    collaborators: Option<Arc<dyn Collaborators>>,
    /// The planner's time.
    clock: Clock,
    /// Argo CD's Applications, when the Kubernetes API can be read: which previews exist.
    applications: Option<Arc<ApplicationIndex>>,
    /// When the syncer was made: the start of the cold start.
    started: std::time::Instant,
    /// The services answered (2xx) at least once since start.
    answered: Mutex<HashSet<ServiceName>>,
    /// The source's rate-limit record (GitHub's client's; an empty one for the demo's).
    rate: Arc<RateLimits>,
}

impl Syncer {
    /// A syncer publishing into `store` (which should start as [`Snapshot::unsynced`]).
    pub fn new(
        fleet: Arc<Fleet>,
        source: Arc<dyn PullRequestSource>,
        store: Arc<SnapshotStore>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let rate = source.rate_limits().unwrap_or_default();
        let repo_locks = fleet
            .repos()
            .into_iter()
            .map(|r| (r.clone(), tokio::sync::Mutex::new(())))
            .collect();
        Self {
            source,
            store,
            metrics,
            state: Mutex::new(SyncState::default()),
            repo_locks,
            first_round: std::sync::atomic::AtomicUsize::new(0),
            interval: fleet.refresh_interval,
            fleet,
            collaborators: None,
            clock: Arc::new(Utc::now),
            applications: None,
            started: std::time::Instant::now(),
            answered: Mutex::default(),
            rate,
        }
    }

    /// The same syncer knowing which previews exist from Argo CD's Applications (see
    /// `sync/hold.rs`); without it, it is conservative after a restart.
    #[must_use]
    pub fn with_applications(mut self, index: Arc<ApplicationIndex>) -> Self {
        self.applications = Some(index);
        self
    }

    /// The same syncer honouring `/preview` commands from the authors `collaborators` says
    /// have write access (without it, no command is honoured).
    #[must_use]
    pub fn with_collaborators(mut self, collaborators: Arc<dyn Collaborators>) -> Self {
        self.collaborators = Some(collaborators);
        self
    }

    /// The same syncer planning at the times `clock` gives (tests move it by hand).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The planner's time now.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The same syncer polling every `interval` instead of the fleet's `refresh_interval`:
    /// `serve` passes [`Fleet::poll_interval`]`(true)` when webhooks wake refreshes early.
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The snapshot published last.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.store.load_full()
    }

    /// Refreshes one repo now and publishes a new snapshot. When the listing itself fails,
    /// nothing changes. When only some commits could not be read, the listing is committed
    /// (closed PRs leave, new ones wait) and their PRs keep their last good revision; the error
    /// is returned either way so that the caller backs off.
    #[tracing::instrument(skip(self), fields(repo = %repo))]
    pub async fn refresh(&self, repo: &RepoName) -> Result<(), GitHubError> {
        let result = self.fetch_and_commit(repo).await;
        let outcome = match &result {
            Ok(()) => "ok",
            Err(error) => error.kind(),
        };
        self.metrics
            .sync
            .refreshes
            .get_or_create(&RepoLabels {
                repo: repo.to_string(),
                outcome,
            })
            .inc();
        let label = RepoLabel {
            repo: repo.to_string(),
        };
        match &result {
            Ok(()) => {
                self.metrics
                    .sync
                    .last_success
                    .get_or_create(&label)
                    .set(Utc::now().timestamp());
                self.metrics
                    .sync
                    .consecutive_failures
                    .get_or_create(&label)
                    .set(0);
            }
            Err(_) => {
                self.metrics
                    .sync
                    .consecutive_failures
                    .get_or_create(&label)
                    .inc();
            }
        }
        result
    }

    /// Refreshes every repo once, concurrently; the first error is returned after all ran.
    pub async fn refresh_all(&self) -> Result<(), GitHubError> {
        let repos: Vec<RepoName> = self.fleet.repos().into_iter().cloned().collect();
        let results = futures::future::join_all(repos.iter().map(|r| self.refresh(r))).await;
        results.into_iter().collect()
    }

    async fn fetch_and_commit(&self, repo: &RepoName) -> Result<(), GitHubError> {
        // One refresh of a repo at a time: an older listing must never be committed after a
        // newer one.
        let _one_at_a_time = match self.repo_locks.get(repo) {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let applications = self.argo_previews();
        let (mut pulls, unread) = match self.fetch(repo, applications.as_ref()).await {
            Ok(fetched) => fetched,
            Err(error) => {
                // Nothing is committed; only the 503s learn why.
                let mut state = self.lock();
                state.note_fault(repo, Some(&error), self.now());
                self.publish_notes(&state);
                return Err(error);
            }
        };
        // Plan and publish under the lock, so that snapshots are published in the order their
        // facts were committed.
        let mut state = self.lock();
        let held = state.hold_back_unread(&self.fleet, repo, &mut pulls);
        if held > 0 {
            warn!(repo = %repo, held, "new commits not readable yet; their PRs keep their last good revision");
        }
        state.keep_listing(repo, pulls);
        state.prune(&self.fleet, repo);
        state.note_fault(repo, unread.as_ref(), self.now());
        self.commit(&mut state, Some(repo));
        // The listing is committed (closed PRs go, others stay); a read that failed is still
        // reported, so the loop backs off and retries it.
        unread.map_or(Ok(()), Err)
    }

    /// Lists `repo` and reads what its PRs need: the PRs, and the first read that failed (their
    /// PRs then keep their last good facts, or wait). Fails as a whole only when the listing
    /// does, or when asking about a vanished PR hit an error that would hit every call.
    /// Files and builds are read before activity: they are what a preview cannot be answered
    /// without, when the budget runs short.
    async fn fetch(
        &self,
        repo: &RepoName,
        applications: Option<&PreviewRevisions>,
    ) -> Result<(Vec<Arc<PullRequest>>, Option<GitHubError>), GitHubError> {
        let listed_at = self.now();
        let mut pulls = self
            .call("list_pulls", self.source.open_pull_requests(repo))
            .await?;
        let unconfirmed = self
            .confirm_vanished(repo, &mut pulls, applications)
            .await?;
        // What the caches lack, in bulk where the source can; the reads below find it cached.
        let mut bulk = self.read_in_bulk(repo, &pulls, applications).await;
        if let Some(limited) = bulk.stop.take() {
            return Ok((pulls, Some(limited)));
        }
        // Builds first: a PR's last built commit, found after a restart, needs its files too.
        let unbuilt = self.fetch_builds(repo, &pulls, applications, &bulk).await;
        let unread = self.fetch_heads(repo, &pulls, &bulk).await.or(unbuilt);
        self.fetch_activity(repo, &pulls, listed_at, &bulk).await;
        let withheld = bulk.withheld.error.take();
        Ok((pulls, unread.or(withheld).or(unconfirmed)))
    }

    /// The previews Argo CD has, when its Applications are known.
    fn argo_previews(&self) -> Option<PreviewRevisions> {
        self.applications.as_ref()?.previews(&self.fleet)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SyncState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn call<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, GitHubError>>,
    ) -> Result<T, GitHubError> {
        let result = call.await;
        self.count(
            operation,
            result.as_ref().map_or_else(GitHubError::kind, |_| "ok"),
        );
        result
    }

    fn count(&self, operation: &'static str, outcome: &'static str) {
        self.metrics
            .sync
            .github_calls
            .get_or_create(&CallLabels { operation, outcome })
            .inc();
    }

    fn publish(&self, snapshot: Snapshot) {
        let mut answered = self.answered.lock().unwrap_or_else(PoisonError::into_inner);
        for service in &self.fleet.services {
            let plan = snapshot.plan();
            let count = plan
                .previews
                .iter()
                .filter(|p| p.service == service.name)
                .count();
            let held = plan.held_of(&service.name).count();
            let held_since = snapshot.notes().held_since.get(&service.name);
            let label = ServiceLabel {
                service: service.name.to_string(),
            };
            let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            self.metrics
                .sync
                .previews
                .get_or_create(&label)
                .set(gauge(count));
            self.metrics
                .sync
                .held_previews
                .get_or_create(&label)
                .set(gauge(held));
            self.metrics
                .sync
                .held_since
                .get_or_create(&label)
                .set(held_since.map_or(0, DateTime::timestamp));
            if snapshot.answers(&service.name) && answered.insert(service.name.clone()) {
                info!(service = %service.name, previews = count,
                    cold_start_s = self.started.elapsed().as_secs_f64(),
                    github_requests = self.rate.requests(),
                    "first answer since start");
            }
        }
        drop(answered);
        self.metrics
            .sync
            .snapshot_generation
            .set(i64::try_from(snapshot.generation()).unwrap_or(i64::MAX));
        self.store.store(Arc::new(snapshot));
    }
}

/// Runs `reads` [`FETCH_CONCURRENCY`] at a time; the first error, after all ran or after the
/// first error that would hit every other read too (rate limit, credentials, network). A
/// failure tied to one commit does not stop the others.
async fn first_error<T>(
    reads: impl futures::Stream<Item = impl Future<Output = Result<T, GitHubError>>>,
) -> Option<GitHubError> {
    let mut reads = std::pin::pin!(reads.buffer_unordered(FETCH_CONCURRENCY));
    let mut first = None;
    while let Some(result) = reads.next().await {
        if let Err(error) = result {
            let stop = error.affects_every_call();
            first.get_or_insert(error);
            if stop {
                break;
            }
        }
    }
    first
}

#[cfg(test)]
mod tests;
