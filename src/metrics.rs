//! Prometheus metrics: one struct per component, registered in one [`Registry`].
//!
//! Labels are bounded: modes, outcomes, operations, services and repos of the fleet. Never a PR
//! number, a SHA or anything a PR author writes.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a plugin request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabels {
    /// `all`, `service`, `matrix` or `invalid`.
    pub mode: &'static str,
    /// HTTP status code.
    pub status: u16,
}

/// Labels of a sync outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RepoLabels {
    /// `owner/name`.
    pub repo: String,
    /// `ok` or an error kind.
    pub outcome: &'static str,
}

/// Labels of a call to the code host.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// `list_pulls`, `file` or `object_sha`.
    pub operation: &'static str,
    /// `ok`, `cache_hit` or an error kind.
    pub outcome: &'static str,
}

/// Labels of a lifecycle write.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    /// `github` or `jira`.
    pub target: &'static str,
    /// `create_deployment`, `set_status`, `create_comment`, `update_comment`, `read_back`,
    /// `jira_comment` or `jira_read_back`.
    pub action: &'static str,
    /// `ok` or an error kind.
    pub outcome: &'static str,
}

/// Labels of an outcome alone.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `ok` or an error kind.
    pub outcome: &'static str,
}

/// Labels of a webhook delivery.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    /// The `X-GitHub-Event` from a fixed list (see [`crate::github::webhook::event_label`]),
    /// else `other`.
    pub event: &'static str,
    /// `accepted`, `ignored`, `duplicate`, `unauthorized`, `invalid` or `pong`.
    pub outcome: &'static str,
}

/// Labels naming one repo.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RepoLabel {
    /// `owner/name`.
    pub repo: String,
}

/// Labels naming one service.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabel {
    /// The fleet service.
    pub service: String,
}

/// Labels of a listener's connection metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabel {
    /// `plugin`, `webhook` or `admin`.
    pub listener: &'static str,
}

/// Labels of preview-hours.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HoursLabels {
    /// The fleet service.
    pub service: String,
    /// `awake_spot`, `awake_on_demand` or `asleep` (see [`crate::cost::HourState`]).
    pub state: &'static str,
}

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

