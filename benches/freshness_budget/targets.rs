//! The targets of issue 5 side by side with what was measured.

use std::time::Duration;

use super::answers::{Question, Row};
use super::budget;
use super::cold_start;
use super::reaction;
use super::report::ms;
use super::resident;

/// A target of issue 5 and what was measured against it.
pub struct Verdict {
    /// The target, with its conditions.
    pub target: String,
    /// What was measured.
    pub measured: String,
    /// Whether it was met; `None` when nothing was measured.
    pub met: Option<bool>,
}

/// Every target, checked against the largest snapshot measured.
pub fn verdicts(
    rows: &[Row],
    resident: Option<&resident::Report>,
    budget: Option<&budget::Report>,
    cold_start: Option<&cold_start::Report>,
    reaction: Option<&reaction::Report>,
) -> Vec<Verdict> {
    let mut out = Vec::new();
    let largest = rows.iter().map(|r| r.previews).max().unwrap_or(0);
    let find = |question, clients, bare| {
        rows.iter().find(|r| {
            r.previews == largest
                && r.question == question
                && r.clients == clients
                && r.bare == bare
        })
    };
    let mut clients: Vec<usize> = rows.iter().map(|r| r.clients).collect();
    clients.sort_unstable();
    clients.dedup();
    for &n in &clients {
        if let (Some(real), Some(bare)) = (
            find(Question::OneService, n, false),
            find(Question::OneService, n, true),
        ) {
            let ratio = real.outcome.throughput / bare.outcome.throughput;
            out.push(Verdict {
                target: format!(
                    "{largest} previews, one service, {n} conn: ≥ 0.5 × bare throughput"
                ),
                measured: format!(
                    "{:.0}/s vs {:.0}/s = {ratio:.2} ×",
                    real.outcome.throughput, bare.outcome.throughput
                ),
                met: Some(ratio >= 0.5),
            });
            out.push(Verdict {
                target: format!("{largest} previews, one service, {n} conn: p99 < 1 ms"),
                measured: format!("{:.3} ms", ms(real.outcome.p99)),
                met: Some(real.outcome.p99 < Duration::from_millis(1)),
            });
        }
    }
    for &n in &clients {
        if let Some(real) = find(Question::AllServices, n, false) {
            out.push(Verdict {
                target: format!("{largest} previews, all services, {n} conn: p99 < 50 ms"),
                measured: format!("{:.3} ms", ms(real.outcome.p99)),
                met: Some(real.outcome.p99 < Duration::from_millis(50)),
            });
        }
    }
    if let Some(resident) = resident {
        let peak_mib = resident.hwm_kib as f64 / 1024.0;
        out.push(Verdict {
            target: format!(
                "{} previews: < 64 MiB resident (peak, VmHWM)",
                resident.previews
            ),
            measured: format!("{peak_mib:.1} MiB"),
            met: Some(peak_mib < 64.0),
        });
    }
    if let Some(budget) = budget {
        let unchanged = budget
            .cycles
            .iter()
            .filter(|c| c.pushed == 0 && !c.name.contains("cold"))
            .map(|c| c.counted)
            .max();
        out.push(Verdict {
            target: "zero counted GitHub requests per unchanged refresh".to_owned(),
            measured: unchanged.map_or_else(|| "no cycle".to_owned(), |c| format!("{c} at most")),
            met: unchanged.map(|c| c == 0),
        });
    }
    if let Some(report) = cold_start {
        out.extend(cold_start_verdicts(report));
    }
    if let Some(reaction) = reaction {
        let p = &reaction.patched;
        out.push(Verdict {
            target: format!(
                "{} previews: webhook → refresh patch p99 < 100 ms",
                reaction.previews
            ),
            measured: format!(
                "p50 {:.1} ms, p99 {:.1} ms ({} deliveries)",
                ms(p.p50),
                ms(p.p99),
                p.count
            ),
            met: Some(p.p99 < Duration::from_millis(100)),
        });
    }
    out
}

/// Issue 15's targets: the GraphQL cold start, and what a push costs after it.
fn cold_start_verdicts(report: &cold_start::Report) -> Vec<Verdict> {
    let mut out = Vec::new();
    let plan = &report.plan;
    let previews = plan.repos as u64 * plan.pulls;
    if let Some(start) = report.starts.iter().find(|s| s.mode == "GraphQL") {
        out.push(Verdict {
            target: format!("cold start, {previews} previews: ≤ 100 counted REST, ≤ 500 points"),
            measured: format!("{} REST, {} points", start.counted, start.points),
            met: Some(start.counted <= 100 && start.points <= 500),
        });
        out.push(Verdict {
            target: format!("cold start, {previews} previews: every service answers within 60 s"),
            measured: format!(
                "{:.1} s, {} of {} answering",
                start.wall.as_secs_f64(),
                start.answering,
                plan.repos
            ),
            met: Some(start.wall <= Duration::from_secs(60) && start.answering == plan.repos),
        });
    }
    // A push's cost: its own refresh, then what follows until nothing is read (the read that
    // settles its activity, a minute later, shared by every PR of the repository changed in
    // that minute) shown beside it.
    let from = report.after.iter().position(|a| a.name.contains("pushed"));
    if let Some(from) = from {
        let at_once = &report.after[from];
        let later = &report.after[from + 1..report.after.len().saturating_sub(1)];
        let later_queries: usize = later.iter().map(|a| a.queries).sum();
        let later_counted: u64 = later.iter().map(|a| a.counted).sum();
        out.push(Verdict {
            target: "a push: ≤ 1 counted REST + one small GraphQL query".to_owned(),
            measured: format!(
                "{} REST, {} query, {} point; then {later_counted} REST, {later_queries} settling query",
                at_once.counted, at_once.queries, at_once.points
            ),
            met: Some(at_once.counted <= 1 && at_once.queries <= 1 && later_counted == 0),
        });
    }
    let unchanged = report.after.iter().filter(|a| a.name.contains("unchanged"));
    let worst = unchanged.map(|a| a.counted + a.points).max();
    out.push(Verdict {
        target: "GraphQL: 0 counted REST and 0 points per unchanged refresh".to_owned(),
        measured: worst.map_or_else(|| "no cycle".to_owned(), |w| format!("{w} at most")),
        met: worst.map(|w| w == 0),
    });
    out
}

/// Prints the verdicts.
pub fn print_verdicts(verdicts: &[Verdict]) {
    for v in verdicts {
        let verdict = match v.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "-",
        };
        println!("{:<62} {:<34} {verdict}", v.target, v.measured);
    }
}
