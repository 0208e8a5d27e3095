//! The board's totals strip and its chart of the last days, from the cost meter. Pure.

use chrono::Datelike;

use super::{CHART_DAYS, Day, Inputs, Row, Totals};
use crate::cost::{Hours, Ledger, totals};
use crate::plan::{ExclusionReason, Plan};

/// The totals strip and the chart, from the meter's days and the rows' costs.
pub(super) fn money(inputs: &Inputs<'_>, plan: &Plan, rows: &[Row]) -> (Totals, Vec<Day>) {
    let fleet = inputs.fleet;
    let today = inputs.now.date_naive();
    let day_of = |ledger: &Ledger| {
        let t = totals(fleet, ledger);
        (t.hours.live(), t.cost)
    };
    let mut days = Vec::with_capacity(CHART_DAYS);
    for back in (0..CHART_DAYS).rev() {
        let Some(date) = today.checked_sub_days(chrono::Days::new(back as u64)) else {
            continue;
        };
        let (hours, cost) = inputs
            .meter
            .days()
            .get(&date)
            .map_or((0.0, Some(0.0)), &day_of);
        days.push(Day { date, hours, cost });
    }
    let mut month = Ledger::new();
    for (date, ledger) in inputs.meter.days() {
        if date.year() == today.year() && date.month() == today.month() {
            for (service, hours) in ledger {
                let sum: &mut Hours = month.entry(service.clone()).or_default();
                sum.add(hours);
            }
        }
    }
    let (hours_month, cost_month) = day_of(&month);
    let (hours_today, cost_today) = days.last().map_or((0.0, Some(0.0)), |d| (d.hours, d.cost));
    let cost_so_far = rows
        .iter()
        .filter(|r| r.url.is_some())
        .map(|r| r.cost.map(|c| c.so_far))
        .sum::<Option<f64>>();
    let totals = Totals {
        up: plan.previews.len(),
        asleep: plan.previews.iter().filter(|p| p.asleep).count(),
        queued: plan
            .excluded
            .iter()
            .filter(|e| matches!(e.reason, ExclusionReason::Queued { .. }))
            .count(),
        hours_today,
        cost_today,
        hours_month,
        cost_month,
        cost_so_far,
    };
    (totals, days)
}
