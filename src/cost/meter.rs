//! The cost meter of the running service: every minute, the previews of the current snapshot
//! are counted into the preview-hours counters (see [`crate::metrics::Metrics`]):
//! `preview_tower_preview_hours_total{service, state}` with `state` one of `awake_spot`,
//! `awake_on_demand`, `asleep`; `preview_tower_preview_hours_deleted_early_total{service}` and
//! `preview_tower_preview_hours_queued_total{service}`.
//!
//! The plan is taken to hold since the previous tick, so the counters lag the plan by at most a
//! minute. Each replica counts on its own: aggregate replicas with `max`, not `sum`.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::{HourState, hours_of};
use crate::metrics::{HoursLabels, Metrics, ServiceLabel};
use crate::plan::Plan;
use crate::snapshot::SnapshotStore;

/// How often the counters are advanced.
pub const TICK: Duration = Duration::from_secs(60);

/// Longest span one tick counts: a runtime stalled for longer (a suspended process) does not
/// add hours nobody watched.
const MAX_SPAN: Duration = Duration::from_secs(5 * 60);

/// Adds `hours` of `plan` to the counters.
pub fn record(metrics: &Metrics, plan: &Plan, hours: f64) {
    if hours <= 0.0 {
        return;
    }
    for (service, h) in hours_of(plan, hours) {
        for state in HourState::ALL {
            let value = match state {
                HourState::AwakeSpot => h.awake_spot,
                HourState::AwakeOnDemand => h.awake_on_demand,
                HourState::Asleep => h.asleep,
            };
            if value > 0.0 {
                let labels = HoursLabels {
                    service: service.to_string(),
                    state: state.as_str(),
                };
                metrics
                    .cost
                    .preview_hours
                    .get_or_create(&labels)
                    .inc_by(value);
            }
        }
        let label = ServiceLabel {
            service: service.to_string(),
        };
        if h.deleted_early > 0.0 {
            let counter = metrics
                .cost
                .preview_hours_deleted_early
                .get_or_create(&label);
            counter.inc_by(h.deleted_early);
        }
        if h.queued > 0.0 {
            metrics
                .cost
                .preview_hours_queued
                .get_or_create(&label)
                .inc_by(h.queued);
        }
    }
}

/// Advances the counters every [`TICK`] from the snapshot in `store` until `cancel`.
pub async fn run(store: Arc<SnapshotStore>, metrics: Arc<Metrics>, cancel: CancellationToken) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last = Instant::now();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let now = Instant::now();
        let span = now.duration_since(last).min(MAX_SPAN);
        last = now;
        let snapshot = store.load();
        record(&metrics, snapshot.plan(), span.as_secs_f64() / 3600.0);
    }
}
