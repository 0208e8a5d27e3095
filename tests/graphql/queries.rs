//! Every document shape the service can send (`example_documents`, from the real builder),
//! validated against GitHub's published GraphQL schema with apollo-compiler, with its
//! variables; and what each costs by GitHub's rule. A field GitHub does not have fails here,
//! not at a production start.

use preview_tower::github::octocrab::example_documents;

use crate::support::conformance::{github_graphql, validate_graphql, validate_graphql_request};
use crate::support::fake_github::graphql_cost;

#[test]
fn every_document_the_service_sends_is_valid_against_githubs_schema() {
    if github_graphql().is_none() {
        eprintln!("GitHub's GraphQL schema is missing: nothing validated");
        return;
    }
    let documents = example_documents();
    assert!(documents.len() >= 8, "{} shapes", documents.len());
    for (name, document, variables) in &documents {
        let problems = validate_graphql_request(name, document, None, variables);
        assert!(problems.is_empty(), "{name}: {problems:#?}\n{document}");
    }
}

#[test]
fn no_query_costs_more_than_5_points_and_a_cold_start_chunk_costs_exactly_that() {
    if github_graphql().is_none() {
        return;
    }
    for (name, document, variables) in example_documents() {
        let cost = graphql_cost(&document, &variables);
        assert!(cost.problems.is_empty(), "{name}: {:?}", cost.problems);
        assert!(cost.points <= 5 && cost.requests <= 500, "{name}: {cost:?}");
        if name.starts_with("cold start of 100 PRs") {
            // 100 commits × (1 suites + 3 runs) + 100 timelines.
            assert_eq!((cost.requests, cost.points), (500, 5), "{name}");
        }
        if name.starts_with("one push") {
            assert_eq!(cost.points, 1, "{name}");
        }
    }
}

#[test]
fn the_validator_refuses_a_field_github_does_not_have() {
    if github_graphql().is_none() {
        return;
    }
    let (name, document, _) = example_documents()
        .into_iter()
        .find(|(name, ..)| name.starts_with("one push"))
        .expect("the push shape");
    for (right, wrong) in [
        ("committedDate", "commitedDate"),
        ("isTruncated", "truncated"),
        ("checkType: LATEST", "checkType: NEWEST"),
    ] {
        assert!(document.contains(right), "{right}");
        let broken = document.replacen(right, wrong, 1);
        let problems = validate_graphql(&name, &broken);
        assert!(!problems.is_empty(), "`{wrong}` passed validation");
    }
}
