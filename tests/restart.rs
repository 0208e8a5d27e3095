//! No preview is lost across a restart of preview-tower: the restart fault matrix.
//!
//! The real `preview-tower serve` binary, against the fake GitHub and the fake Kubernetes API
//! that holds the Argo CD Applications of every preview (33: `web` PRs 1 to 30, `api` PRs 40
//! and 41, `billing` PR 31). Each row first runs the service without faults until it answers
//! every preview, stops it with `SIGTERM` (it must exit cleanly), then starts it again under a
//! fault. Throughout, every `2xx` answer (all services, and each service alone) must hold every
//! preview: a `2xx` that left one out would make Argo CD delete it. Once the fault clears, the
//! full set must come back.
//!
//! `api` PR 41's Application has no preview labels (made by an older template): it is known
//! by its name alone. `billing` deploys a commit only once its build check passed; PR 31's
//! head is still building, its parent is built, so its preview runs the parent.
//!
//! No timing is asserted (deadlines are generous bounds); each row prints how long the full
//! set took to come back after the fault cleared, for `docs/architecture.md`.
#![allow(clippy::unwrap_used)]

#[path = "restart/answers.rs"]
mod answers;
#[path = "restart/graphql.rs"]
mod graphql;
#[path = "restart/harness.rs"]
mod harness;
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use answers::Answers;
use harness::{API, BILLING, LINGER, Row, WEB, World, head, row, sha};
use support::fake_github::{Endpoint, FakePull, Fault, FaultRule};

