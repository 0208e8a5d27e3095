use chrono::{DateTime, TimeZone, Utc};

use super::replay::{Scenario, Window, replay};
use super::trace::{EventKind, TraceEvent, parse, to_json_lines};
use super::*;
use crate::fleet::HourlyPrice;
use crate::metrics::{HoursLabels, Metrics, ServiceLabel};
use crate::plan::Exclusion;
use crate::testing::{facts, fleet, name, plan_of, pr};

/// Monday 2 March 2026 at `hour`:00 UTC, plus `days`.
fn at(days: i64, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0)
        .single()
        .map(|t| t + chrono::Duration::days(days))
        .expect("time")
}

fn event(at: DateTime<Utc>, pr: u64, kind: EventKind) -> TraceEvent {
    TraceEvent {
        at,
        repo: "acme/web".parse().expect("repo"),
        pr,
        kind,
    }
}

fn opened() -> EventKind {
    EventKind::Opened {
        labels: vec!["preview".into()],
        draft: false,
    }
}

fn web_hours(scenario: Scenario, events: &[TraceEvent], window: Window) -> Hours {
    let ledger = replay(&scenario.fleet(&fleet()), events, window);
    ledger.get(&name("web")).copied().unwrap_or_default()
}

/// The evidence margin in hours: an expiry counts that long after it is due.
const MARGIN_H: f64 = 2.0 / 60.0;

/// Equal up to float rounding.
fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "{actual} h, expected {expected} h"
    );
}

/// The test fleet works 08:00 to 20:00 UTC, Monday to Friday, with a 72 h TTL.
#[test]
fn a_pr_idle_past_its_ttl_counts_as_deleted_early() {
    let events = [event(at(0, 10), 1, opened())];
    let window = Window {
        from: at(0, 10),
        to: at(4, 10),
    };
    let ttl = web_hours(Scenario::Ttl, &events, window);
    // The expiry counts once a read two minutes later shows nothing new (EVIDENCE_MARGIN).
    close(ttl.awake_on_demand, 72.0 + MARGIN_H);
    close(ttl.deleted_early, 24.0 - MARGIN_H);
    let always = web_hours(Scenario::AlwaysOn, &events, window);
    assert_eq!((always.awake_on_demand, always.deleted_early), (96.0, 0.0));
    // Awake Mon 10-20, Tue and Wed 08-20, Thu 08-10; asleep the nights until the expiry.
    let sleep = web_hours(Scenario::TtlSleep, &events, window);
    close(sleep.awake_on_demand, 36.0 + MARGIN_H);
    close(sleep.asleep, 36.0);
    let spot = web_hours(Scenario::TtlSleepSpot, &events, window);
    close(spot.awake_spot, 36.0 + MARGIN_H);
    close(spot.awake_on_demand, 0.0);
    close(spot.deleted_early, 24.0 - MARGIN_H);
}

#[test]
fn activity_brings_an_expired_preview_back_and_keep_stops_expiry() {
    let events = [
        event(at(0, 10), 1, opened()),
        event(at(4, 10), 1, EventKind::Push),
        event(at(0, 10), 2, opened()),
        event(
            at(0, 11),
            2,
            EventKind::Command {
                text: "/preview keep".into(),
            },
        ),
    ];
    let window = Window {
        from: at(0, 10),
        to: at(5, 10),
    };
    let ledger = replay(&Scenario::Ttl.fleet(&fleet()), &parse_back(&events), window);
    let web = ledger.get(&name("web")).copied().unwrap_or_default();
    // PR 1: 72 h, gone 24 h, back for 24 h; PR 2: kept all 120 h.
    close(web.awake_on_demand, 72.0 + MARGIN_H + 24.0 + 120.0);
    close(web.deleted_early, 24.0 - MARGIN_H);
}

#[test]
fn a_closed_pr_stops_counting_and_an_unlabelled_one_never_counts() {
    let events = [
        event(at(0, 10), 1, opened()),
        event(at(0, 12), 1, EventKind::Closed { merged: true }),
        event(
            at(0, 10),
            2,
            EventKind::Opened {
                labels: vec![],
                draft: false,
            },
        ),
    ];
    let window = Window {
        from: at(0, 0),
        to: at(1, 0),
    };
    for scenario in Scenario::ALL {
        assert_eq!(
            web_hours(scenario, &events, window).live(),
            2.0,
            "{scenario:?}"
        );
    }
}

