use std::collections::BTreeMap;

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

#[test]
fn unchanged_previews_are_not_rendered_again() {
    let first = snapshot(&["web"]);
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
    assert!(
        Arc::ptr_eq(&first.rendered[0], &second.rendered[0]),
        "PR 1 reused"
    );
    assert!(
        !Arc::ptr_eq(&first.rendered[1], &second.rendered[1]),
        "PR 2 rendered again"
    );
    let set: serde_json::Value = serde_json::from_slice(&second.rendered[1].full).expect("json");
    assert_eq!(set["revision"], crate::testing::sha(2002));
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
            services: vec!["web".into(), "api".into()]
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
            services: vec!["api".into()]
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
