use std::collections::BTreeMap;

use chrono::Duration as Span;

use super::QuotaScope;
use crate::fleet::Quota;
use crate::plan::{ExclusionReason, Plan, PlanInput, PullFacts, plan};
use crate::pull_request::Activity;
use crate::testing::{facts, fleet, name, now, pr};

/// PR `number` of `web`, labelled `hours_ago`, `live` or not, with `labels` added.
fn web_pr(number: u64, labelled_hours_ago: i64, live: bool, labels: &[&str]) -> PullFacts {
    let mut p = pr(number);
    p.labels.extend(labels.iter().map(|l| (*l).to_owned()));
    let mut f = facts(p, None);
    f.live = live;
    f.activity = Some(Activity {
        last: Some(now()),
        labelled_at: Some(now() - Span::hours(labelled_hours_ago)),
        commands: vec![],
        read_at: now(),
    });
    f
}

fn plan_with(quota: Quota, web: Vec<PullFacts>, api: Vec<PullFacts>) -> Plan {
    let mut fleet = fleet();
    fleet.quota = quota;
    let services: BTreeMap<_, _> = [(name("web"), web.as_slice()), (name("api"), api.as_slice())]
        .into_iter()
        .collect();
    plan(&PlanInput {
        fleet: &fleet,
        services,
        now: now(),
    })
}

fn numbers(plan: &Plan, service: &str) -> Vec<u64> {
    plan.previews
        .iter()
        .filter(|p| p.service == name(service))
        .map(|p| p.pr.number)
        .collect()
}

fn queued(plan: &Plan) -> Vec<(String, u64, u32, QuotaScope)> {
    plan.excluded
        .iter()
        .filter_map(|e| match e.reason {
            ExclusionReason::Queued {
                position, scope, ..
            } => Some((e.service.to_string(), e.number, position, scope)),
            _ => None,
        })
        .collect()
}

#[test]
fn no_quota_admits_everyone() {
    let plan = plan_with(
        Quota::default(),
        (1..=5).map(|n| web_pr(n, 1, false, &[])).collect(),
        vec![],
    );
    assert_eq!(numbers(&plan, "web"), [1, 2, 3, 4, 5]);
}

#[test]
fn beyond_the_fleet_quota_new_previews_wait_in_order_of_labelling() {
    let quota = Quota {
        max_previews: Some(2),
        max_previews_per_repo: None,
    };
    // Labelled 1 h, 5 h, 3 h and 2 h ago: 2 and 3 were first.
    let web = vec![
        web_pr(1, 1, false, &[]),
        web_pr(2, 5, false, &[]),
        web_pr(3, 3, false, &[]),
        web_pr(4, 2, false, &[]),
    ];
    let plan = plan_with(quota, web, vec![]);
    assert_eq!(numbers(&plan, "web"), [2, 3]);
    assert_eq!(
        queued(&plan),
        [
            ("web".into(), 1, 2, QuotaScope::Fleet),
            ("web".into(), 4, 1, QuotaScope::Fleet)
        ]
    );
}

#[test]
fn live_previews_keep_their_place_and_priority_jumps_the_queue() {
    let quota = Quota {
        max_previews: Some(2),
        max_previews_per_repo: None,
    };
    let web = vec![
        web_pr(1, 1, true, &[]),                    // live, labelled last
        web_pr(2, 9, false, &[]),                   // labelled first, waiting
        web_pr(3, 2, false, &["preview-priority"]), // priority
        web_pr(4, 8, true, &[]),                    // live
    ];
    let plan = plan_with(quota, web, vec![]);
    assert_eq!(
        numbers(&plan, "web"),
        [1, 4],
        "a full quota never deletes a live preview"
    );
    assert_eq!(
        queued(&plan),
        [
            ("web".into(), 2, 2, QuotaScope::Fleet),
            ("web".into(), 3, 1, QuotaScope::Fleet)
        ]
    );
    // One live preview goes (PR 1 closed): the priority PR is next.
    let web = vec![
        web_pr(2, 9, false, &[]),
        web_pr(3, 2, false, &["preview-priority"]),
        web_pr(4, 8, true, &[]),
    ];
    let plan = plan_with(quota, web, vec![]);
    assert_eq!(numbers(&plan, "web"), [3, 4]);
}

#[test]
fn the_repo_quota_holds_per_repository() {
    let quota = Quota {
        max_previews: Some(10),
        max_previews_per_repo: Some(1),
    };
    let api_pr = |n| {
        let mut f = web_pr(n, 1, false, &[]);
        std::sync::Arc::make_mut(&mut f.pr).number = n;
        f
    };
    let plan = plan_with(
        quota,
        vec![web_pr(1, 2, false, &[]), web_pr(2, 1, false, &[])],
        vec![api_pr(7), api_pr(8)],
    );
    assert_eq!(numbers(&plan, "web"), [1]);
    assert_eq!(numbers(&plan, "api"), [7]);
    assert_eq!(
        queued(&plan),
        [
            ("web".into(), 2, 1, QuotaScope::Repo),
            ("api".into(), 8, 1, QuotaScope::Repo)
        ]
    );
    let text = plan.excluded[0].reason.describe();
    assert!(
        text.contains("number 1 in line") && text.contains("at most 1"),
        "{text}"
    );
}

#[test]
fn an_expired_preview_frees_its_place_and_says_why() {
    let quota = Quota {
        max_previews: Some(1),
        max_previews_per_repo: None,
    };
    let mut idle = web_pr(1, 100, true, &[]);
    if let Some(a) = idle.activity.as_mut() {
        a.last = Some(now() - Span::hours(80));
    }
    let plan = plan_with(quota, vec![idle, web_pr(2, 1, false, &[])], vec![]);
    assert_eq!(numbers(&plan, "web"), [2]);
    assert_eq!(plan.excluded[0].reason, ExclusionReason::Expired);
}

#[test]
fn live_previews_beyond_a_lowered_limit_or_after_a_restart_are_never_queued() {
    // Three previews alive (a restart counts every open PR of a service not served yet as
    // alive), a limit of two: all three stay, and a new one waits.
    let quota = Quota {
        max_previews: Some(2),
        max_previews_per_repo: None,
    };
    let web = vec![
        web_pr(1, 3, true, &[]),
        web_pr(2, 2, true, &[]),
        web_pr(3, 1, true, &[]),
        web_pr(4, 9, false, &["preview-priority"]),
    ];
    let plan = plan_with(quota, web, vec![]);
    assert_eq!(numbers(&plan, "web"), [1, 2, 3]);
    assert_eq!(queued(&plan), [("web".into(), 4, 1, QuotaScope::Fleet)]);
}

#[test]
fn a_held_preview_keeps_its_slot() {
    // Two slots: PR 1 runs (live), PR 2 may run too but cannot be read (held); PR 3 is new.
    let quota = Quota {
        max_previews: Some(2),
        max_previews_per_repo: None,
    };
    let mut held = web_pr(2, 5, true, &[]);
    held.head = None;
    let plan = plan_with(
        quota,
        vec![web_pr(1, 9, true, &[]), held, web_pr(3, 1, false, &[])],
        vec![],
    );
    assert_eq!(numbers(&plan, "web"), [1]);
    assert_eq!(plan.held.len(), 1);
    assert_eq!(
        queued(&plan),
        [("web".to_owned(), 3, 1, QuotaScope::Fleet)],
        "PR 3 waits for a slot, not for PR 2's"
    );
}
