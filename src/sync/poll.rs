//! Polling: one refresh loop per repo, backing off after failures (honouring GitHub's
//! `Retry-After`) and waiting for the rate limit's reset when its budget runs low; the first
//! refreshes wait a little for Argo CD's Applications.

use std::sync::Arc;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{BACKOFF, FIRST_LIST_WAIT, RATE_RESERVE, Syncer};
use crate::naming::RepoName;

impl Syncer {
    /// Runs one refresh loop per repo until `cancel` fires, each polling every
    /// `refresh_interval` (or the [`Syncer::with_interval`] override) after a success.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        // A first plan made without the Applications is conservative in a way that costs:
        // queued PRs get previews, and a gated PR's search cannot include the commit its
        // Application runs. They come within seconds when the Kubernetes API is there.
        if let Some(index) = &self.applications {
            tokio::select! {
                () = cancel.cancelled() => return,
                listed = tokio::time::timeout(FIRST_LIST_WAIT, index.listed()) => {
                    if listed.is_err() {
                        warn!(wait_s = FIRST_LIST_WAIT.as_secs(),
                            "Argo CD's Applications are not listed yet; syncing without them (conservative) until they are");
                    }
                }
            }
        }
        let repos: Vec<RepoName> = self.fleet.repos().into_iter().cloned().collect();
        let loops = repos.into_iter().map(|repo| {
            let syncer = Arc::clone(&self);
            let cancel = cancel.clone();
            async move { syncer.repo_loop(repo, cancel).await }
        });
        futures::future::join_all(loops).await;
    }

    /// Whether every repo's first refresh has been tried: the service is then ready, answering
    /// each service from its own state (503 for a service not listed yet).
    pub fn first_round_done(&self) -> bool {
        self.first_round.load(std::sync::atomic::Ordering::Acquire) >= self.repo_locks.len()
    }

    async fn repo_loop(&self, repo: RepoName, cancel: CancellationToken) {
        let mut failures: u32 = 0;
        let mut first = true;
        loop {
            // A shutdown does not wait for a refresh (a cold one reads for minutes): what it
            // read stays cached, nothing half-read is committed.
            let result = tokio::select! {
                () = cancel.cancelled() => return,
                result = self.refresh(&repo) => result,
            };
            if std::mem::take(&mut first) {
                self.first_round
                    .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            }
            let delay = match result {
                Ok(()) => {
                    if failures > 0 {
                        info!(repo = %repo, failures, "refresh recovered");
                    }
                    failures = 0;
                    self.interval
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let delay = BACKOFF.delay(failures, error.retry_after());
                    warn!(repo = %repo, error = %error, kind = error.kind(), failures,
                        retry_in_s = delay.as_secs(), "refresh failed; serving the last good state");
                    delay
                }
            };
            // Polling is the safety net: when GitHub's budget runs low, it waits for the reset
            // and leaves what remains to webhooks-driven refreshes and the lifecycle's writes.
            let delay = match self.rate.hold_off(RATE_RESERVE, Utc::now().timestamp()) {
                Some(until_reset) if until_reset > delay => {
                    warn!(repo = %repo, wait_s = until_reset.as_secs(),
                        "GitHub's rate limit is nearly spent; polling waits for the reset");
                    BACKOFF.honoured(until_reset)
                }
                _ => delay,
            };
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
        }
    }
}
