//! The queue of Jira comments: filled by the lifecycle worker, drained by its own task so that
//! a slow or absent Jira never delays GitHub updates or the plugin.
//!
//! Jobs run one at a time, in order, except that a job that failed waits for its own retry
//! (2 s doubling to 5 min) while the others go on: one issue Jira keeps refusing cannot stall
//! the rest. A PR's `Gone` never runs while its `Ready` for the same issue is still queued.
//! Before posting, each job reads back whether the issue already carries the comment (found by
//! its marker), so a restart or a second replica never posts twice; a `Gone` is posted only
//! where a `Ready` was. `429 Retry-After` holds every job off. An issue Jira refuses (unknown
//! key, invalid) is given up with a warning. The process remembers which comments it knows
//! are posted (a few dozen bytes each).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::backoff::Backoff;
use crate::issues::{Event, IssueKey, Note};
use crate::jira::{IssueNotifier, JiraError};
use crate::metrics::{ActionLabels, Metrics};

/// The wait after a failure: 2 s, doubling per failure of the same job to 5 min. A rate limit
/// holds every job off for Jira's `Retry-After` (else the first wait), at least a second and at
/// most an hour.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_secs(2),
    cap: Duration::from_secs(300),
    retry_after_max: Duration::from_secs(3600),
};

type JobKey = (IssueKey, String);

#[derive(Clone, Debug)]
struct Job {
    issue: IssueKey,
    note: Note,
    failures: u32,
    not_before: Instant,
}

impl Job {
    fn key(&self) -> JobKey {
        (self.issue.clone(), self.note.marker())
    }
}

/// The key of `note`'s counterpart with `event` on the same issue.
fn key_with(issue: &IssueKey, note: &Note, event: Event) -> JobKey {
    let other = Note {
        event,
        ..note.clone()
    };
    (issue.clone(), other.marker())
}

#[derive(Debug, Default)]
struct QueueState {
    jobs: Vec<Job>,
    queued: HashSet<JobKey>,
    /// Comments known to be on their issue (posted or found).
    posted: HashSet<JobKey>,
    /// `Gone` notes for issues that never heard `Ready` (undone by a later `Ready`).
    nothing_to_say: HashSet<JobKey>,
    /// Jobs Jira refused for good.
    given_up: HashSet<JobKey>,
    /// Bumped by [`JiraQueue::clear`]: an answer from before is not acted on.
    epoch: u64,
    /// No job before this (a rate limit).
    hold_until: Option<Instant>,
}

/// What became of a job.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Posted,
    AlreadyThere,
    /// A `Gone` for an issue that never heard `Ready`.
    NothingToSay,
    /// Leadership was lost before posting.
    NotLeading,
}

/// Jira comments waiting to be posted.
pub struct JiraQueue {
    notifier: Arc<dyn IssueNotifier>,
    state: Mutex<QueueState>,
    wake: Notify,
    metrics: Arc<Metrics>,
}

