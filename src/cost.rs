//! What previews cost: preview-hours by state, per service, accrued from the planner's output
//! over time, priced with the fleet's `price_per_hour`, and compared with an "always on"
//! baseline.
//!
//! Owns the accounting ([`Ledger`], [`accrue`]), the recorded trace of PR events
//! ([`trace`]), its replay through the real planner ([`replay`]), the synthetic month of PR
//! activity ([`simulate`]) and the metrics meter of the running service ([`meter`]). Everything
//! but `meter`'s ticking task is pure: plans and times in, hours and money out. It never decides
//! anything about a preview: the planner does, and this module only counts what it decided.

pub mod meter;
pub mod replay;
pub mod report;
pub mod simulate;
pub mod trace;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::fleet::{Fleet, HourlyPrice};
use crate::naming::ServiceName;
use crate::plan::{CapacityType, ExclusionReason, Plan, Preview};

/// Where a live preview's hours go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HourState {
    /// Awake, placed on spot capacity (preferred; the pods may have fallen back to on-demand
    /// nodes, which the plan cannot see).
    AwakeSpot,
    /// Awake on on-demand capacity.
    AwakeOnDemand,
    /// Asleep: every workload at 0 replicas.
    Asleep,
}

impl HourState {
    /// Every state, in report order.
    pub const ALL: [Self; 3] = [Self::AwakeSpot, Self::AwakeOnDemand, Self::Asleep];

    /// Where a planned preview's hours go.
    pub fn of(preview: &Preview) -> Self {
        if preview.asleep {
            Self::Asleep
        } else if preview.capacity == CapacityType::Spot {
            Self::AwakeSpot
        } else {
            Self::AwakeOnDemand
        }
    }

    /// The metric label value: `awake_spot`, `awake_on_demand` or `asleep`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwakeSpot => "awake_spot",
            Self::AwakeOnDemand => "awake_on_demand",
            Self::Asleep => "asleep",
        }
    }
}

/// Preview-hours of one service (or of a whole fleet), by state. Hours, not seconds: the unit
/// prices are given in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Hours {
    /// Awake on spot capacity.
    pub awake_spot: f64,
    /// Awake on on-demand capacity.
    pub awake_on_demand: f64,
    /// Asleep (scaled to zero).
    pub asleep: f64,
    /// Not running because the PR sat idle past its TTL while still open and labelled: hours
    /// the TTL saved.
    pub deleted_early: f64,
    /// Not running because the quota was full: hours the PR waited.
    pub queued: f64,
}

impl Hours {
    /// Hours the preview existed (awake or asleep).
    pub fn live(&self) -> f64 {
        self.awake_spot + self.awake_on_demand + self.asleep
    }

    /// Hours awake.
    pub fn awake(&self) -> f64 {
        self.awake_spot + self.awake_on_demand
    }

    /// What these hours cost at `price`.
    pub fn cost(&self, price: &HourlyPrice) -> f64 {
        self.awake_spot * price.spot
            + self.awake_on_demand * price.on_demand
            + self.asleep * price.asleep
    }

    /// Adds `other` to these hours.
    pub fn add(&mut self, other: &Hours) {
        self.awake_spot += other.awake_spot;
        self.awake_on_demand += other.awake_on_demand;
        self.asleep += other.asleep;
        self.deleted_early += other.deleted_early;
        self.queued += other.queued;
    }

    fn state_mut(&mut self, state: HourState) -> &mut f64 {
        match state {
            HourState::AwakeSpot => &mut self.awake_spot,
            HourState::AwakeOnDemand => &mut self.awake_on_demand,
            HourState::Asleep => &mut self.asleep,
        }
    }
}

/// Preview-hours per service.
pub type Ledger = BTreeMap<ServiceName, Hours>;

/// What `plan` amounts to when it holds for `hours`, per service: each preview's hours in its
/// state, each open PR left out as expired in `deleted_early`, each queued one in `queued`.
pub fn hours_of(plan: &Plan, hours: f64) -> Ledger {
    let mut ledger = Ledger::new();
    for preview in &plan.previews {
        *ledger
            .entry(preview.service.clone())
            .or_default()
            .state_mut(HourState::of(preview)) += hours;
    }
    for excluded in &plan.excluded {
        let entry = ledger.entry(excluded.service.clone());
        match excluded.reason {
            ExclusionReason::Expired => entry.or_default().deleted_early += hours,
            ExclusionReason::Queued { .. } => entry.or_default().queued += hours,
            _ => {}
        }
    }
    ledger
}

/// Adds what `plan` amounts to over `hours` to `ledger`.
pub fn accrue(ledger: &mut Ledger, plan: &Plan, hours: f64) {
    if hours <= 0.0 {
        return;
    }
    for (service, h) in hours_of(plan, hours) {
        ledger.entry(service).or_default().add(&h);
    }
}

/// The hours and, when every service has prices, the cost of one ledger.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Totals {
    /// Per service.
    pub services: Ledger,
    /// Summed over the services.
    pub hours: Hours,
    /// In the fleet's currency; `None` when a service of the ledger has no price.
    pub cost: Option<f64>,
}

/// Sums `ledger` and prices it with the fleet's `price_per_hour`.
pub fn totals(fleet: &Fleet, ledger: &Ledger) -> Totals {
    let mut hours = Hours::default();
    let mut cost = Some(0.0);
    for (service, h) in ledger {
        hours.add(h);
        let price = fleet
            .service(service.as_str())
            .and_then(|s| s.policy.price.as_ref());
        cost = match (cost, price) {
            (Some(sum), Some(price)) => Some(sum + h.cost(price)),
            _ => None,
        };
    }
    Totals {
        services: ledger.clone(),
        hours,
        cost,
    }
}

/// `1 - value / baseline` as a percentage; `None` when the baseline is zero.
pub fn savings_percent(value: f64, baseline: f64) -> Option<f64> {
    (baseline > 0.0).then(|| 100.0 * (1.0 - value / baseline))
}

#[cfg(test)]
mod tests;
