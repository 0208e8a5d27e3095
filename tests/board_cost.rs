//! The board, the sticky comment and `preview-tower cost` tell the same money on the same
//! trace: the trace is replayed through the real planner by the `cost` command (its fleet as
//! configured) and, plan by plan, into the cost meter that the board and the comment read.
//! Each row's cost equals the report's service cost to the cent, the board's totals equal the
//! report's, and the comment's figure is the board's, in its visible steps.

use std::io::Write as _;
use std::process::Command;

use chrono::{DateTime, Utc};
use preview_tower::board::{self, Inputs};
use preview_tower::cost::meter::Meter;
use preview_tower::cost::replay::{Scenario, Window, replay_plans};
use preview_tower::cost::trace;
use preview_tower::fleet::Fleet;
use preview_tower::lifecycle::comment::{Costs, render};
use preview_tower::lifecycle::money::round_cents;
use preview_tower::lifecycle::{State, money};
use preview_tower::plan::Plan;
use serde_json::Value;

/// Two PRs of the demo fleet: `web` PR 1 opened on Monday 2 March 2026 at 10:00 in Paris and
/// commented on the next day; `api` PR 2 opened on Tuesday, woken at night (`api` works
/// Auckland's hours) and extended.
const TRACE: &str = r#"{"at":"2026-03-02T09:00:00Z","repo":"acme/web","pr":1,"event":"opened","labels":["preview"]}
{"at":"2026-03-03T08:30:00Z","repo":"acme/web","pr":1,"event":"comment"}
{"at":"2026-03-03T13:15:00Z","repo":"acme/api","pr":2,"event":"opened","labels":["preview"]}
{"at":"2026-03-03T14:00:00Z","repo":"acme/api","pr":2,"event":"command","text":"/preview wake"}
{"at":"2026-03-04T10:00:00Z","repo":"acme/api","pr":2,"event":"command","text":"/preview extend 5d"}
"#;

/// Friday 08:00 in Paris, before `web` PR 1 expires (72 h after its comment).
const TO: &str = "2026-03-06T07:00:00Z";

#[test]
fn the_board_the_comment_and_the_cost_report_agree_to_the_cent() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(TRACE.as_bytes()).expect("write");
    let path = file.path().to_str().expect("path");
    let output = Command::new(env!("CARGO_BIN_EXE_preview-tower"))
        .args(["cost", "--trace", path, "--to", TO, "--json"])
        .env_remove("PREVIEW_TOWER_CONFIG")
        .output()
        .expect("run preview-tower cost");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let configured = report["scenarios"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["scenario"] == "ttl_sleep_spot"))
        .expect("the fleet as configured")
        .clone();
    let report_cost = configured["cost"].as_f64().expect("priced");

    // The same trace, plan by plan, into the meter the board and the comment read.
    let fleet = Fleet::from_yaml(preview_tower::demo::FLEET_YAML).expect("demo fleet");
    let events = trace::parse(TRACE).expect("trace");
    let to: DateTime<Utc> = TO.parse().expect("time");
    let window = Window {
        from: events[0].at,
        to,
    };
    let mut meter = Meter::default();
    let mut last = Plan::default();
    replay_plans(
        &Scenario::TtlSleepSpot.fleet(&fleet),
        &events,
        window,
        |plan, from, to| {
            meter.accrue(plan, from, to);
            last = plan.clone();
        },
    );
    let board = board::build(&Inputs {
        fleet: &fleet,
        plan: &last,
        observed: None,
        meter: &meter,
        jira_url: None,
        jira_projects: &[],
        argocd_url: None,
        now: to,
    });
    assert_eq!(board.previews.len(), 2, "both previews are up at the end");

    // Each row: the report's hours of its service, at the fleet's prices.
    for row in &board.previews {
        let hours = &configured["services"][row.service.as_str()];
        let price = fleet
            .service(row.service.as_str())
            .and_then(|s| s.policy.price.as_ref())
            .expect("priced service");
        let expected = hours["awake_spot"].as_f64().unwrap_or_default() * price.spot
            + hours["awake_on_demand"].as_f64().unwrap_or_default() * price.on_demand
            + hours["asleep"].as_f64().unwrap_or_default() * price.asleep;
        let cost = row.cost.expect("priced row");
        assert_eq!(
            money(cost.so_far, "USD"),
            money(expected, "USD"),
            "{} PR {}: board vs report",
            row.service,
            row.number
        );
        assert!(expected > 0.0, "{} ran", row.service);
    }
    let rows_total: f64 = board
        .previews
        .iter()
        .filter_map(|r| r.cost)
        .map(|c| c.so_far)
        .sum();
    assert_eq!(round_cents(rows_total), round_cents(report_cost));
    assert_eq!(
        board.totals.cost_so_far.map(round_cents),
        Some(round_cents(report_cost))
    );
    assert_eq!(
        board.totals.cost_month.map(round_cents),
        Some(round_cents(report_cost)),
        "the window lies within March: this month is all of it"
    );
    let chart_total: f64 = board.days.iter().filter_map(|d| d.cost).sum();
    assert_eq!(round_cents(chart_total), round_cents(report_cost));

    // The comment: the board's figure, rounded down to its step, and the same day rate.
    let costs = Costs {
        currency: fleet.currency.clone(),
        previews: board
            .previews
            .iter()
            .filter_map(|r| {
                let key = preview_tower::naming::PreviewKey::new(r.service.clone(), r.number);
                Some((key, r.cost?))
            })
            .collect(),
        shown: std::collections::BTreeMap::new(),
    };
    let rows: Vec<_> = last
        .previews
        .iter()
        .map(|p| (p, Some(State::Success)))
        .collect();
    let comment = render(&rows, &[], &[], &costs, ".preview.yaml");
    for row in &board.previews {
        let cost = row.cost.expect("priced row");
        let line = format!(
            "- `{}`: {} so far · {} per day awake",
            row.service,
            money(cost.shown_so_far(), "USD"),
            money(cost.per_day_awake, "USD")
        );
        assert!(comment.contains(&line), "{line}\n{comment}");
        assert!(cost.shown_so_far() <= cost.so_far + 1e-9);
        assert!(cost.so_far - cost.shown_so_far() < cost.step());
    }
}
