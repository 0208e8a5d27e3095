//! Starting the lifecycle: the election, the Jira queue and the worker, as tasks that stop
//! together. The Applications watch that feeds them is the caller's (`serve` shares it with
//! the sync, which reads from it which previews exist).

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::jira_queue::JiraQueue;
use super::{Settings, Worker};
use crate::argocd::ApplicationIndex;
use crate::cost::meter::SharedMeter;
use crate::fleet::Fleet;
use crate::github::PreviewReporter;
use crate::jira::IssueNotifier;
use crate::leader::LeaseConfig;
use crate::metrics::Metrics;
use crate::snapshot::SnapshotStore;

/// Everything the lifecycle talks to.
pub struct Parts {
    /// The Kubernetes API (in-cluster, or a kubeconfig), for the Lease.
    pub kube: kube::Client,
    /// The Lease to lead with; `None` to act without election (one replica only).
    pub lease: Option<LeaseConfig>,
    /// Where deployments and comments go.
    pub github: Arc<dyn PreviewReporter>,
    /// Where Jira notes go, when Jira is configured.
    pub jira: Option<Arc<dyn IssueNotifier>>,
    /// How the worker behaves.
    pub settings: Settings,
    /// What each preview has cost so far: the sticky comment's cost lines.
    pub meter: SharedMeter,
}

/// Starts the lifecycle's tasks, deciding from the Applications in `index` (fed by
/// [`crate::argocd::watch::run`]); the handle ends when all of them have stopped (after
/// `cancel`), or as soon as one of them ends on its own or panics. The lease is given up only
/// after the worker and the Jira queue have stopped, so that no write of this replica can
/// overlap with the next leader's.
pub fn start(
    parts: Parts,
    fleet: Arc<Fleet>,
    store: Arc<SnapshotStore>,
    metrics: Arc<Metrics>,
    index: Arc<ApplicationIndex>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    let (leading_tx, leading) = watch::channel(parts.lease.is_none());
    let lease_cancel = CancellationToken::new();
    let mut election = tokio::spawn(elect(
        parts.kube.clone(),
        parts.lease,
        leading_tx,
        lease_cancel.clone(),
    ));
    let mut tasks = tokio::task::JoinSet::new();
    let queue = parts
        .jira
        .map(|notifier| Arc::new(JiraQueue::new(notifier, Arc::clone(&metrics))));
    if let Some(queue) = &queue {
        let queue = Arc::clone(queue);
        let (leading, cancel) = (leading.clone(), cancel.clone());
        tasks.spawn(async move { queue.run(leading, cancel).await });
    }
    let pacer = super::Pacer::new(parts.settings.write_interval);
    let worker = Worker {
        fleet,
        store,
        index,
        github: parts.github,
        jira: queue,
        metrics,
        settings: parts.settings,
        meter: parts.meter,
        pacer,
        leading,
    };
    let worker_cancel = cancel.clone();
    tasks.spawn(async move { worker.run(worker_cancel).await });
    tokio::spawn(async move {
        let mut election_done = false;
        let ended_alone = tokio::select! {
            () = cancel.cancelled() => None,
            first = tasks.join_next() => Some(matches!(first, Some(Err(_)))),
            ended = &mut election => {
                // Without the election nobody may write: stop the worker too.
                election_done = true;
                Some(ended.is_err())
            }
        };
        if let Some(panicked) = ended_alone {
            tracing::error!(
                panicked,
                "a lifecycle task stopped on its own; stopping the lifecycle"
            );
        }
        cancel.cancel();
        while tasks.join_next().await.is_some() {}
        lease_cancel.cancel();
        if !election_done {
            let _ = election.await;
        }
    })
}

/// Runs the election, or (without a lease) leads until cancelled.
async fn elect(
    kube: kube::Client,
    lease: Option<LeaseConfig>,
    leading: watch::Sender<bool>,
    cancel: CancellationToken,
) {
    match lease {
        Some(lease) => crate::leader::run(kube, lease, leading, cancel).await,
        // Keep the sender alive: receivers treat a closed channel as the end.
        None => cancel.cancelled().await,
    }
}
