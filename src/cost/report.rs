//! The cost report: a trace replayed under every [`Scenario`], with hours, cost and savings
//! against the always-on baseline, as a table or JSON. Pure.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::replay::{Scenario, Window, replay};
use super::trace::TraceEvent;
use super::{Totals, savings_percent, totals};
use crate::fleet::Fleet;

/// The report over one window.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Start of the window, included.
    pub from: DateTime<Utc>,
    /// End of the window, excluded.
    pub to: DateTime<Utc>,
    /// Currency of the costs.
    pub currency: String,
    /// Pull requests in the trace.
    pub pull_requests: usize,
    /// Events in the trace.
    pub events: usize,
    /// One row per scenario, the baseline first.
    pub scenarios: Vec<ScenarioReport>,
}

/// One scenario's hours and cost.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    /// Which.
    pub scenario: Scenario,
    /// Hours (per service and in all) and cost.
    #[serde(flatten)]
    pub totals: Totals,
    /// Awake hours saved against the baseline, in percent.
    pub awake_hours_saved_percent: Option<f64>,
    /// Cost saved against the baseline, in percent; `None` without prices.
    pub cost_saved_percent: Option<f64>,
}

/// Replays `events` on `fleet` under every scenario and counts the hours in `window`.
pub fn report(fleet: &Fleet, events: &[TraceEvent], window: Window) -> Report {
    let mut scenarios: Vec<ScenarioReport> = Vec::new();
    for scenario in Scenario::ALL {
        let ledger = replay(&scenario.fleet(fleet), events, window);
        let totals = totals(fleet, &ledger);
        let baseline = scenarios.first().map_or(&totals, |b| &b.totals);
        let awake_hours_saved_percent =
            savings_percent(totals.hours.awake(), baseline.hours.awake());
        let cost_saved_percent = match (totals.cost, baseline.cost) {
            (Some(cost), Some(base)) => savings_percent(cost, base),
            _ => None,
        };
        scenarios.push(ScenarioReport {
            scenario,
            totals,
            awake_hours_saved_percent,
            cost_saved_percent,
        });
    }
    let pull_requests: BTreeSet<_> = events.iter().map(|e| (&e.repo, e.pr)).collect();
    Report {
        from: window.from,
        to: window.to,
        currency: fleet.currency.clone(),
        pull_requests: pull_requests.len(),
        events: events.len(),
        scenarios,
    }
}

/// The report as a Markdown table (it reads as plain text too).
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} to {}: {} pull requests, {} events",
        report.from.format("%Y-%m-%d %H:%M UTC"),
        report.to.format("%Y-%m-%d %H:%M UTC"),
        report.pull_requests,
        report.events
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| policy | awake spot h | awake on-demand h | asleep h | deleted early h | queued h | cost ({}) | awake h saved | cost saved |",
        report.currency
    );
    let _ = writeln!(
        out,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for row in &report.scenarios {
        let h = &row.totals.hours;
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} | {} |",
            row.scenario.label(),
            h.awake_spot,
            h.awake_on_demand,
            h.asleep,
            h.deleted_early,
            h.queued,
            row.totals
                .cost
                .map_or_else(|| "-".to_owned(), |c| format!("{c:.2}")),
            percent(row.awake_hours_saved_percent),
            percent(row.cost_saved_percent),
        );
    }
    out
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |p| format!("{p:.0} %"))
}
