//! The cost meter of the running service: every minute, the previews of the current snapshot
//! are counted into the preview-hours counters (see [`crate::metrics::Metrics`]):
//! `preview_tower_preview_hours_total{service, state}` with `state` one of `awake_spot`,
//! `awake_on_demand`, `asleep`; `preview_tower_preview_hours_deleted_early_total{service}` and
//! `preview_tower_preview_hours_queued_total{service}`; and into a [`Meter`]: the hours of each
//! preview so far and of each UTC day, which the previews board and the PR comment price.
//!
//! The plan is taken to hold since the previous tick, so the figures lag the plan by at most a
//! minute. Each replica counts on its own: aggregate replicas with `max`, not `sum`. The meter
//! lives in memory; after a restart the lifecycle carries into it what each PR comment showed
//! ([`Meter::carry`]), and the days start again (the Prometheus counters are the long-term
//! record).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::{HourState, Hours, Ledger, accrue, hours_of};
use crate::fleet::Fleet;
use crate::lifecycle::PreviewCost;
use crate::metrics::{HoursLabels, Metrics, ServiceLabel};
use crate::naming::{PreviewKey, ServiceName};
use crate::plan::{CapacityType, Plan, Preview};

/// How often the counters are advanced.
pub const TICK: Duration = Duration::from_secs(60);

/// Longest span one tick counts: a runtime stalled for longer (a suspended process) does not
/// add hours nobody watched.
const MAX_SPAN: TimeDelta = TimeDelta::minutes(5);

/// Days kept per day: enough for the board's 30-day chart and the current month.
pub const DAYS_KEPT: usize = 62;

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

/// Preview-hours counted so far: per preview (while its PR is open) and per UTC day and
/// service (the last [`DAYS_KEPT`] days). Pure: plans and times in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Meter {
    previews: BTreeMap<PreviewKey, Hours>,
    /// What each preview had cost before this process counted (the PR comment's last figure,
    /// read back after a restart), added to what its hours cost.
    carried: BTreeMap<PreviewKey, f64>,
    days: BTreeMap<NaiveDate, Ledger>,
    /// Counts are added to: bumped by every [`Meter::accrue`].
    counted: u64,
}

impl Meter {
    /// Counts `plan` as holding over `[from, to)`, split at UTC midnights; then forgets the
    /// previews of PRs the plan no longer knows (closed), in the services it planned.
    pub fn accrue(&mut self, plan: &Plan, from: DateTime<Utc>, to: DateTime<Utc>) {
        let mut start = from;
        while start < to {
            let day = start.date_naive();
            let midnight = day
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map_or(to, |t| t.and_utc());
            let end = midnight.min(to);
            let hours = hours_between(start, end);
            accrue(self.days.entry(day).or_default(), plan, hours);
            for preview in &plan.previews {
                let state = HourState::of(preview);
                *self
                    .previews
                    .entry(preview.key())
                    .or_default()
                    .state_mut(state) += hours;
            }
            start = end;
        }
        while self.days.len() > DAYS_KEPT {
            self.days.pop_first();
        }
        self.forget_closed(plan);
        self.counted = self.counted.wrapping_add(1);
    }

    /// How many times hours were added: the lifecycle renders the PR comments again when it
    /// moves (a comment's figure changes only when it crosses a step, so most renders write
    /// nothing).
    pub fn counted(&self) -> u64 {
        self.counted
    }

    /// The hours of one preview so far.
    pub fn preview(&self, key: &PreviewKey) -> Hours {
        self.previews.get(key).copied().unwrap_or_default()
    }

    /// What `key` has cost so far (its hours at its service's prices, plus what was carried
    /// over) and a day awake costs on `spot` or on-demand capacity; `None` when its service
    /// has no price.
    fn cost_at(&self, fleet: &Fleet, key: &PreviewKey, spot: bool) -> Option<PreviewCost> {
        let price = fleet.service(key.service.as_str())?.policy.price.as_ref()?;
        let hourly = if spot { price.spot } else { price.on_demand };
        Some(PreviewCost {
            so_far: self.preview(key).cost(price)
                + self.carried.get(key).copied().unwrap_or_default(),
            per_day_awake: 24.0 * hourly,
        })
    }

