use std::collections::BTreeMap;

use super::*;
use crate::plan::DependencyRoute;
use crate::pull_request::ConfigFile;
use crate::repo_config::DependencyTarget;
use crate::testing::{facts, fleet, name, now, plan_of, pr};

fn find<'a>(plan: &'a Plan, service: &str, number: u64) -> &'a Preview {
    plan.previews
        .iter()
        .find(|p| p.service.as_str() == service && p.pr.number == number)
        .expect("preview planned")
}

#[test]
fn labelled_pr_gets_a_preview_named_for_service_and_number() {
    let plan = plan_of(&[("web", vec![facts(pr(42), None)])]);
    let preview = find(&plan, "web", 42);
    assert_eq!(preview.name, "preview-web-pr-42");
    assert_eq!(preview.host, "web-pr-42.preview.example.com");
    assert_eq!(preview.url, "https://web-pr-42.preview.example.com");
    assert_eq!(
        preview.internal_url,
        "http://web.preview-web-pr-42.svc.cluster.local"
    );
    assert_eq!(preview.revision, pr(42).head_sha);
    assert_eq!(preview.capacity, CapacityType::Spot);
    assert_eq!(preview.config.source, ConfigSource::Missing);
    assert!(preview.diagnostics.is_empty(), "{:?}", preview.diagnostics);
}

#[test]
fn unlabelled_draft_and_fork_prs_are_left_out_with_the_reason() {
    let mut unlabelled = pr(1);
    unlabelled.labels.clear();
    let mut draft = pr(2);
    draft.draft = true;
    let mut fork = pr(3);
    fork.from_fork = true;
    let plan = plan_of(&[(
        "web",
        vec![
            facts(unlabelled, None),
            facts(draft, None),
            facts(fork, None),
        ],
    )]);
    assert!(plan.previews.is_empty());
    let reasons: Vec<_> = plan.excluded.iter().map(|e| (e.number, e.reason)).collect();
    assert_eq!(
        reasons,
        [
            (1, ExclusionReason::NotLabelled),
            (2, ExclusionReason::Draft),
            (3, ExclusionReason::Fork)
        ]
    );
}

#[test]
fn drafts_and_forks_are_previewed_when_the_policy_allows() {
    let mut policy = crate::testing::policy();
    policy.drafts = true;
    policy.forks = true;
    let mut draft_fork = pr(2);
    draft_fork.draft = true;
    draft_fork.from_fork = true;
    assert_eq!(eligibility(&draft_fork, &policy), Ok(()));
}

#[test]
fn labels_match_whatever_their_case() {
    let mut labelled = pr(5);
    labelled.labels = vec!["bug".into(), "PREVIEW".into()];
    let plan = plan_of(&[("web", vec![facts(labelled, None)])]);
    assert_eq!(plan.previews.len(), 1);
}

#[test]
fn names_ignore_hostile_branch_names_and_titles() {
    let mut evil = pr(7);
    evil.branch = "../../etc/passwd\n{{ .secret }}; rm -rf / ".repeat(10);
    evil.title = "\"}]} injected: true".into();
    let plan = plan_of(&[("web", vec![facts(evil, None)])]);
    let preview = find(&plan, "web", 7);
    assert_eq!(preview.name, "preview-web-pr-7");
    assert!(crate::naming::is_dns_name(&preview.host));
}

#[test]
fn a_service_never_listed_is_not_planned() {
    let plan = plan_of(&[("api", vec![facts(pr(1), None)])]);
    assert!(plan.previews.iter().all(|p| p.service.as_str() == "api"));
}

#[test]
fn dependencies_default_to_staging() {
    let plan = plan_of(&[("web", vec![facts(pr(1), None)])]);
    let preview = find(&plan, "web", 1);
    let routes: Vec<_> = preview
        .dependencies
        .iter()
        .map(|d| {
            (
                d.service.as_str(),
                d.route,
                d.url.as_str(),
                d.internal_url.as_str(),
            )
        })
        .collect();
    assert_eq!(
        routes,
        [
            (
                "api",
                DependencyRoute::Staging,
                "https://api.staging.example.com",
                "http://api.staging.svc.cluster.local:8000"
            ),
            (
                "billing",
                DependencyRoute::Staging,
                "https://billing.staging.example.com",
                "http://billing.staging.svc.cluster.local:8000"
            ),
        ]
    );
}

