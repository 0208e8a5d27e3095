use std::collections::BTreeMap;

use crate::plan::PullFacts;
use crate::pull_request::PullRequest;

mod held;

use super::*;
use crate::plan::{PlanInput, plan};
use crate::testing::{facts, fleet, name, now, pr};

fn snapshot(synced: &[&str]) -> Snapshot {
    let fleet = Arc::new(fleet());
    let web = [facts(pr(1), None), facts(pr(2), None)];
    let services: BTreeMap<_, _> = synced.iter().map(|s| (name(s), &web[..])).collect();
    let plan = plan(&PlanInput {
        fleet: &fleet,
        services,
        now: now(),
    });
    Snapshot::build(
        fleet,
        plan,
        synced.iter().map(|s| name(s)).collect(),
        1,
        None,
    )
}

fn sets(body: &Bytes) -> Vec<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_slice(body).expect("json");
    value["output"]["parameters"]
        .as_array()
        .cloned()
        .expect("list")
}

/// A snapshot of every service with these PRs open (the same PRs in each repo), built on
/// `previous`.
fn every_service(prs: &[PullRequest], previous: Option<&Snapshot>) -> Snapshot {
    let fleet = Arc::new(fleet());
    let facts: Vec<_> = prs.iter().map(|p| facts(p.clone(), None)).collect();
    let all = ["web", "api", "billing"];
    let plan = plan(&PlanInput {
        fleet: &fleet,
        services: all.iter().map(|s| (name(s), &facts[..])).collect(),
        now: now(),
    });
    let generation = previous.map_or(1, |p| p.generation() + 1);
    let synced = all.iter().map(|s| name(s)).collect();
    Snapshot::build(fleet, plan, synced, generation, previous)
}

fn pushed(number: u64, seed: u64) -> PullRequest {
    let mut pr = pr(number);
    pr.head_sha = crate::testing::sha(seed);
    pr
}

fn service_body<'a>(snapshot: &'a Snapshot, service: &str) -> &'a Bytes {
    snapshot.services.get(&name(service)).expect("answered")
}

/// Every answer of `snapshot`: all services, each service, each PR in matrix mode.
fn every_answer(snapshot: &Snapshot) -> Vec<Result<Bytes, AnswerError>> {
    let mut queries = vec![Query::All];
    for service in ["web", "api", "billing", "nope"] {
        queries.push(Query::Service(service.into()));
        queries.extend((0..6).map(|number| Query::Matrix {
            service: service.into(),
            number,
            branch: None,
        }));
    }
    queries.iter().map(|q| snapshot.answer(q)).collect()
}

