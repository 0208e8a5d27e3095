//! Telling Argo CD, level-triggered: each ApplicationSet remembers the snapshot it was last
//! refreshed for, and is patched again only when the answer of one of its services differs
//! from that snapshot's. So a change is told once whichever repo's round sees it first (a
//! round of another repo running at the same time tells nothing new), a failed patch is
//! tried again at the next round, and a change the poll loop found is told at the next poke.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::argocd::refresh::{ApplicationSetRefresher, RefreshError};
use crate::fleet::Fleet;
use crate::metrics::{Metrics, OutcomeLabels};
use crate::naming::RepoName;
use crate::naming::ServiceName;
use crate::snapshot::Snapshot;

/// Patches the ApplicationSets whose services' answers changed since they were last told.
pub(super) struct Teller {
    refresher: ApplicationSetRefresher,
    targets: Vec<Target>,
    metrics: Arc<Metrics>,
}

/// One ApplicationSet and what it was last told.
struct Target {
    name: String,
    /// The services it serves, in fleet order.
    services: Vec<ServiceName>,
    /// The snapshot it was last refreshed for (at first, the one at start-up). Moves only
    /// forward, by generation.
    told: Mutex<Arc<Snapshot>>,
}

impl Target {
    fn told(&self) -> Arc<Snapshot> {
        Arc::clone(&self.told.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn advance(&self, to: &Arc<Snapshot>) {
        let mut told = self.told.lock().unwrap_or_else(PoisonError::into_inner);
        if to.generation() > told.generation() {
            *told = Arc::clone(to);
        }
    }
}

impl Teller {
    /// A teller for every ApplicationSet of `fleet`, each considered told about `start`.
    pub(super) fn new(
        refresher: ApplicationSetRefresher,
        fleet: &Fleet,
        start: &Arc<Snapshot>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let targets = targets(fleet)
            .into_iter()
            .map(|(name, services)| Target {
                name,
                services,
                told: Mutex::new(Arc::clone(start)),
            })
            .collect();
        Self {
            refresher,
            targets,
            metrics,
        }
    }

    /// Patches every ApplicationSet one of whose services answers differently in `current`
    /// than in the snapshot it was last told about. `repo` and `since` (the first poke of the
    /// round's batch) are for the logs and the poke-to-patch histogram.
    pub(super) async fn tell(&self, current: &Arc<Snapshot>, repo: &RepoName, since: Instant) {
        let mut measured = false;
        for target in &self.targets {
            let told = target.told();
            let changed: Vec<&ServiceName> = target
                .services
                .iter()
                .filter(|s| current.service_changed(&told, s))
                .collect();
            if changed.is_empty() {
                debug!(repo = %repo, applicationset = target.name, "no change to tell");
                continue;
            }
            let result = self.refresher.refresh(&target.name).await;
            let outcome = result.as_ref().map_or_else(RefreshError::kind, |()| "ok");
            self.metrics
                .freshness
                .patches
                .get_or_create(&OutcomeLabels { outcome })
                .inc();
            match result {
                Ok(()) => {
                    target.advance(current);
                    if !std::mem::replace(&mut measured, true) {
                        let latency = since.elapsed().as_secs_f64();
                        self.metrics.freshness.poke_to_patch.observe(latency);
                    }
                    info!(repo = %repo, applicationset = target.name, ?changed,
                        "ApplicationSet refresh requested");
                }
                Err(error) => {
                    // A missing ApplicationSet has nothing to catch up on: once created, it
                    // generates from the answers of that time.
                    if matches!(error, RefreshError::NotFound { .. }) {
                        target.advance(current);
                    }
                    warn!(repo = %repo, applicationset = target.name, error = %error,
                        kind = error.kind(),
                        "cannot refresh the ApplicationSet; Argo CD regenerates at its own pace");
                }
            }
        }
    }
}

/// Every ApplicationSet named in `fleet` with the services it serves, both in fleet order.
pub(super) fn targets(fleet: &Fleet) -> Vec<(String, Vec<ServiceName>)> {
    let mut targets: Vec<(String, Vec<ServiceName>)> = Vec::new();
    for service in &fleet.services {
        for name in &service.applicationsets {
            match targets.iter_mut().find(|(n, _)| n == name) {
                Some((_, services)) => services.push(service.name.clone()),
                None => targets.push((name.clone(), vec![service.name.clone()])),
            }
        }
    }
    targets
}
