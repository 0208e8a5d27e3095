//! GitHub's cost rule, against GitHub's own worked example and the design's numbers, and the
//! GraphQL budget apart from REST's.

use std::time::Duration;

use serde_json::{Value, json};

use super::support::fake_github::graphql_cost;
use super::{RUN, one_push, post, sha, vars, world};

/// The example of GitHub's "Rate limits and node limits for the GraphQL API".
const GITHUB_EXAMPLE: &str = "query {
  viewer {
    login
    repositories(first: 100) {
      edges { node { id
        issues(first: 50) { edges { node { id
          labels(first: 60) { edges { node { id name } } }
        } } }
      } }
    }
  }
}";

#[test]
fn github_s_worked_example_costs_51_points() {
    let cost = graphql_cost(GITHUB_EXAMPLE, &Value::Null);
    assert_eq!((cost.requests, cost.points), (5_101, 51));
    assert!(cost.problems.is_empty(), "{:?}", cost.problems);
}

#[test]
fn one_push_costs_one_point() {
    let cost = graphql_cost(&one_push(), &vars(&sha("head"), ".preview.yaml"));
    assert_eq!((cost.requests, cost.points), (5, 1));
}

/// `HeadFacts` for `prs` PRs, each at its own commit, each with a build check.
fn chunk(prs: usize) -> (String, Value) {
    let mut decl = String::from("$owner: String!, $name: String!, $check0: String!");
    let mut body = String::new();
    let mut vars = json!({"owner": "acme", "name": "web", "check0": "preview-ready"});
    for i in 0..prs {
        decl.push_str(&format!(", $s{i}: GitObjectID!"));
        vars[format!("s{i}")] = Value::from(sha(&i.to_string()));
        body.push_str(&format!(
            "c{i}: object(oid: $s{i}) {{ ... on Commit {{ oid build0: checkSuites(first: 3, filterBy: {{checkName: $check0}}) {{ totalCount nodes {{ checkRuns(first: 5, filterBy: {{checkName: $check0, checkType: LATEST}}) {{ ...Run }} }} }} }} }}\n"
        ));
        body.push_str(&format!(
            "p{n}: pullRequest(number: {n}) {{ number timelineItems(last: 50, itemTypes: [ISSUE_COMMENT]) {{ pageInfo {{ hasPreviousPage startCursor }} nodes {{ __typename }} }} }}\n",
            n = i + 1
        ));
    }
    let query = format!(
        "query HeadFacts({decl}) {{\n  rateLimit {{ cost remaining resetAt }}\n  repository(owner: $owner, name: $name) {{\n{body}  }}\n}}\n{RUN}"
    );
    (query, vars)
}

#[test]
fn a_chunk_of_100_prs_with_a_build_check_costs_5_points() {
    let (query, vars) = chunk(100);
    let cost = graphql_cost(&query, &vars);
    assert_eq!((cost.requests, cost.points), (500, 5));
    let (query, vars) = chunk(25);
    assert_eq!(
        graphql_cost(&query, &vars).points,
        1,
        "125 requests round to 1"
    );
    let (query, vars) = chunk(50);
    assert_eq!(
        graphql_cost(&query, &vars).points,
        3,
        "250 requests: half rounds up"
    );
}

#[test]
fn a_connection_without_a_page_size_breaks_github_s_limits() {
    let query = "query { viewer { repositories(first: 101) { totalCount } } }";
    assert_eq!(graphql_cost(query, &Value::Null).problems.len(), 1);
    let query = "query { viewer { repositories { totalCount } } }";
    assert_eq!(graphql_cost(query, &Value::Null).problems.len(), 1);
}

#[tokio::test]
async fn the_graphql_budget_is_spent_apart_from_rest() {
    let head = sha("head");
    let github = world(&head).await;
    github.limit_graphql_budget(2, Duration::from_secs(600));
    let first = post(&github, &one_push(), &vars(&head, ".preview.yaml")).await;
    assert_eq!(first.body["data"]["rateLimit"]["cost"], 1);
    assert_eq!(first.body["data"]["rateLimit"]["remaining"], 1);
    assert_eq!(first.header("x-ratelimit-remaining"), "1");
    post(&github, &one_push(), &vars(&head, ".preview.yaml")).await;
    let spent = post(&github, &one_push(), &vars(&head, ".preview.yaml")).await;
    assert_eq!(spent.status, 200);
    assert!(spent.body.get("data").is_none(), "{}", spent.body);
    let error = &spent.body["errors"][0];
    assert_eq!(
        (error["type"].as_str(), error["code"].as_str()),
        (Some("RATE_LIMITED"), Some("graphql_rate_limit"))
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded for ")
    );
    assert_eq!(spent.header("x-ratelimit-remaining"), "0");
    assert_eq!(spent.header("x-ratelimit-resource"), "graphql");
    assert_eq!((github.graphql_points(), github.graphql_queries()), (2, 2));
    assert_eq!(github.rate_limit_used(), 0);
}
