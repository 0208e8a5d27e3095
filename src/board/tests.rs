use chrono::{Duration as Span, TimeZone};

use super::*;
use crate::cost::meter::Meter;
use crate::fleet::{HourlyPrice, LinkTemplate};
use crate::lifecycle::{AppSync, Health, Phase};
use crate::plan::{Exclusion, ExclusionReason, Held, HoldReason, QuotaScope};
use crate::testing::{facts, fleet, name, now, plan_of, pr};

fn app(preview: &Preview, health: Health, phase: Option<Phase>) -> Observed {
    Observed {
        name: preview.name.clone(),
        sync: AppSync::Synced,
        revision: Some(preview.revision.clone()),
        health,
        phase,
        operation_revision: None,
        message: Some("pod web crashed".into()),
        deleting: false,
        external_urls: vec![],
    }
}

fn board_of(fleet: &Fleet, plan: &Plan, observed: Option<&[Observed]>, meter: &Meter) -> Board {
    build(&Inputs {
        fleet,
        plan,
        observed,
        meter,
        jira_url: None,
        jira_projects: &[],
        argocd_url: Some("https://argocd.example.com/applications/argocd"),
        now: now(),
    })
}

#[test]
fn a_row_follows_its_application() {
    let fleet = fleet();
    let plan = plan_of(&[("web", vec![facts(pr(1), None)])]);
    let preview = &plan.previews[0];
    let meter = Meter::default();
    let state = |observed: Option<&[Observed]>| {
        board_of(&fleet, &plan, observed, &meter).previews[0]
            .state
            .clone()
    };
    assert_eq!(state(None), RowState::Unknown, "Applications not read");
    assert_eq!(
        state(Some(&[])),
        RowState::Progressing,
        "no Application yet"
    );
    let up = [app(preview, Health::Healthy, Some(Phase::Succeeded))];
    assert_eq!(state(Some(&up)), RowState::Healthy);
    let rolling = [app(preview, Health::Progressing, Some(Phase::Running))];
    assert_eq!(state(Some(&rolling)), RowState::Progressing);
    let broken = [app(preview, Health::Degraded, Some(Phase::Succeeded))];
    assert!(
        matches!(state(Some(&broken)), RowState::Degraded { message } if message.contains("pod web crashed"))
    );
}

#[test]
fn asleep_expiring_queued_waiting_and_held_rows_say_so() {
    let fleet = fleet();
    let mut plan = plan_of(&[("web", vec![facts(pr(1), None), facts(pr(2), None)])]);
    plan.previews[0].asleep = true;
    plan.previews[0].sleep_changes_at = Some(now() + Span::hours(8));
    plan.previews[1].expires_at = Some(now() + Span::hours(3));
    plan.previews[1].expiry_warning = true;
    plan.excluded.push(Exclusion {
        service: name("web"),
        number: 3,
        reason: ExclusionReason::Queued {
            position: 1,
            scope: QuotaScope::Repo,
            limit: 2,
        },
        pr: Some(pr(3).into()),
    });
    plan.excluded.push(Exclusion {
        service: name("api"),
        number: 4,
        reason: ExclusionReason::WaitingForBuild,
        pr: Some(pr(4).into()),
    });
    plan.excluded.push(Exclusion {
        service: name("api"),
        number: 5,
        reason: ExclusionReason::Draft,
        pr: Some(pr(5).into()),
    });
    plan.excluded.push(Exclusion {
        service: name("api"),
        number: 6,
        reason: ExclusionReason::NotLabelled,
        pr: None,
    });
    plan.held.push(Held {
        service: name("web"),
        number: 7,
        reason: HoldReason::Files,
    });
    let observed: Vec<Observed> = plan
        .previews
        .iter()
        .map(|p| app(p, Health::Healthy, None))
        .collect();
    let board = board_of(&fleet, &plan, Some(&observed), &Meter::default());
    let states: Vec<(u64, &str)> = board
        .previews
        .iter()
        .map(|r| (r.number, r.state.name()))
        .collect();
    assert_eq!(
        states,
        [
            (1, "asleep"),
            (2, "expiring"),
            (3, "queued"),
            (7, "held"),
            (4, "waiting_for_build")
        ]
    );
    assert_eq!(
        board.previews[2].title, "Change 3",
        "a queued row shows its PR"
    );
    assert!(board.previews[0].state_text.starts_with("asleep until"));
    assert!(board.previews[1].state_text.contains("in 3 h 0 min"));
    let left: Vec<u64> = board.without_preview.iter().map(|l| l.number).collect();
    assert_eq!(
        left,
        [5],
        "a draft is listed with why; an unlabelled PR is not"
    );
    assert_eq!(
        (board.totals.up, board.totals.asleep, board.totals.queued),
        (2, 1, 1)
    );
}