#[test]
fn unchanged_previews_are_not_rendered_again() {
    let mut first = snapshot(&["web"]);
    // A stand-in for PR 1's set: only a reuse can put it in the next answer.
    first.sets[0] = Bytes::from_static(br#"{"reused":true}"#);
    let fleet = Arc::new(fleet());
    let mut changed = pr(2);
    changed.head_sha = crate::testing::sha(2002);
    let web = [facts(pr(1), None), facts(changed, None)];
    let plan = plan(&PlanInput {
        fleet: &fleet,
        services: BTreeMap::from([(name("web"), &web[..])]),
        now: now(),
    });
    let second = Snapshot::build(fleet, plan, [name("web")].into(), 2, Some(&first));
    let sets = sets(service_body(&second, "web"));
    assert_eq!(sets[0], serde_json::json!({"reused": true}), "PR 1 reused");
    assert_eq!(
        sets[1]["revision"],
        crate::testing::sha(2002),
        "PR 2 rendered"
    );
}

#[test]
fn each_set_is_a_slice_of_its_service_answer() {
    let snapshot = every_service(&[pr(1), pr(2)], None);
    for (preview, set) in snapshot.plan.previews.iter().zip(&snapshot.sets) {
        let body = service_body(&snapshot, preview.service.as_str());
        let start = set.as_ptr() as usize - body.as_ptr() as usize;
        assert!(start + set.len() <= body.len(), "{}", preview.name);
        let whole: serde_json::Value = serde_json::from_slice(set).expect("json");
        assert_eq!(whole["name"], preview.name.as_str());
    }
}

#[test]
fn a_service_whose_previews_did_not_change_keeps_its_answer() {
    let first = every_service(&[pr(1), pr(2)], None);
    let same = every_service(&[pr(1), pr(2)], Some(&first));
    for service in ["web", "api", "billing"] {
        let (before, after) = (service_body(&first, service), service_body(&same, service));
        assert_eq!(before.as_ptr(), after.as_ptr(), "{service} shared");
    }
    // Every repo here has the same PRs: closing PR 1 changes every service.
    let fewer = every_service(&[pr(2)], Some(&same));
    for service in ["web", "api", "billing"] {
        let (before, after) = (service_body(&same, service), service_body(&fewer, service));
        assert_ne!(before.as_ptr(), after.as_ptr(), "{service} rebuilt");
    }
}

#[test]
fn only_the_changed_service_gets_a_new_answer() {
    let fleet = Arc::new(fleet());
    let build = |billing: &[PullFacts], previous: Option<&Snapshot>| {
        let others = [facts(pr(1), None)];
        let services = BTreeMap::from([
            (name("web"), &others[..]),
            (name("api"), &others[..]),
            (name("billing"), billing),
        ]);
        let plan = plan(&PlanInput {
            fleet: &fleet,
            services,
            now: now(),
        });
        let synced = services_of(&["web", "api", "billing"]);
        Snapshot::build(Arc::clone(&fleet), plan, synced, 1, previous)
    };
    let first = build(&[facts(pr(7), None)], None);
    let second = build(&[facts(pushed(7, 7007), None)], Some(&first));
    // billing's PR 7 has no web or api preview to point at: only billing's answer changes.
    assert_eq!(second.changed_services(&first), [name("billing")]);
    for service in ["web", "api"] {
        let (before, after) = (
            service_body(&first, service),
            service_body(&second, service),
        );
        assert_eq!(before.as_ptr(), after.as_ptr(), "{service} shared");
    }
    assert_eq!(
        second.answer(&Query::All),
        scratch(&second).answer(&Query::All)
    );
}

fn services_of(names: &[&str]) -> BTreeSet<ServiceName> {
    names.iter().map(|s| name(s)).collect()
}

/// The same plan built without a previous snapshot.
fn scratch(snapshot: &Snapshot) -> Snapshot {
    Snapshot::build(
        Arc::clone(&snapshot.fleet),
        Plan::clone(&snapshot.plan),
        snapshot.synced.clone(),
        snapshot.generation,
        None,
    )
}

#[test]
fn incremental_answers_are_those_of_a_build_from_scratch() {
    let steps: [&[PullRequest]; 6] = [
        &[pr(1), pr(2)],
        &[pr(1), pr(2), pr(3)],
        &[pr(1), pushed(2, 2002), pr(3)],
        &[pushed(2, 2002), pr(3)],
        &[],
        &[pr(5), pr(1)],
    ];
    let mut previous: Option<Snapshot> = None;
    for (step, prs) in steps.iter().enumerate() {
        let next = every_service(prs, previous.as_ref());
        assert_eq!(
            every_answer(&next),
            every_answer(&scratch(&next)),
            "step {step}"
        );
        if let Some(previous) = &previous {
            assert_eq!(
                next.changed_services(previous).is_empty(),
                every_answer(&next) == every_answer(previous),
                "step {step}"
            );
        }
        previous = Some(next);
    }
}

#[test]
fn the_all_services_answer_lists_every_set_in_fleet_order() {
    // billing has no previews: no stray comma where its sets would be.
    let fleet = Arc::new(fleet());
    let (web, api) = (
        [facts(pr(1), None), facts(pr(2), None)],
        [facts(pr(3), None)],
    );
    let plan = plan(&PlanInput {
        fleet: &fleet,
        services: BTreeMap::from([
            (name("web"), &web[..]),
            (name("api"), &api[..]),
            (name("billing"), &[][..]),
        ]),
        now: now(),
    });
    let snapshot = Snapshot::build(
        fleet,
        plan,
        services_of(&["web", "api", "billing"]),
        1,
        None,
    );
    let chunks = snapshot.answer_chunks(&Query::All).expect("complete");
    let body = chunks.to_bytes();
    assert_eq!(chunks.len(), body.len());
    let mut expected = Vec::new();
    for service in ["web", "api", "billing"] {
        let one = snapshot
            .answer(&Query::Service(service.into()))
            .expect("synced");
        expected.extend(sets(&one));
    }
    let names: Vec<_> = sets(&body).iter().map(|s| s["name"].clone()).collect();
    assert_eq!(
        names,
        ["preview-web-pr-1", "preview-web-pr-2", "preview-api-pr-3"]
    );
    assert_eq!(sets(&body), expected);
}

#[test]
fn nothing_is_answered_before_the_first_sync() {
    let snapshot = Snapshot::unsynced(Arc::new(fleet()));
    assert!(matches!(
        snapshot.answer(&Query::All),
        Err(AnswerError::NotSynced { .. })
    ));
    assert!(matches!(
        snapshot.answer(&Query::Service("web".into())),
        Err(AnswerError::NotSynced { .. })
    ));
}

#[test]
fn all_services_wait_for_every_service_but_one_service_does_not() {
    let snapshot = snapshot(&["billing"]);
    assert_eq!(
        snapshot.answer(&Query::All),
        Err(AnswerError::NotSynced {
            services: vec!["web".into(), "api".into()],
            github: vec![],
        })
    );
    let body = snapshot
        .answer(&Query::Service("billing".into()))
        .expect("billing synced");
    assert_eq!(sets(&body).len(), 2);
}

#[test]
fn a_service_waits_for_the_services_it_depends_on() {
    // Until api's previews are known, `api: pr-N` cannot be told apart from a missing
    // preview: answering would wire web to staging and roll its pods for nothing.
    let snapshot = snapshot(&["web", "billing"]);
    assert_eq!(
        snapshot.answer(&Query::Service("web".into())),
        Err(AnswerError::NotSynced {
            services: vec!["api".into()],
            github: vec![],
        })
    );
    assert!(snapshot.answer(&Query::Service("billing".into())).is_ok());
}

#[test]
fn a_synced_service_without_previews_answers_an_empty_list() {
    let snapshot = snapshot(&["web", "api", "billing"]);
    assert_eq!(
        sets(&snapshot.answer(&Query::All).expect("complete")).len(),
        6
    );
    let fleet = Arc::new(fleet());
    let empty = Snapshot::build(
        fleet,
        Plan::default(),
        ["web", "api", "billing"].iter().map(|s| name(s)).collect(),
        2,
        None,
    );
    assert!(sets(&empty.answer(&Query::Service("api".into())).expect("synced")).is_empty());
}

#[test]
fn unknown_services_are_named_with_the_known_ones() {
    let snapshot = snapshot(&["web"]);
    let error = snapshot
        .answer(&Query::Service("nope".into()))
        .expect_err("unknown");
    assert_eq!(
        error.to_string(),
        "unknown service `nope`; known services: web, api, billing"
    );
}

#[test]
fn matrix_queries_get_the_one_set_or_none() {
    let snapshot = snapshot(&["web", "api", "billing"]);
    let one = snapshot
        .answer(&Query::Matrix {
            service: "web".into(),
            number: 2,
            branch: Some("feature/change-2".into()),
        })
        .expect("answer");
    let one = sets(&one);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["name"], "preview-web-pr-2");
    assert!(one[0].get("number").is_none());
    let none = snapshot
        .answer(&Query::Matrix {
            service: "web".into(),
            number: 99,
            branch: None,
        })
        .expect("answer");
    assert!(sets(&none).is_empty());
    let other_repo = snapshot.answer(&Query::Matrix {
        service: "web".into(),
        number: 2,
        branch: Some("renovate/lockfile".into()),
    });
    assert!(
        matches!(other_repo, Err(AnswerError::MatrixMismatch { .. })),
        "{other_repo:?}"
    );
}

