//! The reaction time: from a signed `pull_request` webhook sent to the real `preview-tower
//! serve` binary (its own process, same profile) to the ApplicationSet refresh patch arriving
//! at the fake Kubernetes API server.
//!
//! The service polls GitHub once an hour (`refresh_interval_with_webhooks: 1h`), so only the
//! webhook can cause a refresh; it reaches the fake Kubernetes API through a kubeconfig
//! (`KUBECONFIG`), as it would reach a cluster. Each delivery pushes a new head SHA to one PR of
//! the fake GitHub, then posts the signed `synchronize` delivery and waits for the patch. The
//! time is taken in this process from just before the POST is sent to the patch's arrival as the
//! fake recorded it (`PatchRecord::arrived`, same clock), so how often this side looks does not
//! matter. Deliveries go one at a time, round-robin over the repos and PRs.
//!
//! A second, shorter pass polls the plugin answer of the pushed PR every millisecond (an upper
//! bound, and load on the service) to see when the new parameters are served; the main pass
//! checks them once, after the patch.

#[path = "reaction/world.rs"]
mod world;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::runtime::Handle;

use crate::support::fake_github::Endpoint;
use world::World;

const SECRET: &str = "whsec-bench-reaction";
/// Longest wait for one patch before the bench gives up (a stuck service, not a slow one).
const PATCH_DEADLINE: Duration = Duration::from_secs(30);
/// Longest wait for the first sync of every repo.
const READY_DEADLINE: Duration = Duration::from_secs(300);

/// What to run.
#[derive(Clone)]
pub struct Plan {
    /// Services (one repo each).
    pub services: usize,
    /// Open PRs per repo.
    pub pulls: u64,
    /// Deliveries timed in the main pass.
    pub deliveries: usize,
    /// Deliveries of the pass that also polls the plugin answer.
    pub watched_deliveries: usize,
    /// Deliveries sent first and not counted.
    pub warmup: usize,
    /// Pause between one delivery's patch and the next delivery.
    pub gap: Duration,
    /// Where the service's log goes.
    pub log: PathBuf,
}

/// Percentiles of one measured interval.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let at = |p: f64| {
            if samples.is_empty() {
                return Duration::ZERO;
            }
            let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
            samples[index.min(samples.len() - 1)]
        };
        Self {
            count: samples.len(),
            p50: at(0.50),
            p99: at(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

/// What was measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Previews served (services × PRs).
    pub previews: usize,
    /// POST sent → the webhook's answer read (main pass).
    pub answered: Stats,
    /// POST sent → the refresh patch arrived at the fake Kubernetes API (main pass): the result.
    pub patched: Stats,
    /// Second pass: POST sent → the first plugin answer carrying the new head SHA.
    pub watched_params: Stats,
    /// Second pass: POST sent → the patch, with the plugin polled meanwhile.
    pub watched_patched: Stats,
    /// The service's own poke → patch answered (`preview_tower_freshness_poke_to_patch`), mean
    /// over every delivery, warm-up included.
    pub service_poke_to_patch_mean: Duration,
    /// The fake GitHub answering one repo's pull-request page (changed, so a full 200 with its
    /// schema check), asked from this process: the fake's share of each refresh.
    pub fake_list_page: Stats,
    /// Refresh patches received in all, and how many were not answered 200.
    pub patches: usize,
    /// Patches answered other than 200.
    pub patch_failures: usize,
    /// Pull-request list requests the service made during the timed deliveries, per delivery
    /// (1 means each delivery refreshed its repo only, and no poll ran).
    pub lists_per_delivery: f64,
    /// Log lines of the service that say a refresh failed.
    pub refresh_failures: usize,
}

/// Starts the fakes (on `fakes`: the fake GitHub checks each body against the schemas under its
/// lock, which would stall a driver sharing its runtime), the service, runs both passes.
pub async fn run(binary: &Path, plan: &Plan, fakes: &Handle) -> Report {
    let mut world = World::start(binary, plan, fakes).await;
    for _ in 0..plan.warmup {
        world.deliver(plan, false).await;
    }
    let lists_before = world.github.count(Endpoint::Pulls);
    let patches_before = world.kube.applicationset_patches().len();
    let mut answered = Vec::with_capacity(plan.deliveries);
    let mut patched = Vec::with_capacity(plan.deliveries);
    for _ in 0..plan.deliveries {
        let timed = world.deliver(plan, false).await;
        answered.push(timed.answered);
        patched.push(timed.patched);
    }
    let lists = world.github.count(Endpoint::Pulls) - lists_before;
    let timed_patches = world.kube.applicationset_patches().len() - patches_before;
    assert_eq!(
        timed_patches,
        plan.deliveries,
        "one refresh patch per delivery; see {}",
        plan.log.display()
    );
    let mut watched_params = Vec::new();
    let mut watched_patched = Vec::new();
    for _ in 0..plan.watched_deliveries {
        let timed = world.deliver(plan, true).await;
        watched_params.extend(timed.params);
        watched_patched.push(timed.patched);
    }
    let all_patches = world.kube.applicationset_patches();
    let report = Report {
        previews: plan.services * plan.pulls as usize,
        answered: Stats::of(answered),
        patched: Stats::of(patched),
        watched_params: Stats::of(watched_params),
        watched_patched: Stats::of(watched_patched),
        service_poke_to_patch_mean: world.poke_to_patch_mean().await,
        fake_list_page: world.fake_list_page(plan).await,
        patches: all_patches.len(),
        patch_failures: all_patches.iter().filter(|p| p.status != 200).count(),
        lists_per_delivery: lists as f64 / plan.deliveries.max(1) as f64,
        refresh_failures: 0,
    };
    drop(world);
    Report {
        refresh_failures: std::fs::read_to_string(&plan.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("refresh") && line.contains("failed"))
            .count(),
        ..report
    }
}

/// One delivery's times, from just before the POST was sent.
struct Timed {
    answered: Duration,
    patched: Duration,
    params: Option<Duration>,
}
