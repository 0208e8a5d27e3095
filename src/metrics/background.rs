//! The metrics of the components that work beside the answer path: the Applications watch,
//! the lifecycle's shell, webhook-woken refreshes, the webhook receiver and the cost meter.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::{ActionLabels, HoursCounter, HoursLabels, OutcomeLabels, ServiceLabel, WebhookLabels};

/// The Argo CD Applications watch (`crate::argocd::watch`). Its names keep the
/// `lifecycle_` prefix they were published with.
#[derive(Debug)]
pub struct WatchMetrics {
    /// Errors of the Applications watch (each is retried).
    pub errors: Counter,
    /// Completed (re)lists of the Applications watch.
    pub relists: Counter,
}

impl WatchMetrics {
    pub(super) fn new() -> Self {
        Self {
            errors: Counter::default(),
            relists: Counter::default(),
        }
    }

    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "lifecycle_watch_errors",
            "Errors of the Argo CD Applications watch; each is retried with backoff",
            self.errors.clone(),
        );
        r.register(
            "lifecycle_watch_relists",
            "Complete lists of the previews' Applications (start-up, expired watches)",
            self.relists.clone(),
        );
    }
}

/// The lifecycle's shell (`crate::reconcile`).
#[derive(Debug)]
pub struct LifecycleMetrics {
    /// Lifecycle writes and read-backs by target, action and outcome.
    pub actions: Family<ActionLabels, Counter>,
    /// 1 while this replica leads (writes to GitHub and Jira), else 0.
    pub leader: Gauge,
    /// Jira notes waiting to be posted.
    pub jira_pending: Gauge,
}

impl LifecycleMetrics {
    pub(super) fn new() -> Self {
        Self {
            actions: Family::default(),
            leader: Gauge::default(),
            jira_pending: Gauge::default(),
        }
    }

    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "lifecycle_actions",
            "Writes to GitHub and Jira (and the reads that check them first), by target, action and outcome",
            self.actions.clone(),
        );
        r.register(
            "lifecycle_leader",
            "1 while this replica holds the lease and writes to GitHub and Jira",
            self.leader.clone(),
        );
        r.register(
            "lifecycle_jira_pending",
            "Jira comments waiting to be posted (retried while Jira is down)",
            self.jira_pending.clone(),
        );
    }
}

/// Webhook-woken refreshes and ApplicationSet patches (`crate::freshness`).
#[derive(Debug)]
pub struct FreshnessMetrics {
    /// Pokes received (webhook deliveries that name a repo of the fleet).
    pub pokes: Counter,
    /// Refreshes woken by pokes, by outcome (`ok` or the sync error kind).
    pub refreshes: Family<OutcomeLabels, Counter>,
    /// ApplicationSet refresh patches, by outcome (`ok`, `not_found`, `forbidden`, ...).
    pub patches: Family<OutcomeLabels, Counter>,
    /// Seconds from the first poke of a batch to its first successful ApplicationSet patch.
    pub poke_to_patch: Histogram,
}

impl FreshnessMetrics {
    pub(super) fn new() -> Self {
        Self {
            pokes: Counter::default(),
            refreshes: Family::default(),
            patches: Family::default(),
            // 1 ms to ~33 s.
            poke_to_patch: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
        }
    }

    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "freshness_pokes",
            "Webhook pokes naming a repo of the fleet; a burst of them makes one refresh",
            self.pokes.clone(),
        );
        r.register(
            "freshness_refreshes",
            "Repo refreshes woken by webhook pokes, by outcome (ok or the error kind)",
            self.refreshes.clone(),
        );
        r.register(
            "freshness_patches",
            "Patches of the ApplicationSet refresh annotation, by outcome (ok, not_found, forbidden, timeout, api)",
            self.patches.clone(),
        );
        r.register(
            "freshness_poke_to_patch_seconds",
            "Time from a webhook poke to the ApplicationSet refresh patch that followed it",
            self.poke_to_patch.clone(),
        );
    }
}

/// The webhook receiver (`crate::http::webhook`).
#[derive(Debug)]
pub struct WebhookMetrics {
    /// GitHub webhook deliveries by event and outcome.
    pub deliveries: Family<WebhookLabels, Counter>,
}

impl WebhookMetrics {
    pub(super) fn new() -> Self {
        Self {
            deliveries: Family::default(),
        }
    }

    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "webhook_deliveries",
            "GitHub webhook deliveries, by event and outcome (accepted, ignored, duplicate, unauthorized, invalid, pong)",
            self.deliveries.clone(),
        );
    }
}

/// The cost meter (`crate::cost::meter`).
#[derive(Debug)]
pub struct CostMetrics {
    /// Preview-hours by service and state (see [`crate::cost::meter`]).
    pub preview_hours: Family<HoursLabels, HoursCounter>,
    /// Hours open labelled PRs went without a preview because they sat idle past their TTL.
    pub preview_hours_deleted_early: Family<ServiceLabel, HoursCounter>,
    /// Hours labelled PRs waited for a preview because the quota was full.
    pub preview_hours_queued: Family<ServiceLabel, HoursCounter>,
}

impl CostMetrics {
    pub(super) fn new() -> Self {
        Self {
            preview_hours: Family::default(),
            preview_hours_deleted_early: Family::default(),
            preview_hours_queued: Family::default(),
        }
    }

    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "preview_hours",
            "Preview-hours by service and state (awake_spot, awake_on_demand, asleep), from the plan served",
            self.preview_hours.clone(),
        );
        r.register(
            "preview_hours_deleted_early",
            "Hours open labelled PRs went without a preview because they sat idle past their TTL",
            self.preview_hours_deleted_early.clone(),
        );
        r.register(
            "preview_hours_queued",
            "Hours labelled PRs waited for a preview because the quota was full",
            self.preview_hours_queued.clone(),
        );
    }
}
