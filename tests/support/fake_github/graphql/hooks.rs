//! Test hooks of the GraphQL side: its budget and points, latency, whether it exists, and
//! GitHub's cost rule for a test to check documents against.

use std::time::Duration;

use apollo_compiler::ExecutableDocument;
use chrono::Utc;
use serde_json::{Map, Value};

use super::Cost;
use crate::support::conformance;
use crate::support::fake_github::FakeGitHub;
use crate::support::fake_github::model::Budget;

/// GitHub's cost of the GraphQL `document` with `variables` (an object, or `null`): the
/// connection-requests, the points, the nodes, and what breaks GitHub's limits. Panics when
/// the document is not valid against GitHub's schema, or without the schema.
pub fn graphql_cost(document: &str, variables: &Value) -> Cost {
    let schema =
        conformance::github_graphql().expect("GitHub's GraphQL schema (conformance directory)");
    let document = ExecutableDocument::parse_and_validate(schema, document, "cost.graphql")
        .unwrap_or_else(|invalid| {
            panic!("not a valid GitHub GraphQL document: {}", invalid.errors)
        });
    let operation = document.operations.get(None).expect("one operation");
    let vars = variables.as_object().cloned().unwrap_or_else(Map::new);
    super::cost::cost(&document, operation, &vars)
}

impl FakeGitHub {
    /// Every REST answer waits `rest`, every GraphQL answer `graphql`, before it is sent (for
    /// the benchmarks; both 0 by default).
    pub fn set_latency(&self, rest: Duration, graphql: Duration) {
        self.with(|s| {
            s.rest_latency = rest;
            s.graphql.latency = graphql;
        });
    }

    /// GraphQL points charged so far (apart from REST's `rate_limit_used`).
    pub fn graphql_points(&self) -> u64 {
        self.with(|s| s.graphql.used)
    }

    /// GraphQL documents executed so far (answered with `data`; refused, faulty and
    /// rate-limited ones not). `count(Endpoint::Graphql)` counts every request.
    pub fn graphql_queries(&self) -> usize {
        self.with(|s| s.graphql.queries)
    }

    /// Every GraphQL request body received, in order (`{"query", "variables",
    /// "operationName"}`).
    pub fn graphql_requests(&self) -> Vec<Value> {
        self.with(|s| s.graphql.bodies.clone())
    }

    /// The GraphQL API has `points` left in its hour, which ends `reset_in` from now: every
    /// query spends its cost, and a query that cannot pay gets GitHub's `RATE_LIMITED` answer
    /// (`x-ratelimit-remaining: 0`) until then. Apart from REST's `limit_budget`.
    pub fn limit_graphql_budget(&self, points: u64, reset_in: Duration) {
        let reset_at = Utc::now().timestamp() + i64::try_from(reset_in.as_secs()).unwrap_or(0);
        self.with(|s| {
            s.graphql.budget = Some(Budget {
                left: points,
                reset_at,
            })
        });
    }

    /// The GraphQL endpoint answers `404 {"message": "Not Found"}`, as on a GitHub Enterprise
    /// Server without it.
    pub fn disable_graphql(&self) {
        self.with(|s| s.graphql.disabled = true);
    }
}
