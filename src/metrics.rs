//! Prometheus metrics: one struct per component ([`PluginMetrics`], [`SyncMetrics`], ...),
//! gathered in [`Metrics`] and registered in one [`Registry`]. GitHub's rate-limit gauges are
//! the GitHub client's own record ([`crate::github::rate::RateLimits::register`]).
//!
//! Labels are bounded: modes, outcomes, operations, services and repos of the fleet. Never a PR
//! number, a SHA or anything a PR author writes.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

mod background;
mod labels;

pub use background::{
    CostMetrics, FreshnessMetrics, LifecycleMetrics, WatchMetrics, WebhookMetrics,
};

pub use labels::{
    ActionLabels, CallLabels, HoursLabels, ListenerLabel, OutcomeLabels, PluginLabels, RepoLabel,
    RepoLabels, ServiceLabel, WebhookLabels,
};

/// A counter of hours, fractional.
pub type HoursCounter = Counter<f64, AtomicU64>;

/// Builds the request-duration histograms.
#[derive(Clone, Copy, Debug)]
pub struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        // 10 µs to ~10 s.
        Histogram::new(exponential_buckets(0.000_01, 4.0, 11))
    }
}

/// Every metric of the service, one struct per component.
#[derive(Debug)]
pub struct Metrics {
    /// The plugin endpoint (`crate::http::plugin`).
    pub plugin: PluginMetrics,
    /// The sync and the snapshots it publishes (`crate::sync`).
    pub sync: SyncMetrics,
    /// The listeners' connections (`crate::http::server`).
    pub http: HttpMetrics,
    /// The lifecycle's shell and the Applications watch (`crate::reconcile`, `crate::argocd::watch`).
    pub lifecycle: LifecycleMetrics,
    /// The Argo CD Applications watch.
    pub watch: WatchMetrics,
    /// Webhook-woken refreshes and ApplicationSet patches (`crate::freshness`).
    pub freshness: FreshnessMetrics,
    /// The webhook receiver (`crate::http::webhook`).
    pub webhook: WebhookMetrics,
    /// The cost meter (`crate::cost::meter`).
    pub cost: CostMetrics,
}

/// The plugin endpoint (`crate::http::plugin`).
#[derive(Debug)]
pub struct PluginMetrics {
    /// Plugin requests by mode and status.
    pub requests: Family<PluginLabels, Counter>,
    /// Time to answer a plugin request, seconds.
    pub duration: Family<PluginLabels, Histogram, LatencyBuckets>,
}

impl PluginMetrics {
    fn new() -> Self {
        Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(LatencyBuckets),
        }
    }

    fn register(&self, r: &mut Registry) {
        r.register(
            "plugin_requests",
            "Plugin generator requests, by mode and HTTP status",
            self.requests.clone(),
        );
        r.register(
            "plugin_request_duration_seconds",
            "Time to answer a plugin generator request",
            self.duration.clone(),
        );
    }
}

/// The sync and the snapshots it publishes (`crate::sync`).
#[derive(Debug)]
pub struct SyncMetrics {
    /// Repo refreshes by outcome.
    pub refreshes: Family<RepoLabels, Counter>,
    /// Unix time of each repo's last successful refresh.
    pub last_success: Family<RepoLabel, Gauge>,
    /// Consecutive failed refreshes of each repo (0 when healthy).
    pub consecutive_failures: Family<RepoLabel, Gauge>,
    /// Calls to the code host by operation and outcome (cache hits included).
    pub github_calls: Family<CallLabels, Counter>,
    /// Previews in the current snapshot, per service.
    pub previews: Family<ServiceLabel, Gauge>,
    /// PRs that may hold a preview and are held (their service answers 503), per service.
    pub held_previews: Family<ServiceLabel, Gauge>,
    /// Unix time since when each service has had held PRs; 0 while it has none.
    pub held_since: Family<ServiceLabel, Gauge>,
    /// Generation of the current snapshot.
    pub snapshot_generation: Gauge,
}

impl SyncMetrics {
    fn new() -> Self {
        Self {
            refreshes: Family::default(),
            last_success: Family::default(),
            consecutive_failures: Family::default(),
            github_calls: Family::default(),
            previews: Family::default(),
            held_previews: Family::default(),
            held_since: Family::default(),
            snapshot_generation: Gauge::default(),
        }
    }

    fn register(&self, r: &mut Registry) {
        r.register(
            "sync_refreshes",
            "Refreshes of a repo's pull requests, by outcome (ok or the error kind)",
            self.refreshes.clone(),
        );
        r.register(
            "sync_last_success_timestamp_seconds",
            "Unix time of the last successful refresh of a repo",
            self.last_success.clone(),
        );
        r.register(
            "sync_consecutive_failures",
            "Failed refreshes of a repo since its last success; its last good state is served meanwhile",
            self.consecutive_failures.clone(),
        );
        r.register(
            "github_calls",
            "Reads from the code host by operation and outcome, cache hits included",
            self.github_calls.clone(),
        );
        r.register(
            "previews",
            "Previews in the current snapshot, per service",
            self.previews.clone(),
        );
        r.register(
            "held_previews",
            "PRs that may hold a preview whose facts cannot be read yet, per service: the service answers 503 (Argo CD keeps its previews as they are) while this is above 0",
            self.held_previews.clone(),
        );
        r.register(
            "held_since_timestamp_seconds",
            "Unix time since when the service has had held previews; 0 while it has none",
            self.held_since.clone(),
        );
        r.register(
            "snapshot_generation",
            "Generation of the snapshot the plugin answers from",
            self.snapshot_generation.clone(),
        );
    }
}

/// The listeners' connections (`crate::http::server`).
#[derive(Debug)]
pub struct HttpMetrics {
    /// Connections open now, per listener.
    pub connections: Family<ListenerLabel, Gauge>,
    /// Connections refused because the listener had as many open as it allows.
    pub connections_refused: Family<ListenerLabel, Counter>,
}

impl HttpMetrics {
    fn new() -> Self {
        Self {
            connections: Family::default(),
            connections_refused: Family::default(),
        }
    }

    fn register(&self, r: &mut Registry) {
        r.register(
            "http_connections",
            "Connections open now, per listener (plugin, webhook, admin)",
            self.connections.clone(),
        );
        r.register(
            "http_connections_refused",
            "Connections refused at once because the listener had as many open as it allows",
            self.connections_refused.clone(),
        );
    }
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> Self {
        let metrics = Self {
            plugin: PluginMetrics::new(),
            sync: SyncMetrics::new(),
            http: HttpMetrics::new(),
            lifecycle: LifecycleMetrics::new(),
            watch: WatchMetrics::new(),
            freshness: FreshnessMetrics::new(),
            webhook: WebhookMetrics::new(),
            cost: CostMetrics::new(),
        };
        let r = registry.sub_registry_with_prefix("preview_tower");
        metrics.plugin.register(r);
        metrics.sync.register(r);
        metrics.http.register(r);
        metrics.lifecycle.register(r);
        metrics.watch.register(r);
        metrics.freshness.register(r);
        metrics.webhook.register(r);
        metrics.cost.register(r);
        metrics
    }

    /// A registry and metrics for tests and one-shot commands.
    pub fn unregistered() -> Self {
        Self::new(&mut Registry::default())
    }
}