/// Every service answers 503 (never a partial 2xx) while `fault` hits every `endpoint` read.
async fn every_service_held_while(
    endpoint: Endpoint,
    fault: Fault,
    name: &'static str,
    says: &str,
) {
    let world = World::new().await;
    row(
        name,
        &world,
        |w| w.github.fail(FaultRule::new(fault).endpoint(endpoint)),
        |a| {
            ["all", "web", "api", "billing"]
                .iter()
                .all(|q| a.refused(q, &["kept as they are", says]))
        },
        |w| w.github.clear_faults(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contents_500_holds_every_service() {
    every_service_held_while(
        Endpoint::Contents,
        Fault::Status(500),
        "contents 500",
        "500",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contents_502_with_30_previews_answers_503_then_all_30() {
    // The acceptance case: never a 2xx with fewer than 30 sets for web, then 200 with 30.
    every_service_held_while(
        Endpoint::Contents,
        Fault::Status(502),
        "contents 502",
        "502",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contents_timing_out_holds_every_service() {
    let fault = Fault::Timeout(Duration::from_secs(3));
    every_service_held_while(Endpoint::Contents, fault, "contents time out", "in time").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_contents_hold_every_service() {
    every_service_held_while(
        Endpoint::Contents,
        Fault::Malformed,
        "contents malformed",
        "malformed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_timeline_holds_nothing() {
    // Activity only decides expiry, and unread activity never expires anything.
    let world = World::new().await;
    row(
        "timeline 502",
        &world,
        |w| {
            w.github
                .fail(FaultRule::new(Fault::Status(502)).endpoint(Endpoint::Timeline))
        },
        |a| ["all", "web", "api", "billing"].iter().all(|q| a.full(q)),
        |w| w.github.clear_faults(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_check_runs_hold_the_gated_service_only() {
    let world = World::new().await;
    let (_, answers) = row(
        "check runs 500",
        &world,
        |w| {
            w.github
                .fail(FaultRule::new(Fault::Status(500)).endpoint(Endpoint::CheckRuns))
        },
        |a| a.refused("billing", &["billing PR 31"]) && a.full("web") && a.full("api"),
        |w| w.github.clear_faults(),
    )
    .await;
    assert!(answers.refused("all", &["billing PR 31"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_spent_mid_way_answers_503_with_the_reset_time_until_it_resets() {
    let world = World::new().await;
    // Three listings (the facts are read with GraphQL, on its own budget), then nothing until
    // the hour ends (the row's clock starts when the 503s were seen; the reset comes after).
    row(
        "rate limit spent mid-way (primary 403)",
        &world,
        |w| w.github.limit_budget(3, Duration::from_secs(8)),
        |a| a.refused("all", &["rate limited by GitHub until"]),
        |_| {},
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secondary_limit_answers_503_then_the_full_set() {
    let world = World::new().await;
    row(
        "secondary limit (403, Retry-After)",
        &world,
        |w| {
            let fault = Fault::SecondaryLimit { retry_after: 3 };
            w.github
                .fail(FaultRule::new(fault).endpoint(Endpoint::Contents).times(4));
        },
        |a| a.refused("all", &["rate limited by GitHub until"]),
        |_| {},
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_repo_that_cannot_be_listed_holds_its_service_only() {
    let world = World::new().await;
    let (_, answers) = row(
        "listing of acme/api 502",
        &world,
        |w| {
            let rule = FaultRule::new(Fault::Status(502))
                .endpoint(Endpoint::Pulls)
                .repo(API);
            w.github.fail(rule);
        },
        |a| {
            a.refused("api", &["not synced", "acme/api: GitHub answered 502"])
                && a.full("web")
                && a.full("billing")
        },
        |w| w.github.clear_faults(),
    )
    .await;
    assert!(answers.ever_refused_with("all", "api"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_unreachable_at_start_answers_503_until_it_is_reachable() {
    let world = World::new().await;
    row(
        "GitHub unreachable at start",
        &world,
        |w| w.github.go_offline(),
        |a| {
            ["all", "web", "api", "billing"]
                .iter()
                .all(|q| a.refused(q, &["not synced", "cannot reach GitHub"]))
        },
        |w| w.github.go_online(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_permanently_unreadable_pr_holds_its_service_and_the_others_answer() {
    // api PR 41's Application has no labels: its name alone says it is a preview.
    let world = World::new().await;
    let unreadable = head(API, 41);
    let (row, answers) = row(
        "one PR's files unreadable (api PR 41)",
        &world,
        |w| {
            let rule = FaultRule::new(Fault::Status(502))
                .endpoint(Endpoint::Contents)
                .containing(&unreadable);
            w.github.fail(rule);
        },
        |a| {
            a.refused(
                "api",
                &[
                    "api PR 41 (its commit's files are not read yet)",
                    "held since",
                ],
            ) && a.full("web")
                && a.full("billing")
        },
        |w| w.github.clear_faults(),
    )
    .await;
    assert!(answers.refused("all", &["api PR 41"]));
    let held = BTreeMap::from([("web", 0.0), ("api", 1.0), ("billing", 0.0)]);
    assert_eq!(row.held, held, "the held PRs per service, as metrics");
    assert!(
        !answers.ever_refused_with("api", "api PR 40"),
        "only the unreadable PR is named"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gated_pr_is_answered_on_its_built_parent_at_the_first_answer() {
    // billing's reads are slow; web's first refresh commits in the middle of them. Its plan
    // must not forget what billing's refresh found (PR 31's built parent), or billing's first
    // answer would hold PR 31 and search its commits again.
    let world = World::new().await;
    let (_, answers) = row(
        "gated PR building, parent built, another repo's refresh first",
        &world,
        |w| {
            let slow = Fault::Timeout(Duration::from_millis(800));
            let rule = FaultRule::new(slow)
                .endpoint(Endpoint::Contents)
                .repo(BILLING);
            w.github.fail(rule);
            w.github.clear_requests();
        },
        |a| a.full("billing") && a.full("web"),
        |w| w.github.clear_faults(),
    )
    .await;
    assert!(
        !answers.ever_refused_with("billing", "kept as they are"),
        "billing held PR 31 although its built parent was found: {:#?}",
        answers.summary()
    );
    let searches = world
        .github
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::PullCommits)
        .count();
    assert_eq!(searches, 1, "PR 31's commits are searched once per head");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_applications_a_service_waits_for_every_labelled_pr_then_knows_better() {
    // The Kubernetes API is down at start: which PRs hold previews is unknown, so web answers
    // only once every labelled PR was read. PR 99 is new (no Application) and unreadable;
    // PR 3 has a preview and is unreadable.
    let world = World::new().await;
    world.first_life().await;
    // Labelled after the restart: Argo CD has no Application for it.
    let new_pr = sha("acme/web#99");
    world.github.open_pull(
        WEB,
        FakePull::new(99).head_sha(&new_pr).labels(&["preview"]),
    );
    world.kube.go_offline();
    for unreadable in [head(WEB, 3), new_pr.clone()] {
        let rule = FaultRule::new(Fault::Status(502))
            .endpoint(Endpoint::Contents)
            .containing(&unreadable);
        world.github.fail(rule);
    }
    let mut serve = world.start("second");
    let mut answers = Answers::default();
    answers
        .until(&mut serve, "web held, conservatively", |a| {
            a.refused("web", &["web PR 3, 99 ("]) && a.full("api") && a.full("billing")
        })
        .await;
    answers.linger(&mut serve, LINGER).await;
    // The Applications are read: PR 99 has none, so it only waits; PR 3 is still held.
    world.kube.go_online();
    answers
        .until(&mut serve, "web held for PR 3 alone", |a| {
            a.refused("web", &["web PR 3 ("])
        })
        .await;
    answers.linger(&mut serve, LINGER).await;
    let during = answers.during();
    // PR 3 becomes readable: web answers its 30 previews, PR 99 still waiting for its files.
    let cleared = Instant::now();
    world.github.clear_faults();
    let rule = FaultRule::new(Fault::Status(502))
        .endpoint(Endpoint::Contents)
        .containing(&new_pr);
    world.github.fail(rule);
    answers
        .until(&mut serve, "web answered in full without PR 99", |a| {
            a.seen
                .iter()
                .rev()
                .find(|s| s.query == "all")
                .is_some_and(|s| s.full)
        })
        .await;
    Row {
        fault: "Kubernetes API unreachable at start, then reachable",
        during,
        recovered: cleared.elapsed(),
        held: BTreeMap::new(),
    }
    .print();
}