#[test]
fn changed_services_are_those_whose_answer_changed() {
    let all = ["web", "api", "billing"];
    let names = |list: &[&str]| list.iter().map(|s| name(s)).collect::<Vec<_>>();
    let unsynced = Snapshot::unsynced(Arc::new(fleet()));
    assert_eq!(snapshot(&all).changed_services(&unsynced), names(&all));
    assert!(
        snapshot(&all).changed_services(&snapshot(&all)).is_empty(),
        "the same facts give the same bytes"
    );
    assert_eq!(
        snapshot(&all).changed_services(&snapshot(&["billing"])),
        names(&["web", "api"]),
        "answerable once their dependencies are synced"
    );
    let fleet = Arc::new(fleet());
    let mut pushed = pr(2);
    pushed.head_sha = crate::testing::sha(2002);
    let (web, others) = (
        [facts(pr(1), None), facts(pushed, None)],
        [facts(pr(1), None), facts(pr(2), None)],
    );
    let services = BTreeMap::from([
        (name("web"), &web[..]),
        (name("api"), &others[..]),
        (name("billing"), &others[..]),
    ]);
    let plan = plan(&PlanInput {
        fleet: &fleet,
        services,
        now: now(),
    });
    let after = Snapshot::build(fleet, plan, names(&all).into_iter().collect(), 2, None);
    assert_eq!(after.changed_services(&snapshot(&all)), names(&["web"]));
}
