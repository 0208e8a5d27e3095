//! Freshness: a webhook's repo refreshed at once, then Argo CD told to regenerate.
//!
//! [`Freshness::poke`] marks a repo as needing a refresh and wakes its worker without blocking
//! (the webhook handler answers GitHub first). One worker per repo refreshes it through the
//! [`Syncer`] (which already runs one refresh of a repo at a time, poll loop included), then
//! sets the refresh annotation on each ApplicationSet one of whose services answers
//! differently than when that ApplicationSet was last told (`freshness/tell.rs`,
//! [`Snapshot::service_changed`]): a push that changed nothing costs Argo CD nothing. Pokes
//! that arrive during a round make exactly one more round after it (`freshness/pending.rs`);
//! repos run in parallel. A failed refresh is logged, counted and retried a few times with
//! backoff; the poll loop stays the safety net.
//!
//! Time is a poke too (`freshness/timer.rs`): when the served plan changes with time alone (a
//! preview expires, is warned about, falls asleep or wakes), the repos concerned are poked at
//! that moment ([`Freshness::poke_due`]), so that the ApplicationSet gets its refresh then.
//!
//! It does not parse webhooks, decide which events matter, poll, or read GitHub itself.
//!
//! [`Snapshot::service_changed`]: crate::snapshot::Snapshot::service_changed

mod pending;
pub mod sink;
mod tell;
mod timer;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::argocd::refresh::ApplicationSetRefresher;
use crate::backoff::Backoff;
use crate::fleet::Fleet;
use crate::github::GitHubError;
use crate::metrics::{Metrics, OutcomeLabels};
use crate::naming::RepoName;
use crate::sync::Syncer;
use pending::Pending;
use tell::Teller;

/// The wait before retrying a failed refresh: 2 s, doubling per failure to a minute (unless
/// GitHub asks for longer); `Retry-After` honoured up to an hour.
const RETRY: Backoff = Backoff {
    first: Duration::from_secs(2),
    cap: Duration::from_secs(60),
    retry_after_max: Duration::from_secs(3600),
};
/// Retries of a failed refresh before leaving it to the poll loop (about two minutes).
const MAX_RETRIES: u32 = 5;

/// Refreshes repos when webhooks poke them, and asks Argo CD to regenerate what changed.
pub struct Freshness {
    syncer: Arc<Syncer>,
    fleet: Arc<Fleet>,
    /// `None` without a Kubernetes API: repos are refreshed, Argo CD is not told.
    teller: Option<Teller>,
    metrics: Arc<Metrics>,
    /// One slot per repo of the fleet, by lower-cased `owner/name` (GitHub's names are
    /// case-insensitive, and a delivery spells them as GitHub does, not as the fleet does).
    slots: HashMap<String, Slot>,
}

/// One repo's pokes and its worker's progress.
struct Slot {
    repo: RepoName,
    pending: Mutex<Pending<Instant>>,
    wake: Notify,
    rounds: AtomicU64,
    /// The planner's time when its last round started: changes due after it are the timer's.
    round_at: Mutex<Option<DateTime<Utc>>>,
}

