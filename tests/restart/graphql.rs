//! The restart rows of GitHub's GraphQL API (the bulk reads): each of its faults after a
//! restart. A GraphQL fault is never evidence: the facts it could not read are read over REST,
//! and only when those fail too is a preview held (`503`), never left out of a `2xx`.

use std::time::Duration;

use crate::harness::{API, World, head, row};
use crate::support::fake_github::{Endpoint, Fault, FaultRule};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_budget_spent_reads_over_rest_and_answers_in_full() {
    let world = World::new().await;
    let (_, answers) = row(
        "GraphQL budget spent (RATE_LIMITED), REST healthy",
        &world,
        |w| {
            w.github.limit_graphql_budget(0, Duration::from_secs(3600));
            w.github.clear_requests();
        },
        |a| a.full("all") && a.full("web") && a.full("api") && a.full("billing"),
        |_| {},
    )
    .await;
    assert!(answers.seen.iter().all(|s| s.status == 503 || s.full));
    assert!(
        world.github.count(Endpoint::Contents) > 0,
        "the files were read over REST"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_server_timeouts_hold_until_graphql_answers_or_rest_takes_over() {
    // A failing query's facts wait for the next refresh (no REST storm); after three failed
    // reads in a row REST reads them.
    let world = World::new().await;
    let (_, answers) = row(
        "GraphQL answers 502 (GitHub's server-side timeout)",
        &world,
        |w| {
            let fault = FaultRule::new(Fault::GraphqlServerTimeout).endpoint(Endpoint::Graphql);
            w.github.fail(fault);
        },
        |a| a.refused("all", &["GitHub answered 502"]),
        |w| w.github.clear_faults(),
    )
    .await;
    assert!(answers.seen.iter().all(|s| s.status == 503 || s.full));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_graphql_cannot_resolve_and_rest_cannot_read_holds_its_pr_only() {
    let world = World::new().await;
    let unreadable = head(API, 41);
    let (row, answers) = row(
        "GraphQL NOT_FOUND on api PR 41's commit, REST contents 502 for it",
        &world,
        |w| {
            let node = Fault::GraphqlNodeError { type_: "NOT_FOUND" };
            w.github.fail(
                FaultRule::new(node)
                    .endpoint(Endpoint::Graphql)
                    .containing(&unreadable),
            );
            let rest = FaultRule::new(Fault::Status(502))
                .endpoint(Endpoint::Contents)
                .containing(&unreadable);
            w.github.fail(rest);
        },
        |a| a.refused("api", &["api PR 41 (its commit's files are not read yet)"]) && a.full("web"),
        |w| w.github.clear_faults(),
    )
    .await;
    assert!(answers.refused("all", &["api PR 41"]));
    assert_eq!(row.held.get("api"), Some(&1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secondary_limit_on_graphql_backs_off_with_503_then_the_full_set() {
    let world = World::new().await;
    row(
        "GraphQL secondary limit (403, Retry-After)",
        &world,
        |w| {
            let fault = Fault::SecondaryLimit { retry_after: 3 };
            w.github
                .fail(FaultRule::new(fault).endpoint(Endpoint::Graphql).times(3));
        },
        |a| a.refused("all", &["rate limited by GitHub until"]),
        |_| {},
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enterprise_server_without_graphql_or_with_an_older_schema_is_read_over_rest() {
    for (name, refuse) in [
        ("no GraphQL endpoint (404)", true),
        ("GraphQL refuses a field (older schema)", false),
    ] {
        let world = World::new().await;
        let (_, _) = row(
            name,
            &world,
            |w| {
                if refuse {
                    w.github.disable_graphql();
                } else {
                    let fault = Fault::GraphqlRefuses {
                        field: "checkSuites",
                    };
                    w.github
                        .fail(FaultRule::new(fault).endpoint(Endpoint::Graphql));
                }
            },
            |a| a.full("all") && a.full("web") && a.full("api") && a.full("billing"),
            |_| {},
        )
        .await;
    }
}