/// Every metric of the service.
#[derive(Debug)]
pub struct Metrics {
    /// Plugin requests by mode and status.
    pub plugin_requests: Family<PluginLabels, Counter>,
    /// Time to answer a plugin request, seconds.
    pub plugin_duration: Family<PluginLabels, Histogram, LatencyBuckets>,
    /// Repo refreshes by outcome.
    pub sync_refreshes: Family<RepoLabels, Counter>,
    /// Unix time of each repo's last successful refresh.
    pub sync_last_success: Family<RepoLabel, Gauge>,
    /// Consecutive failed refreshes of each repo (0 when healthy).
    pub sync_consecutive_failures: Family<RepoLabel, Gauge>,
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
    /// Lifecycle writes and read-backs by target, action and outcome.
    pub lifecycle_actions: Family<ActionLabels, Counter>,
    /// Errors of the Applications watch (each is retried).
    pub lifecycle_watch_errors: Counter,
    /// Completed (re)lists of the Applications watch.
    pub lifecycle_watch_relists: Counter,
    /// 1 while this replica leads (writes to GitHub and Jira), else 0.
    pub lifecycle_leader: Gauge,
    /// Jira notes waiting to be posted.
    pub lifecycle_jira_pending: Gauge,
    /// Pokes received (webhook deliveries that name a repo of the fleet).
    pub freshness_pokes: Counter,
    /// Refreshes woken by pokes, by outcome (`ok` or the sync error kind).
    pub freshness_refreshes: Family<OutcomeLabels, Counter>,
    /// ApplicationSet refresh patches, by outcome (`ok`, `not_found`, `forbidden`, ...).
    pub freshness_patches: Family<OutcomeLabels, Counter>,
    /// Seconds from the first poke of a batch to its first successful ApplicationSet patch.
    pub freshness_poke_to_patch: Histogram,
    /// GitHub webhook deliveries by event and outcome.
    pub webhook_deliveries: Family<WebhookLabels, Counter>,
    /// Connections open now, per listener.
    pub http_connections: Family<ListenerLabel, Gauge>,
    /// Connections refused because the listener had as many open as it allows.
    pub http_connections_refused: Family<ListenerLabel, Counter>,
    /// Preview-hours by service and state (see [`crate::cost::meter`]).
    pub preview_hours: Family<HoursLabels, HoursCounter>,
    /// Hours open labelled PRs went without a preview because they sat idle past their TTL.
    pub preview_hours_deleted_early: Family<ServiceLabel, HoursCounter>,
    /// Hours labelled PRs waited for a preview because the quota was full.
    pub preview_hours_queued: Family<ServiceLabel, HoursCounter>,
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> Self {
        let metrics = Self {
            plugin_requests: Family::default(),
            plugin_duration: Family::new_with_constructor(LatencyBuckets),
            sync_refreshes: Family::default(),
            sync_last_success: Family::default(),
            sync_consecutive_failures: Family::default(),
            github_calls: Family::default(),
            previews: Family::default(),
            held_previews: Family::default(),
            held_since: Family::default(),
            snapshot_generation: Gauge::default(),
            lifecycle_actions: Family::default(),
            lifecycle_watch_errors: Counter::default(),
            lifecycle_watch_relists: Counter::default(),
            lifecycle_leader: Gauge::default(),
            lifecycle_jira_pending: Gauge::default(),
            freshness_pokes: Counter::default(),
            freshness_refreshes: Family::default(),
            freshness_patches: Family::default(),
            // 1 ms to ~33 s.
            freshness_poke_to_patch: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            webhook_deliveries: Family::default(),
            http_connections: Family::default(),
            http_connections_refused: Family::default(),
            preview_hours: Family::default(),
            preview_hours_deleted_early: Family::default(),
            preview_hours_queued: Family::default(),
        };
        let r = registry.sub_registry_with_prefix("preview_tower");
        r.register(
            "plugin_requests",
            "Plugin generator requests, by mode and HTTP status",
            metrics.plugin_requests.clone(),
        );
        r.register(
            "plugin_request_duration_seconds",
            "Time to answer a plugin generator request",
            metrics.plugin_duration.clone(),
        );
        r.register(
            "sync_refreshes",
            "Refreshes of a repo's pull requests, by outcome (ok or the error kind)",
            metrics.sync_refreshes.clone(),
        );
        r.register(
            "sync_last_success_timestamp_seconds",
            "Unix time of the last successful refresh of a repo",
            metrics.sync_last_success.clone(),
        );
        r.register(
            "sync_consecutive_failures",
            "Failed refreshes of a repo since its last success; its last good state is served meanwhile",
            metrics.sync_consecutive_failures.clone(),
        );
        r.register(
            "github_calls",
            "Reads from the code host by operation and outcome, cache hits included",
            metrics.github_calls.clone(),
        );
        r.register(
            "previews",
            "Previews in the current snapshot, per service",
            metrics.previews.clone(),
        );
        r.register(
            "http_connections",
            "Connections open now, per listener (plugin, webhook, admin)",
            metrics.http_connections.clone(),
        );
        r.register(
            "http_connections_refused",
            "Connections refused at once because the listener had as many open as it allows",
            metrics.http_connections_refused.clone(),
        );
        r.register(
            "held_previews",
            "PRs that may hold a preview whose facts cannot be read yet, per service: the service answers 503 (Argo CD keeps its previews as they are) while this is above 0",
            metrics.held_previews.clone(),
        );
        r.register(
            "held_since_timestamp_seconds",
            "Unix time since when the service has had held previews; 0 while it has none",
            metrics.held_since.clone(),
        );
        r.register(
            "snapshot_generation",
            "Generation of the snapshot the plugin answers from",
            metrics.snapshot_generation.clone(),
        );
        r.register(
            "lifecycle_actions",
            "Writes to GitHub and Jira (and the reads that check them first), by target, action and outcome",
            metrics.lifecycle_actions.clone(),
        );
        r.register(
            "lifecycle_watch_errors",
            "Errors of the Argo CD Applications watch; each is retried with backoff",
            metrics.lifecycle_watch_errors.clone(),
        );
        r.register(
            "lifecycle_watch_relists",
            "Complete lists of the previews' Applications (start-up, expired watches)",
            metrics.lifecycle_watch_relists.clone(),
        );
        r.register(
            "lifecycle_leader",
            "1 while this replica holds the lease and writes to GitHub and Jira",
            metrics.lifecycle_leader.clone(),
        );
        r.register(
            "lifecycle_jira_pending",
            "Jira comments waiting to be posted (retried while Jira is down)",
            metrics.lifecycle_jira_pending.clone(),
        );
        register_freshness(r, &metrics);
        r.register(
            "webhook_deliveries",
            "GitHub webhook deliveries, by event and outcome (accepted, ignored, duplicate, unauthorized, invalid, pong)",
            metrics.webhook_deliveries.clone(),
        );
        register_cost(r, &metrics);
        metrics
    }

    /// A registry and metrics for tests and one-shot commands.
    pub fn unregistered() -> Self {
        Self::new(&mut Registry::default())
    }
}

fn register_freshness(r: &mut Registry, metrics: &Metrics) {
    r.register(
        "freshness_pokes",
        "Webhook pokes naming a repo of the fleet; a burst of them makes one refresh",
        metrics.freshness_pokes.clone(),
    );
    r.register(
        "freshness_refreshes",
        "Repo refreshes woken by webhook pokes, by outcome (ok or the error kind)",
        metrics.freshness_refreshes.clone(),
    );
    r.register(
        "freshness_patches",
        "Patches of the ApplicationSet refresh annotation, by outcome (ok, not_found, forbidden, timeout, api)",
        metrics.freshness_patches.clone(),
    );
    r.register(
        "freshness_poke_to_patch_seconds",
        "Time from a webhook poke to the ApplicationSet refresh patch that followed it",
        metrics.freshness_poke_to_patch.clone(),
    );
}

fn register_cost(r: &mut Registry, metrics: &Metrics) {
    r.register(
        "preview_hours",
        "Preview-hours by service and state (awake_spot, awake_on_demand, asleep), from the plan served",
        metrics.preview_hours.clone(),
    );
    r.register(
        "preview_hours_deleted_early",
        "Hours open labelled PRs went without a preview because they sat idle past their TTL",
        metrics.preview_hours_deleted_early.clone(),
    );
    r.register(
        "preview_hours_queued",
        "Hours labelled PRs waited for a preview because the quota was full",
        metrics.preview_hours_queued.clone(),
    );
}