#[test]
fn a_dependency_points_at_an_existing_pr_preview_when_asked() {
    let plan = plan_of(&[
        (
            "web",
            vec![facts(pr(1), Some("dependencies:\n  api: pr-42\n"))],
        ),
        ("api", vec![facts(pr(42), None)]),
    ]);
    let preview = find(&plan, "web", 1);
    let api = &preview.dependencies[0];
    assert_eq!(api.requested, DependencyTarget::PullRequest(42));
    assert_eq!(api.route, DependencyRoute::Preview { number: 42 });
    assert_eq!(api.url, "https://api-pr-42.preview.example.com");
    assert_eq!(
        api.internal_url,
        "http://api.preview-api-pr-42.svc.cluster.local:8000"
    );
    assert!(preview.diagnostics.is_empty(), "{:?}", preview.diagnostics);
    // The API preview knows who calls it (its NetworkPolicy admits them); staging routes and
    // unrelated previews are no dependants.
    assert_eq!(find(&plan, "api", 42).dependants, ["preview-web-pr-1"]);
    assert!(preview.dependants.is_empty());
}

#[test]
fn a_missing_pr_preview_falls_back_to_staging_with_a_diagnostic() {
    let mut draft = pr(42);
    draft.draft = true;
    let plan = plan_of(&[
        (
            "web",
            vec![facts(pr(1), Some("dependencies:\n  api: pr-42\n"))],
        ),
        ("api", vec![facts(draft, None)]),
    ]);
    let preview = find(&plan, "web", 1);
    assert_eq!(preview.dependencies[0].route, DependencyRoute::Staging);
    assert_eq!(
        preview.diagnostics,
        [Diagnostic::DependencyPreviewMissing {
            dependency: name("api"),
            number: 42
        }]
    );
}

#[test]
fn an_invalid_config_keeps_the_last_valid_one() {
    let mut facts = facts(pr(1), Some("spot: maybe\n"));
    facts.last_valid_config = Some(crate::repo_config::RepoConfig {
        spot: Some(false),
        ..Default::default()
    });
    let plan = plan_of(&[("web", vec![facts])]);
    let preview = find(&plan, "web", 1);
    assert_eq!(preview.config.source, ConfigSource::LastValid);
    assert_eq!(preview.capacity, CapacityType::OnDemand);
    assert!(matches!(
        preview.diagnostics.as_slice(),
        [Diagnostic::ConfigInvalid { fallback: ConfigSource::LastValid, errors }] if !errors.is_empty()
    ));
}

#[test]
fn an_invalid_config_without_history_uses_the_defaults() {
    let plan = plan_of(&[("web", vec![facts(pr(1), Some("tll: 3d\n"))])]);
    let preview = find(&plan, "web", 1);
    assert_eq!(preview.config.source, ConfigSource::Defaults);
    assert_eq!(preview.ttl, crate::testing::policy().ttl);
    assert_eq!(preview.capacity, CapacityType::Spot);
}

#[test]
fn an_unreadable_config_is_reported() {
    let mut f = facts(pr(1), None);
    if let Some(head) = f.head.as_mut() {
        head.config = ConfigFile::Unreadable("a directory".into());
    }
    let plan = plan_of(&[("web", vec![f])]);
    let preview = find(&plan, "web", 1);
    assert_eq!(preview.config.source, ConfigSource::Defaults);
    assert!(matches!(
        preview.diagnostics[0],
        Diagnostic::ConfigUnreadable { .. }
    ));
}

#[test]
fn the_repo_config_sets_ttl_and_opts_out_of_spot() {
    let plan = plan_of(&[("web", vec![facts(pr(1), Some("ttl: 5d\nspot: false\n"))])]);
    let preview = find(&plan, "web", 1);
    assert_eq!(preview.config.source, ConfigSource::File);
    assert_eq!(preview.ttl, std::time::Duration::from_secs(5 * 86400));
    assert_eq!(preview.capacity, CapacityType::OnDemand);
}