#[test]
fn links_come_from_the_fleet_templates_or_argocd() {
    let mut fleet = fleet();
    let plan = plan_of(&[("web", vec![facts(pr(1), None)])]);
    let board = board_of(&fleet, &plan, None, &Meter::default());
    let row = &board.previews[0];
    assert_eq!(
        row.application_url.as_deref(),
        Some("https://argocd.example.com/applications/argocd/preview-web-pr-1")
    );
    assert_eq!(row.logs_url, None);
    assert!(row.pr_url.ends_with("/pull/1"), "{}", row.pr_url);
    fleet.links.logs = Some(
        LinkTemplate::parse("https://grafana.example.com/explore?ns={namespace}&repo={repo}")
            .expect("a template"),
    );
    let board = board_of(&fleet, &plan, None, &Meter::default());
    let logs = board.previews[0].logs_url.as_deref().unwrap_or_default();
    assert!(logs.contains("ns=preview-web-pr-1&repo="), "{logs}");
}

#[test]
fn rows_cost_what_the_meter_counted_at_the_fleet_prices() {
    let mut fleet = fleet();
    for service in &mut fleet.services {
        service.policy.price = Some(HourlyPrice {
            on_demand: 0.30,
            spot: 0.10,
            asleep: 0.01,
        });
    }
    let plan = plan_of(&[("web", vec![facts(pr(1), None)])]);
    let mut meter = Meter::default();
    // Ten hours over a UTC midnight, as the plan says: spot or on-demand per the test fleet.
    let from = Utc
        .with_ymd_and_hms(2026, 11, 26, 20, 0, 0)
        .single()
        .expect("time");
    meter.accrue(&plan, from, from + Span::hours(10));
    let board = board_of(&fleet, &plan, None, &meter);
    let cost = board.previews[0].cost.expect("priced");
    let hourly = if plan.previews[0].capacity == crate::plan::CapacityType::Spot {
        0.10
    } else {
        0.30
    };
    assert!((cost.so_far - 10.0 * hourly).abs() < 1e-9, "{cost:?}");
    assert!((cost.per_day_awake - 24.0 * hourly).abs() < 1e-9);
    let days: Vec<f64> = board.days.iter().rev().take(2).map(|d| d.hours).collect();
    assert_eq!(days, [6.0, 4.0], "today 6 h (to 06:00), yesterday 4 h");
    assert!((board.totals.cost_so_far.unwrap_or_default() - 10.0 * hourly).abs() < 1e-9);
    assert!((board.totals.cost_today.unwrap_or_default() - 6.0 * hourly).abs() < 1e-9);
}

