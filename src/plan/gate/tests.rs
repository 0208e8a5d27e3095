use std::collections::BTreeMap;

use super::*;
use crate::plan::{Plan, PlanInput, plan, plan_with_builds};
use crate::pull_request::ConfigFile;
use crate::testing::{facts, fleet, key, name, now, pr, sha};

const CHECK: &str = "preview-ready";

/// `billing` waits for `preview-ready`; `web` and `api` are not gated.
fn gated_fleet() -> crate::fleet::Fleet {
    let mut fleet = fleet();
    fleet.services[2].policy.build_check = Some(CHECK.into());
    fleet
}

fn plan_billing(pulls: Vec<PullFacts>, builds: &Builds) -> Plan {
    let fleet = gated_fleet();
    let input = PlanInput {
        fleet: &fleet,
        services: BTreeMap::from([(name("billing"), pulls.as_slice())]),
        now: now(),
    };
    plan_with_builds(&input, builds)
}

fn builds(number: u64, head: Option<BuildStatus>, fallback: Option<u64>) -> Builds {
    let fallback = fallback.map(|seed| BuiltCommit {
        sha: sha(seed),
        facts: HeadFacts {
            config: ConfigFile::Present("ttl: 5d\n".into()),
            seed_tree_sha: Some(sha(7_000 + seed)),
        },
    });
    let fallback_known = true;
    let facts = BuildFacts {
        head,
        fallback,
        fallback_known,
    };
    BTreeMap::from([(key("billing", number), facts)])
}

fn failed(conclusion: &str) -> BuildStatus {
    BuildStatus::Failed {
        conclusion: conclusion.into(),
    }
}

/// `(number, revision)` of every preview, and `(number, reason)` of every exclusion.
type Outcome = (Vec<(u64, String)>, Vec<(u64, ExclusionReason)>);

fn outcome(plan: &Plan) -> Outcome {
    (
        plan.previews
            .iter()
            .map(|p| (p.pr.number, p.revision.clone()))
            .collect(),
        plan.excluded.iter().map(|e| (e.number, e.reason)).collect(),
    )
}

#[test]
fn the_head_is_deployed_once_its_build_succeeded() {
    let plan = plan_billing(
        vec![facts(pr(8), None)],
        &builds(8, Some(BuildStatus::Succeeded), None),
    );
    assert_eq!(outcome(&plan), (vec![(8, sha(8))], vec![]));
    assert!(plan.previews[0].diagnostics.is_empty());
}

#[test]
fn a_pr_never_built_waits_whatever_its_head_says() {
    #[rustfmt::skip]
    let cases: &[(Option<BuildStatus>, ExclusionReason)] = &[
        (Some(BuildStatus::Pending), ExclusionReason::WaitingForBuild),
        (Some(failed("failure")), ExclusionReason::WaitingForBuild),
        (Some(failed("skipped")), ExclusionReason::WaitingForBuild),
        // The head's status is not read: nothing is known yet.
        (None, ExclusionReason::BuildUnknown),
        // Built, but its files are not read yet: the ordinary wait.
        (Some(BuildStatus::Succeeded), ExclusionReason::Pending),
    ];
    for (status, reason) in cases {
        let mut unread = facts(pr(9), None);
        if *status == Some(BuildStatus::Succeeded) {
            unread.head = None;
        }
        let plan = plan_billing(vec![unread], &builds(9, status.clone(), None));
        assert_eq!(outcome(&plan), (vec![], vec![(9, *reason)]), "{status:?}");
    }
}

#[test]
fn a_new_push_keeps_the_last_built_commit_with_its_own_files() {
    let plan = plan_billing(
        vec![facts(pr(8), Some("ttl: 1d\n"))],
        &builds(8, Some(BuildStatus::Pending), Some(7)),
    );
    assert_eq!(outcome(&plan), (vec![(8, sha(7))], vec![]));
    let preview = &plan.previews[0];
    assert_eq!(
        preview.pr.head_sha,
        sha(8),
        "the PR as listed: title, labels"
    );
    assert_eq!(
        preview.ttl,
        std::time::Duration::from_secs(5 * 86_400),
        "config at the built commit"
    );
    assert_eq!(
        preview.seed_tag(),
        Some(sha(7_007).as_str()),
        "seed at the built commit"
    );
    assert_eq!(
        preview.diagnostics,
        [Diagnostic::BuildPending {
            sha: sha(8),
            check: CHECK.into()
        }]
    );
    assert!(preview.diagnostics[0].message().contains("still building"));
}