impl Slot {
    fn pending(&self) -> MutexGuard<'_, Pending<Instant>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn round_at(&self) -> MutexGuard<'_, Option<DateTime<Utc>>> {
        self.round_at.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn key(repo: &RepoName) -> String {
    repo.to_string().to_ascii_lowercase()
}

impl Freshness {
    /// Freshness for every repo of `fleet`, refreshing through `syncer`. Every ApplicationSet
    /// is considered up to date with the syncer's snapshot of now: build it before the first
    /// sync, and the first poke after that sync refreshes them all (Argo CD may have been
    /// answered 503 until then). Without a `refresher` (no Kubernetes API, as in the demo)
    /// repos are refreshed but no ApplicationSet is patched.
    pub fn new(
        syncer: Arc<Syncer>,
        fleet: Arc<Fleet>,
        refresher: Option<ApplicationSetRefresher>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let slots = fleet
            .repos()
            .into_iter()
            .map(|repo| {
                let slot = Slot {
                    repo: repo.clone(),
                    pending: Mutex::new(Pending::default()),
                    wake: Notify::new(),
                    rounds: AtomicU64::new(0),
                    round_at: Mutex::new(None),
                };
                (key(repo), slot)
            })
            .collect();
        let start = syncer.snapshot();
        let teller =
            refresher.map(|refresher| Teller::new(refresher, &fleet, &start, Arc::clone(&metrics)));
        Self {
            syncer,
            fleet,
            teller,
            metrics,
            slots,
        }
    }

    /// Pokes every repo one of whose previews in the served plan changed with time alone
    /// (expiry, warning, sleep) since that repo's last round (or since the plan was made),
    /// up to the syncer's now; returns them. The timer calls it at each such moment; tests
    /// call it after moving their clock.
    pub fn poke_due(&self) -> Vec<RepoName> {
        let snapshot = self.syncer.snapshot();
        let now = self.syncer.now();
        let since = |repo: &RepoName| self.slots.get(&key(repo)).and_then(|slot| *slot.round_at());
        let due = timer::due(&self.fleet, snapshot.plan(), now, since);
        for repo in &due {
            debug!(repo = %repo, "a preview changes with time now: refreshing its repo");
            self.poke(repo);
        }
        due.into_iter().collect()
    }

    /// Pokes the repos whose previews change with time, when they do, until `cancel` fires.
    async fn timer(&self, cancel: CancellationToken) {
        loop {
            self.poke_due();
            let wait = timer::wait(
                &self.fleet,
                self.syncer.snapshot().plan(),
                self.syncer.now(),
            );
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Asks for a refresh of `repo` as soon as possible; never blocks. Pokes that come while
    /// one is waiting join it; those during a running round make one more round after it.
    /// Returns `false` (and does nothing) when `repo` is not a repo of the fleet; the name is
    /// compared case-insensitively.
    pub fn poke(&self, repo: &RepoName) -> bool {
        let Some(slot) = self.slots.get(&key(repo)) else {
            debug!(repo = %repo, "poke for a repo outside the fleet; ignored");
            return false;
        };
        self.metrics.freshness.pokes.inc();
        if slot.pending().poke(Instant::now()) {
            slot.wake.notify_one();
        }
        true
    }

    /// Whether `repo` is a repo of the fleet (compared case-insensitively, as [`Self::poke`]
    /// does).
    pub fn covers(&self, repo: &RepoName) -> bool {
        self.slots.contains_key(&key(repo))
    }

    /// Rounds (refresh, then patches) completed for `repo` so far, failed ones included; 0
    /// for a repo outside the fleet. For tests and benchmarks waiting for a poke's effect.
    pub fn rounds(&self, repo: &RepoName) -> u64 {
        self.slots
            .get(&key(repo))
            .map_or(0, |slot| slot.rounds.load(Ordering::Acquire))
    }

    /// Whether no poke of `repo` waits and no round (or retry pause) of it runs.
    pub fn is_idle(&self, repo: &RepoName) -> bool {
        self.slots
            .get(&key(repo))
            .is_none_or(|slot| slot.pending().is_idle())
    }

    /// Runs one worker per repo until `cancel` fires. A round in progress is abandoned then
    /// (a refresh commits atomically or not at all).
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let workers = self
            .slots
            .values()
            .map(|slot| self.worker(slot, cancel.clone()));
        tokio::join!(
            futures::future::join_all(workers),
            self.timer(cancel.clone())
        );
    }

    async fn worker(&self, slot: &Slot, cancel: CancellationToken) {
        let mut failures: u32 = 0;
        loop {
            // Bound first, so that the lock is released before waiting.
            let started = slot.pending().start();
            let Some(since) = started else {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = slot.wake.notified() => continue,
                }
            };
            let result = tokio::select! {
                () = cancel.cancelled() => return,
                result = self.round(slot, since) => result,
            };
            slot.rounds.fetch_add(1, Ordering::AcqRel);
            let retry = match result {
                Ok(()) => {
                    failures = 0;
                    None
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let pause = self.retry_pause(slot, failures, &error);
                    if let Some(pause) = pause {
                        tokio::select! {
                            () = cancel.cancelled() => return,
                            () = tokio::time::sleep(pause) => {}
                        }
                    } else {
                        failures = 0;
                    }
                    pause.map(|_| since)
                }
            };
            slot.pending().finish(retry);
        }
    }

    /// How long to wait before retrying after `failures` failed rounds in a row; `None` once
    /// the retries are spent (the poll loop takes over).
    fn retry_pause(&self, slot: &Slot, failures: u32, error: &GitHubError) -> Option<Duration> {
        if failures > MAX_RETRIES {
            warn!(repo = %slot.repo, error = %error, failures,
                "refresh after a webhook still failing; left to the poll loop");
            return None;
        }
        let pause = RETRY.delay(failures, error.retry_after());
        warn!(repo = %slot.repo, error = %error, kind = error.kind(), failures,
            retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
            "refresh after a webhook failed; retrying");
        Some(pause)
    }

    /// Refreshes the repo, then tells Argo CD what changed (even when the refresh failed in
    /// part: what it committed is served).
    #[tracing::instrument(skip(self, slot, since), fields(repo = %slot.repo))]
    async fn round(&self, slot: &Slot, since: Instant) -> Result<(), GitHubError> {
        *slot.round_at() = Some(self.syncer.now());
        let result = self.syncer.refresh(&slot.repo).await;
        let outcome = result.as_ref().map_or_else(GitHubError::kind, |()| "ok");
        self.metrics
            .freshness
            .refreshes
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        match &self.teller {
            Some(teller) => {
                teller
                    .tell(&self.syncer.snapshot(), &slot.repo, since)
                    .await
            }
            None => debug!(repo = %slot.repo, "no Kubernetes API: Argo CD not told"),
        }
        result
    }
}

#[cfg(test)]
mod tests;