/// Through the text format, as `--trace` reads it.
fn parse_back(events: &[TraceEvent]) -> Vec<TraceEvent> {
    parse(&to_json_lines(events)).expect("trace")
}

#[test]
fn traces_are_checked_line_by_line() {
    let opened = r#"{"at":"2026-03-02T10:00:00Z","repo":"acme/web","pr":1,"event":"opened"}"#;
    let cases = [
        ("", "no events"),
        ("{", "line 3: not a trace event"),
        (
            r#"{"at":"2026-03-02T10:00:00Z","repo":"acme/web","pr":1,"event":"pushed"}"#,
            "unknown variant `pushed`",
        ),
        (
            r#"{"at":"2026-03-02T10:00:00Z","repo":"acme","pr":1,"event":"push"}"#,
            "not a trace event",
        ),
        (
            r#"{"at":"2026-03-02T09:00:00Z","repo":"acme/web","pr":1,"event":"push"}"#,
            "acme/web#1 has a `push` event before any `opened` event",
        ),
    ];
    for (line, words) in cases {
        let text = format!("# a trace\n{opened}\n{line}\n");
        let text = if line.is_empty() { String::new() } else { text };
        let error = parse(&text).expect_err(line).to_string();
        assert!(error.contains(words), "{line}: {error}");
    }
}

#[test]
fn totals_price_each_state_and_need_every_price() {
    let mut fleet = fleet();
    let price = HourlyPrice {
        on_demand: 0.10,
        spot: 0.04,
        asleep: 0.01,
    };
    for service in &mut fleet.services {
        service.policy.price = Some(price);
    }
    let hours = Hours {
        awake_spot: 10.0,
        awake_on_demand: 5.0,
        asleep: 20.0,
        deleted_early: 7.0,
        queued: 1.0,
    };
    let ledger = Ledger::from([(name("web"), hours), (name("api"), hours)]);
    let totals = totals(&fleet, &ledger);
    let cost = totals.cost.expect("priced");
    assert!((cost - 2.0 * (0.4 + 0.5 + 0.2)).abs() < 1e-9, "{cost}");
    assert_eq!(totals.hours.live(), 70.0);
    fleet.services[1].policy.price = None;
    assert_eq!(super::totals(&fleet, &ledger).cost, None);
    assert_eq!(savings_percent(25.0, 100.0), Some(75.0));
    assert_eq!(savings_percent(1.0, 0.0), None);
}

#[test]
fn the_meter_adds_each_state_and_the_expired_and_queued() {
    let metrics = Metrics::unregistered();
    // The test clock is a Friday at noon: awake, on spot.
    let mut plan = plan_of(&[("web", vec![facts(pr(1), None)])]);
    plan.excluded.push(Exclusion {
        service: name("api"),
        number: 2,
        reason: ExclusionReason::Expired,
        pr: None,
    });
    meter::record(&metrics, &plan, 0.25);
    meter::record(&metrics, &plan, 0.25);
    meter::record(&metrics, &plan, 0.0);
    let hours = |state| {
        metrics
            .cost
            .preview_hours
            .get_or_create(&HoursLabels {
                service: "web".into(),
                state,
            })
            .get()
    };
    assert_eq!(hours("awake_spot"), 0.5);
    assert_eq!(hours("asleep"), 0.0);
    let api = ServiceLabel {
        service: "api".into(),
    };
    assert_eq!(
        metrics
            .cost
            .preview_hours_deleted_early
            .get_or_create(&api)
            .get(),
        0.5
    );
    assert_eq!(
        metrics.cost.preview_hours_queued.get_or_create(&api).get(),
        0.0
    );
}

#[test]
fn the_simulation_is_deterministic_for_a_seed() {
    let fleet = crate::demo::fleet().expect("demo fleet");
    let params = simulate::Params {
        engineers: 5,
        days: 7,
        seed: 7,
    };
    let (a, window) = simulate::simulate(&fleet, &params);
    let (b, _) = simulate::simulate(&fleet, &params);
    assert!(!a.is_empty());
    assert_eq!(to_json_lines(&a), to_json_lines(&b));
    assert_eq!(parse_back(&a), a);
    let (c, _) = simulate::simulate(&fleet, &simulate::Params { seed: 8, ..params });
    assert_ne!(a, c);
    assert!(a.iter().all(|e| e.at >= window.from && e.at < window.to));
}