#[test]
fn a_failed_build_keeps_the_last_built_commit_and_says_why() {
    let plan = plan_billing(
        vec![facts(pr(8), None)],
        &builds(8, Some(failed("timed_out")), Some(7)),
    );
    assert_eq!(outcome(&plan), (vec![(8, sha(7))], vec![]));
    let diagnostic = &plan.previews[0].diagnostics[0];
    assert_eq!(
        *diagnostic,
        Diagnostic::BuildFailed {
            sha: sha(8),
            check: CHECK.into(),
            conclusion: "timed_out".into()
        }
    );
    let message = diagnostic.message();
    assert!(
        message.contains("`timed_out`") && message.contains(&sha(8)[..8]),
        "{message}"
    );
}

#[test]
fn an_unreadable_build_status_keeps_the_last_built_commit() {
    let plan = plan_billing(vec![facts(pr(8), None)], &builds(8, None, Some(7)));
    assert_eq!(outcome(&plan), (vec![(8, sha(7))], vec![]));
}

#[test]
fn ungated_services_and_ineligible_prs_are_as_before() {
    let fleet = gated_fleet();
    let mut draft = pr(3);
    draft.draft = true;
    let web = [facts(pr(1), None)];
    let billing = [facts(draft, None)];
    let input = PlanInput {
        fleet: &fleet,
        services: BTreeMap::from([(name("web"), &web[..]), (name("billing"), &billing[..])]),
        now: now(),
    };
    let plan = plan(&input);
    assert_eq!(
        outcome(&plan),
        (vec![(1, sha(1))], vec![(3, ExclusionReason::Draft)])
    );
}

#[test]
fn without_build_facts_a_gated_service_deploys_nothing() {
    let fleet = gated_fleet();
    let billing = [facts(pr(8), None)];
    let input = PlanInput {
        fleet: &fleet,
        services: BTreeMap::from([(name("billing"), &billing[..])]),
        now: now(),
    };
    assert_eq!(
        outcome(&plan(&input)),
        (vec![], vec![(8, ExclusionReason::BuildUnknown)])
    );
}

#[test]
fn a_pr_whose_earlier_commits_are_not_searched_yet_is_not_known_unbuilt() {
    // After a restart: the head is building, and the PR's earlier commits have not been looked
    // through (or the built one's files are not read): a built commit may exist.
    let mut unsearched = builds(8, Some(BuildStatus::Pending), None);
    for facts in unsearched.values_mut() {
        facts.fallback_known = false;
    }
    let plan = plan_billing(vec![facts(pr(8), None)], &unsearched);
    assert_eq!(
        outcome(&plan),
        (vec![], vec![(8, ExclusionReason::BuildUnknown)])
    );
    assert!(!ExclusionReason::BuildUnknown.is_evidence());
    // A PR that may hold a preview is held instead of left out.
    let mut live = facts(pr(8), None);
    live.live = true;
    let plan = plan_billing(vec![live], &unsearched);
    assert_eq!(outcome(&plan), (vec![], vec![]));
    assert_eq!(
        plan.held,
        [crate::plan::Held {
            service: name("billing"),
            number: 8,
            reason: crate::plan::HoldReason::Build,
        }]
    );
    // Searched, nothing built: that is GitHub's answer, and a live PR leaves for it.
    let mut live = facts(pr(8), None);
    live.live = true;
    let plan = plan_billing(vec![live], &builds(8, Some(BuildStatus::Pending), None));
    assert_eq!(
        outcome(&plan),
        (vec![], vec![(8, ExclusionReason::WaitingForBuild)])
    );
    assert!(plan.held.is_empty());
}