    /// What `preview` has cost so far and costs per day awake on its capacity; `None` when
    /// its service has no price.
    pub fn cost_of(&self, fleet: &Fleet, preview: &Preview) -> Option<PreviewCost> {
        let spot = preview.capacity == CapacityType::Spot;
        self.cost_at(fleet, &preview.key(), spot)
    }

    /// What `key` has cost so far; `None` when its service has no price.
    pub fn so_far(&self, fleet: &Fleet, key: &PreviewKey) -> Option<f64> {
        Some(self.cost_at(fleet, key, true)?.so_far)
    }

    /// What a preview that is not planned now (held while GitHub cannot be read: it runs on,
    /// uncounted; or deleted while idle, until activity brings it back) has cost so far, with
    /// its service's day rate on the capacity the policy prefers (a PR's `spot: false` is not
    /// known here); `None` when its service has no price.
    pub fn unplanned_cost_of(&self, fleet: &Fleet, key: &PreviewKey) -> Option<PreviewCost> {
        let spot = fleet.service(key.service.as_str())?.policy.spot;
        self.cost_at(fleet, key, spot)
    }

    /// Carries `amount` over for `key`: what it had cost that this process did not count (the
    /// PR comment's figure beyond what was counted: after a restart, or another replica's
    /// figure when this one takes the lead). Adds up, so the figure becomes the comment's.
    pub fn carry(&mut self, key: PreviewKey, amount: f64) {
        if amount.is_finite() && amount > 0.0 {
            *self.carried.entry(key).or_default() += amount;
        }
    }

    /// Each day's hours per service, oldest first.
    pub fn days(&self) -> &BTreeMap<NaiveDate, Ledger> {
        &self.days
    }

    /// Drops the previews of PRs that the plan neither previews, leaves out nor holds, in the
    /// services the plan covers (a service not planned now is not evidence of anything).
    fn forget_closed(&mut self, plan: &Plan) {
        let mut known: BTreeMap<&ServiceName, Vec<u64>> = BTreeMap::new();
        let keys = plan
            .previews
            .iter()
            .map(|p| (&p.service, p.pr.number))
            .chain(plan.excluded.iter().map(|e| (&e.service, e.number)))
            .chain(plan.held.iter().map(|h| (&h.service, h.number)));
        for (service, number) in keys {
            known.entry(service).or_default().push(number);
        }
        let open = |key: &PreviewKey| {
            known
                .get(&key.service)
                .is_none_or(|numbers| numbers.contains(&key.number))
        };
        self.previews.retain(|key, _| open(key));
        self.carried.retain(|key, _| open(key));
    }
}

/// `[from, to)` in hours.
fn hours_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    // Milliseconds: exact for any span counted here.
    #[allow(clippy::cast_precision_loss)]
    let ms = (to - from).num_milliseconds() as f64;
    ms / 3_600_000.0
}

/// The running service's [`Meter`], shared by the ticking task and its readers (the board, the
/// lifecycle's comment).
#[derive(Clone, Debug, Default)]
pub struct SharedMeter(Arc<Mutex<Meter>>);

impl SharedMeter {
    /// The meter, locked (short: readers copy what they need).
    pub fn lock(&self) -> MutexGuard<'_, Meter> {
        // A panic while counting leaves figures, not broken invariants.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Advances the counters and `meter` every [`TICK`] from the snapshot in `store` until
/// `cancel`.
pub async fn run(
    store: Arc<crate::snapshot::SnapshotStore>,
    metrics: Arc<Metrics>,
    meter: SharedMeter,
    cancel: CancellationToken,
) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last = Utc::now();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let now = Utc::now();
        let from = last.max(now - MAX_SPAN).min(now);
        last = now;
        let snapshot = store.load();
        record(&metrics, snapshot.plan(), hours_between(from, now));
        meter.lock().accrue(snapshot.plan(), from, now);
    }
}
