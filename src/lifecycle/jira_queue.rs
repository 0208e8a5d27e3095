//! The queue of Jira comments: filled by the lifecycle worker, drained by its own task so that
//! a slow or absent Jira never delays GitHub updates or the plugin.
//!
//! Jobs run in order (a PR's `Ready` before its `Gone`), one at a time. Before posting, each job
//! reads back whether the issue already carries the comment (found by its marker), so a restart
//! or a second replica never posts twice; a `Gone` is posted only where a `Ready` was. Failures
//! wait and retry (`429 Retry-After` honoured); an issue Jira refuses (unknown key, no
//! permission) is given up with a warning, never retried forever.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::jira::{Event, IssueKey, IssueNotifier, JiraError, Note};
use crate::metrics::{ActionLabels, Metrics};

/// First wait after a failure; doubles per consecutive failure.
const BACKOFF_START: Duration = Duration::from_secs(2);
/// Longest wait after failures (unless Jira asks for longer).
const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// Longest `Retry-After` honoured.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug)]
struct Job {
    issue: IssueKey,
    note: Note,
}

type JobKey = (IssueKey, String);

#[derive(Debug, Default)]
struct QueueState {
    jobs: VecDeque<Job>,
    queued: HashSet<JobKey>,
    /// Comments known to be on their issue (posted or found), or given up.
    done: HashSet<JobKey>,
}

/// Jira comments waiting to be posted.
pub struct JiraQueue {
    notifier: Arc<dyn IssueNotifier>,
    state: Mutex<QueueState>,
    wake: Notify,
    metrics: Arc<Metrics>,
}

/// What became of a job.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Posted,
    AlreadyThere,
    /// A `Gone` for an issue that never heard `Ready`.
    NothingToSay,
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

    /// Queues `note` for `issue` unless it is queued or known done already.
    pub fn enqueue(&self, issue: IssueKey, note: Note) {
        let key = (issue.clone(), note.marker());
        let mut state = self.lock();
        if state.done.contains(&key) || !state.queued.insert(key) {
            return;
        }
        state.jobs.push_back(Job { issue, note });
        self.metrics
            .lifecycle_jira_pending
            .set(state.jobs.len() as i64);
        drop(state);
        self.wake.notify_one();
    }

    /// Forgets every queued job (leadership lost: the next leader reads back and redoes them).
    pub fn clear(&self) {
        let mut state = self.lock();
        state.jobs.clear();
        state.queued.clear();
        self.metrics.lifecycle_jira_pending.set(0);
    }

    /// Jobs waiting.
    pub fn pending(&self) -> usize {
        self.lock().jobs.len()
    }

    fn count(&self, action: &'static str, outcome: &'static str) {
        self.metrics
            .lifecycle_actions
            .get_or_create(&ActionLabels {
                target: "jira",
                action,
                outcome,
            })
            .inc();
    }

    async fn has_comment(&self, issue: &IssueKey, note: &Note) -> Result<bool, JiraError> {
        let result = self.notifier.has_comment(issue, note).await;
        self.count(
            "jira_read_back",
            result.as_ref().map_or_else(JiraError::kind, |_| "ok"),
        );
        result
    }

    async fn process(&self, job: &Job) -> Result<Outcome, JiraError> {
        if job.note.event == Event::Gone {
            let ready = Note {
                event: Event::Ready,
                ..job.note.clone()
            };
            let known = self
                .lock()
                .done
                .contains(&(job.issue.clone(), ready.marker()));
            if !known && !self.has_comment(&job.issue, &ready).await? {
                return Ok(Outcome::NothingToSay);
            }
        }
        if self.has_comment(&job.issue, &job.note).await? {
            return Ok(Outcome::AlreadyThere);
        }
        let result = self.notifier.comment(&job.issue, &job.note).await;
        self.count(
            "jira_comment",
            result.as_ref().map_or_else(JiraError::kind, |()| "ok"),
        );
        result.map(|()| Outcome::Posted)
    }

    fn finish(&self, job: &Job) {
        let key = (job.issue.clone(), job.note.marker());
        let mut state = self.lock();
        state.jobs.pop_front();
        state.queued.remove(&key);
        state.done.insert(key);
        self.metrics
            .lifecycle_jira_pending
            .set(state.jobs.len() as i64);
    }

    /// Drains the queue while this replica leads, until `cancel` fires.
    pub async fn run(&self, mut leading: watch::Receiver<bool>, cancel: CancellationToken) {
        let mut failures: u32 = 0;
        loop {
            let job = self.lock().jobs.front().cloned();
            let Some(job) = job.filter(|_| *leading.borrow()) else {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = self.wake.notified() => {}
                    _ = leading.changed() => {}
                }
                continue;
            };
            let wait = match self.process(&job).await {
                Ok(outcome) => {
                    info!(issue = %job.issue, repo = %job.note.repo, pr = job.note.number,
                        event = ?job.note.event, outcome = ?outcome, "Jira comment");
                    failures = 0;
                    self.finish(&job);
                    continue;
                }
                Err(error @ JiraError::Rejected(_)) => {
                    warn!(issue = %job.issue, repo = %job.note.repo, pr = job.note.number,
                        error = %error, "Jira refused the comment; giving up on this issue");
                    self.finish(&job);
                    continue;
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let wait = retry_wait(&error, failures);
                    warn!(issue = %job.issue, error = %error, retry_in = ?wait,
                        "Jira comment failed; will retry");
                    wait
                }
            };
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

fn retry_wait(error: &JiraError, failures: u32) -> Duration {
    let backoff = BACKOFF_START
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)))
        .min(BACKOFF_MAX);
    match error {
        JiraError::RateLimited {
            retry_after: Some(wait),
        } => (*wait).min(RETRY_AFTER_MAX),
        _ => backoff,
    }
}