impl JiraQueue {
    /// An empty queue posting through `notifier`.
    pub fn new(notifier: Arc<dyn IssueNotifier>, metrics: Arc<Metrics>) -> Self {
        Self {
            notifier,
            state: Mutex::default(),
            wake: Notify::new(),
            metrics,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `note` for `issue` unless it is queued, posted or settled already.
    pub fn enqueue(&self, issue: IssueKey, note: Note) {
        let key = (issue.clone(), note.marker());
        let mut state = self.lock();
        if note.event == Event::Ready {
            // The issue hears `Ready` now: a later `Gone` has something to close.
            state
                .nothing_to_say
                .remove(&key_with(&issue, &note, Event::Gone));
        }
        let settled = state.posted.contains(&key)
            || state.given_up.contains(&key)
            || state.nothing_to_say.contains(&key);
        if settled || !state.queued.insert(key) {
            return;
        }
        state.jobs.push(Job {
            issue,
            note,
            failures: 0,
            not_before: Instant::now(),
        });
        self.metrics
            .lifecycle
            .jira_pending
            .set(state.jobs.len() as i64);
        drop(state);
        self.wake.notify_one();
    }

    /// Forgets every queued job (leadership lost: the next leader reads back and redoes them).
    pub fn clear(&self) {
        let mut state = self.lock();
        state.jobs.clear();
        state.queued.clear();
        state.epoch += 1;
        self.metrics.lifecycle.jira_pending.set(0);
    }

    /// Jobs waiting.
    pub fn pending(&self) -> usize {
        self.lock().jobs.len()
    }

    /// The first job due now, with the epoch it belongs to; or when the next one is due.
    fn next_job(&self, now: Instant) -> Result<(Job, u64), Option<Instant>> {
        let state = self.lock();
        if let Some(until) = state.hold_until.filter(|until| *until > now) {
            return Err(Some(until));
        }
        let waits_for_ready = |job: &Job| {
            job.note.event == Event::Gone
                && state
                    .queued
                    .contains(&key_with(&job.issue, &job.note, Event::Ready))
        };
        let eligible = || state.jobs.iter().filter(|job| !waits_for_ready(job));
        match eligible().find(|job| job.not_before <= now) {
            Some(job) => Ok((job.clone(), state.epoch)),
            None => Err(eligible().map(|job| job.not_before).min()),
        }
    }

    fn count(&self, action: &'static str, outcome: &'static str) {
        self.metrics
            .lifecycle
            .actions
            .get_or_create(&ActionLabels {
                target: "jira",
                action,
                outcome,
            })
            .inc();
    }

    async fn has_comment(&self, issue: &IssueKey, note: &Note) -> Result<bool, JiraError> {
        let result = self.notifier.has_comment(issue, note).await;
        let outcome = result.as_ref().map_or_else(JiraError::kind, |_| "ok");
        self.count("jira_read_back", outcome);
        result
    }

    async fn process(
        &self,
        job: &Job,
        leading: &watch::Receiver<bool>,
    ) -> Result<Outcome, JiraError> {
        if job.note.event == Event::Gone {
            let ready = Note {
                event: Event::Ready,
                ..job.note.clone()
            };
            let known = self
                .lock()
                .posted
                .contains(&(job.issue.clone(), ready.marker()));
            if !known && !self.has_comment(&job.issue, &ready).await? {
                return Ok(Outcome::NothingToSay);
            }
        }
        if self.has_comment(&job.issue, &job.note).await? {
            return Ok(Outcome::AlreadyThere);
        }
        if !*leading.borrow() {
            return Ok(Outcome::NotLeading);
        }
        let result = self.notifier.comment(&job.issue, &job.note).await;
        let outcome = result.as_ref().map_or_else(JiraError::kind, |()| "ok");
        self.count("jira_comment", outcome);
        result.map(|()| Outcome::Posted)
    }

    /// Settles `job` (unless the queue was cleared since it started).
    fn settle(&self, job: &Job, epoch: u64, outcome: Result<&Outcome, &JiraError>) {
        let key = job.key();
        let mut state = self.lock();
        if state.epoch != epoch {
            return;
        }
        match outcome {
            Ok(Outcome::NotLeading) => return,
            Ok(Outcome::Posted | Outcome::AlreadyThere) => {
                state.posted.insert(key.clone());
            }
            Ok(Outcome::NothingToSay) => {
                state.nothing_to_say.insert(key.clone());
            }
            Err(JiraError::Rejected(_)) => {
                state.given_up.insert(key.clone());
            }
            Err(error) => {
                let now = Instant::now();
                if let JiraError::RateLimited { retry_after } = error {
                    let wait = retry_after.unwrap_or(BACKOFF.first);
                    state.hold_until =
                        Some(now + BACKOFF.honoured(wait).max(Duration::from_secs(1)));
                }
                if let Some(queued) = state.jobs.iter_mut().find(|j| j.key() == key) {
                    queued.failures = queued.failures.saturating_add(1);
                    queued.not_before = now + BACKOFF.delay(queued.failures, None);
                }
                return;
            }
        }
        state.jobs.retain(|j| j.key() != key);
        state.queued.remove(&key);
        self.metrics
            .lifecycle
            .jira_pending
            .set(state.jobs.len() as i64);
    }

    /// Drains the queue while this replica leads, until `cancel` fires.
    pub async fn run(&self, mut leading: watch::Receiver<bool>, cancel: CancellationToken) {
        loop {
            let next = if *leading.borrow() {
                self.next_job(Instant::now())
            } else {
                Err(None)
            };
            let (job, epoch) = match next {
                Ok(found) => found,
                Err(due) => {
                    let sleep = async {
                        match due {
                            Some(at) => tokio::time::sleep_until(at).await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        () = self.wake.notified() => {}
                        _ = leading.changed() => {}
                        () = sleep => {}
                    }
                    continue;
                }
            };
            let result = self.process(&job, &leading).await;
            match &result {
                Ok(outcome) => info!(issue = %job.issue, repo = %job.note.repo,
                    pr = job.note.number, event = ?job.note.event, outcome = ?outcome,
                    "Jira comment"),
                Err(error @ JiraError::Rejected(_)) => warn!(issue = %job.issue,
                    repo = %job.note.repo, pr = job.note.number, error = %error,
                    "Jira refused the comment; giving up on this issue"),
                Err(error) => warn!(issue = %job.issue, error = %error,
                    failures = job.failures + 1, "Jira comment failed; will retry"),
            }
            self.settle(&job, epoch, result.as_ref());
            if cancel.is_cancelled() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