#[test]
fn spot_true_in_the_repo_cannot_force_spot_on() {
    let mut fleet = fleet();
    fleet.services[0].policy.spot = false;
    let facts = [facts(pr(1), Some("spot: true\n"))];
    let input = PlanInput {
        fleet: &fleet,
        services: BTreeMap::from([(name("web"), &facts[..])]),
        now: now(),
    };
    assert_eq!(plan(&input).previews[0].capacity, CapacityType::OnDemand);
}

#[test]
fn the_seed_image_is_tagged_with_the_seed_tree_and_a_missing_path_is_reported() {
    let mut missing = facts(pr(2), None);
    if let Some(head) = missing.head.as_mut() {
        head.seed_tree_sha = None;
    }
    let plan = plan_of(&[("api", vec![facts(pr(1), None), missing])]);
    let with_seed = find(&plan, "api", 1);
    assert_eq!(
        with_seed.seed_image.as_deref(),
        Some(
            format!(
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api-seed:{}",
                crate::testing::sha(1_000_001)
            )
            .as_str()
        )
    );
    let without = find(&plan, "api", 2);
    assert_eq!(without.seed_image, None);
    assert_eq!(
        without.diagnostics,
        [Diagnostic::SeedPathMissing {
            path: "db/seed".into()
        }]
    );
}

#[test]
fn plans_are_ordered_by_fleet_service_then_number() {
    let plan = plan_of(&[
        ("billing", vec![facts(pr(3), None)]),
        ("web", vec![facts(pr(9), None), facts(pr(2), None)]),
    ]);
    let order: Vec<_> = plan
        .previews
        .iter()
        .map(|p| (p.service.as_str(), p.pr.number))
        .collect();
    assert_eq!(order, [("web", 2), ("web", 9), ("billing", 3)]);
}

#[test]
fn outside_working_hours_every_workload_renders_with_zero_replicas_until_woken() {
    use crate::params::{Mode, render};
    use crate::pull_request::Command;
    let fleet = fleet();
    // Friday 2026-11-27 21:00 UTC: after the working day (08:00–20:00 UTC).
    let evening = now() + chrono::Duration::hours(9);
    let mut api = facts(pr(1), None);
    api.activity = Some(crate::pull_request::Activity {
        last: Some(evening),
        labelled_at: None,
        commands: vec![],
        read_at: evening,
    });
    let plan_at = |facts: &[PullFacts], at| {
        plan(&PlanInput {
            fleet: &fleet,
            services: BTreeMap::from([(name("api"), facts)]),
            now: at,
        })
    };
    let asleep = plan_at(std::slice::from_ref(&api), evening);
    let preview = &asleep.previews[0];
    assert!(preview.asleep);
    let set = render(preview, &fleet, Mode::Full);
    assert_eq!(set["replicas"], "0");
    assert_eq!(set["database_replicas"], "0", "the databases sleep too");
    // Monday 08:00 UTC is the next change (the expiry warning starts Monday 09:00).
    assert_eq!(
        asleep.next_change,
        Some(now() + chrono::Duration::hours(68))
    );

    // `/preview wake` at 21:00: awake for four hours.
    if let Some(a) = api.activity.as_mut() {
        a.commands.push(crate::pull_request::TimedCommand {
            command: Command::Wake,
            at: evening,
        });
    }
    let woken = plan_at(std::slice::from_ref(&api), evening);
    let set = render(&woken.previews[0], &fleet, Mode::Full);
    assert_eq!(
        (set["replicas"].as_str(), set["database_replicas"].as_str()),
        (Some("1"), Some("1"))
    );
    assert_eq!(
        woken.next_change,
        Some(evening + chrono::Duration::hours(4))
    );

    // Inside working hours: awake, with one replica each.
    let day = plan_at(std::slice::from_ref(&api), now());
    assert!(!day.previews[0].asleep);
    assert_eq!(
        render(&day.previews[0], &fleet, Mode::Full)["replicas"],
        "1"
    );
}