#[test]
fn untrusted_text_is_escaped_on_the_page() {
    let fleet = fleet();
    let mut hostile = pr(1);
    hostile.title = "<script>alert(1)</script> & \"quotes\" <img src=x onerror=alert(2)>".into();
    hostile.author = "<b>mallory</b>".into();
    let plan = plan_of(&[("web", vec![facts(hostile, None)])]);
    let board = board_of(&fleet, &plan, None, &Meter::default());
    let filter = Filter {
        q: Some("\"><script>x</script>".into()),
        ..Filter::default()
    };
    let html = page::page(&board, &filter, &page::Choices::default()).into_string();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("<b>mallory"));
    assert!(!html.contains("\"><script>x"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
    let scripts = html.matches("<script").count();
    assert_eq!(scripts, 1, "only the page's own script tag");
}

#[test]
fn the_filter_narrows_sorts_and_stays_in_links() {
    let fleet = fleet();
    let mut alice = pr(2);
    alice.author = "alice".into();
    alice.title = "Checkout SHOP-12".into();
    let plan = plan_of(&[
        ("web", vec![facts(pr(1), None), facts(alice, None)]),
        ("api", vec![facts(pr(3), None)]),
    ]);
    let board = board_of(&fleet, &plan, None, &Meter::default());
    let numbers = |filter: Filter| -> Vec<u64> {
        filter
            .cleaned()
            .apply(board.clone())
            .previews
            .iter()
            .map(|r| r.number)
            .collect()
    };
    assert_eq!(numbers(Filter::default()), [1, 2, 3]);
    let by_service = Filter {
        service: Some("api".into()),
        ..Filter::default()
    };
    assert_eq!(numbers(by_service.clone()), [3]);
    let by_author = Filter {
        author: Some("ALICE".into()),
        ..Filter::default()
    };
    assert_eq!(numbers(by_author), [2]);
    let by_text = Filter {
        q: Some("shop-12".into()),
        ..Filter::default()
    };
    assert_eq!(numbers(by_text), [2]);
    let sorted = Filter {
        sort: Some(SortKey::Pr),
        order: Some(filter::Order::Desc),
        ..Filter::default()
    };
    assert_eq!(numbers(sorted), [3, 2, 1]);
    let link = by_service.sorted_by(SortKey::Expires);
    assert_eq!(link, "?service=api&sort=expires&order=asc");
    let weird = Filter {
        q: Some("a&b=c d".into()),
        ..Filter::default()
    };
    assert_eq!(weird.query(), "?q=a%26b%3Dc%20d");
}

#[test]
fn time_left_reads_in_days_hours_and_minutes() {
    assert_eq!(time_left(Span::minutes(7)), "7 min");
    assert_eq!(time_left(Span::minutes(310)), "5 h 10 min");
    assert_eq!(time_left(Span::hours(53)), "2 d 5 h");
    assert_eq!(time_left(Span::minutes(-3)), "now");
}

#[test]
fn a_preview_held_for_its_dependency_has_one_row() {
    let fleet = fleet();
    let mut plan = plan_of(&[("web", vec![facts(pr(1), None)])]);
    plan.held.push(Held {
        service: name("web"),
        number: 1,
        reason: HoldReason::Dependency {
            dependency: name("api"),
            number: 42,
        },
    });
    let board = board_of(&fleet, &plan, None, &Meter::default());
    assert_eq!(board.previews.len(), 1, "{:?}", board.previews);
    assert_eq!(board.previews[0].state, RowState::Unknown);
}

#[test]
fn a_held_row_links_the_fleets_address_and_keeps_its_cost() {
    let mut fleet = fleet();
    for service in &mut fleet.services {
        service.policy.price = Some(HourlyPrice {
            on_demand: 0.30,
            spot: 0.10,
            asleep: 0.0,
        });
    }
    let running = plan_of(&[("web", vec![facts(pr(7), None)])]);
    let mut meter = Meter::default();
    meter.accrue(&running, now() - Span::hours(10), now());
    let counted = meter
        .cost_of(&fleet, &running.previews[0])
        .expect("priced")
        .so_far;
    let mut plan = Plan::default();
    plan.held.push(Held {
        service: name("web"),
        number: 7,
        reason: HoldReason::Files,
    });
    // Argo CD's external URL comes from the PR's own manifests: never the board's link.
    let mut app = app(&running.previews[0], Health::Healthy, None);
    app.external_urls = vec!["https://phishing.example.net/".into()];
    let board = board_of(&fleet, &plan, Some(&[app]), &meter);
    let row = &board.previews[0];
    assert_eq!(row.state.name(), "held");
    assert_eq!(row.url.as_deref(), Some(running.previews[0].url.as_str()));
    assert_eq!(
        row.commit.as_deref(),
        Some(running.previews[0].revision.as_str())
    );
    let cost = row.cost.expect("a held preview keeps its cost");
    assert!((cost.so_far - counted).abs() < 1e-9);
}

#[test]
fn the_preview_column_sorts_by_the_fleets_service_order() {
    let fleet = fleet();
    let plan = plan_of(&[
        ("web", vec![facts(pr(9), None)]),
        ("api", vec![facts(pr(1), None)]),
    ]);
    let board = board_of(&fleet, &plan, None, &Meter::default());
    let order: Vec<&str> = board.previews.iter().map(|r| r.service.as_str()).collect();
    let by_service = Filter {
        sort: Some(SortKey::Service),
        order: Some(filter::Order::Desc),
        ..Filter::default()
    }
    .apply(board.clone());
    let reversed: Vec<&str> = by_service
        .previews
        .iter()
        .map(|r| r.service.as_str())
        .collect();
    assert_eq!(order.len(), 2);
    assert_eq!(reversed, order.iter().rev().copied().collect::<Vec<_>>());
}

#[test]
fn argo_cds_message_is_text_on_the_page() {
    let fleet = fleet();
    let plan = plan_of(&[("web", vec![facts(pr(1), None)])]);
    let mut broken = app(&plan.previews[0], Health::Degraded, None);
    broken.message = Some("<img src=x onerror=alert(1)> crashed".into());
    let board = board_of(&fleet, &plan, Some(&[broken]), &Meter::default());
    let html = page::page(&board, &Filter::default(), &page::Choices::default()).into_string();
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt; crashed"),
        "{html}"
    );
    assert!(!html.contains("<img src=x"));
}

#[test]
fn every_state_has_its_place_in_the_filter() {
    let at = now();
    let states = [
        RowState::Healthy,
        RowState::Progressing,
        RowState::Degraded {
            message: String::new(),
        },
        RowState::Asleep { until: None },
        RowState::Expiring {
            at,
            asleep_until: None,
        },
        RowState::Queued {
            position: 1,
            scope: "fleet",
            limit: 1,
        },
        RowState::WaitingForBuild,
        RowState::Held {
            reason: String::new(),
        },
        RowState::Unknown,
    ];
    let names: Vec<&str> = states.iter().map(RowState::name).collect();
    let listed: Vec<&str> = RowState::ALL.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, listed);
}
