//! GitHub's rate-limit headers as last seen, for metrics and for slowing down before the limit
//! runs out.
//!
//! Every answer from GitHub carries `x-ratelimit-limit`, `-remaining`, `-used`, `-reset` and
//! `-resource`. The GitHub client ([`super::octocrab::GitHubSource`]) owns one [`RateLimits`]
//! and records the `core` resource's there; the sync reads it to hold polling off, and
//! [`RateLimits::register`] exposes it to Prometheus. With a GitHub App installed on several
//! organisations each has its own budget; the gauges then show the budget of the last answer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::HeaderMap;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The last rate-limit headers of the `core` resource, and how many answers GitHub gave.
#[derive(Debug, Default)]
pub struct RateLimits {
    /// `x-ratelimit-limit`: requests per hour.
    pub limit: Gauge,
    /// `x-ratelimit-remaining`.
    pub remaining: Gauge,
    /// `x-ratelimit-used`.
    pub used: Gauge,
    /// `x-ratelimit-reset`: Unix time the window resets.
    pub reset: Gauge,
    /// Answers GitHub gave this client, whatever their status (`304`s included).
    requests: AtomicU64,
    /// The GraphQL budget (a separate one, in points), from the answers of the bulk reads.
    pub graphql: GraphqlBudget,
}

/// GitHub's GraphQL budget as last seen, and what the bulk reads spent.
#[derive(Debug, Default)]
pub struct GraphqlBudget {
    /// `x-ratelimit-limit` of a GraphQL answer: points per hour.
    pub limit: Gauge,
    /// Points left in the window.
    pub remaining: Gauge,
    /// Unix time the window resets.
    pub reset: Gauge,
    /// Points spent, as each answer's `rateLimit.cost` said.
    pub points: Counter,
    /// Queries sent.
    pub queries: Counter,
    /// Repositories read over REST because GitHub's GraphQL endpoint is missing or refuses
    /// a field the query uses (an older GitHub Enterprise Server).
    pub fallback_repos: Gauge,
    /// Times a repository fell back to REST.
    pub fallbacks: Counter,
}

impl RateLimits {
    /// How many requests GitHub answered since the client was made: what the cold start log
    /// says it spent.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Counts an answer and records its rate-limit headers (only the `core` resource's).
    pub fn observe(&self, headers: &HeaderMap) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let number =
            |name: &str| -> Option<i64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let resource = headers
            .get("x-ratelimit-resource")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("core");
        if resource == "graphql" {
            if let Some(limit) = number("x-ratelimit-limit") {
                self.graphql.limit.set(limit);
            }
            if let Some(remaining) = number("x-ratelimit-remaining") {
                self.graphql.remaining.set(remaining);
            }
            if let Some(reset) = number("x-ratelimit-reset") {
                self.graphql.reset.set(reset);
            }
            return;
        }
        if resource != "core" {
            return;
        }
        let (Some(limit), Some(remaining)) =
            (number("x-ratelimit-limit"), number("x-ratelimit-remaining"))
        else {
            return;
        };
        self.limit.set(limit);
        self.remaining.set(remaining);
        if let Some(used) = number("x-ratelimit-used") {
            self.used.set(used);
        }
        if let Some(reset) = number("x-ratelimit-reset") {
            self.reset.set(reset);
        }
    }

    /// How long to hold polling off: until the window resets, when fewer than `reserve` (a
    /// fraction of the limit) requests remain, so that webhooks-driven refreshes and the
    /// lifecycle's writes still have budget. `None` when there is room (or nothing is known yet).
    pub fn hold_off(&self, reserve: f64, now_unix: i64) -> Option<Duration> {
        let limit = self.limit.get();
        let remaining = self.remaining.get();
        let reset = self.reset.get();
        if limit <= 0 || reset <= now_unix {
            return None;
        }
        #[allow(clippy::cast_precision_loss)]
        let low = (remaining as f64) < (limit as f64) * reserve;
        low.then(|| Duration::from_secs(u64::try_from(reset - now_unix).unwrap_or(0)))
    }

    /// Registers the gauges (`preview_tower_github_rate_limit_*`) in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("preview_tower");
        r.register(
            "github_rate_limit_limit",
            "GitHub's core rate limit per hour, from the last answer's x-ratelimit-limit",
            self.limit.clone(),
        );
        r.register(
            "github_rate_limit_remaining",
            "Requests left in GitHub's core rate-limit window, from the last answer",
            self.remaining.clone(),
        );
        r.register(
            "github_rate_limit_used",
            "Requests used in GitHub's core rate-limit window, from the last answer",
            self.used.clone(),
        );
        r.register(
            "github_rate_limit_reset_timestamp_seconds",
            "Unix time GitHub's core rate-limit window resets",
            self.reset.clone(),
        );
        let g = &self.graphql;
        r.register(
            "github_graphql_rate_limit_limit",
            "GitHub's GraphQL budget in points per hour, from the last GraphQL answer",
            g.limit.clone(),
        );
        r.register(
            "github_graphql_rate_limit_remaining",
            "Points left in GitHub's GraphQL window, from the last GraphQL answer",
            g.remaining.clone(),
        );
        r.register(
            "github_graphql_rate_limit_reset_timestamp_seconds",
            "Unix time GitHub's GraphQL window resets",
            g.reset.clone(),
        );
        r.register(
            "github_graphql_points",
            "GraphQL points the bulk reads spent, as GitHub reported each query's cost",
            g.points.clone(),
        );
        r.register(
            "github_graphql_queries",
            "GraphQL queries the bulk reads sent",
            g.queries.clone(),
        );
        r.register(
            "github_graphql_fallback_repos",
            "Repositories read over REST because the GraphQL endpoint is missing or refuses a field",
            g.fallback_repos.clone(),
        );
        r.register(
            "github_graphql_fallbacks",
            "Times a repository fell back from GraphQL to REST reads",
            g.fallbacks.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("value"));
        }
        map
    }

    #[test]
    fn core_headers_are_recorded_and_a_low_budget_holds_polling_until_the_reset() {
        let rate = RateLimits::default();
        rate.observe(&headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4000"),
            ("x-ratelimit-used", "1000"),
            ("x-ratelimit-reset", "1000060"),
        ]));
        assert_eq!(rate.remaining.get(), 4000);
        assert_eq!(rate.hold_off(0.05, 1_000_000), None);
        // Another resource does not touch the core budget.
        rate.observe(&headers(&[
            ("x-ratelimit-limit", "30"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-resource", "search"),
        ]));
        assert_eq!(rate.limit.get(), 5000);
        rate.observe(&headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "100"),
            ("x-ratelimit-reset", "1000060"),
        ]));
        assert_eq!(
            rate.hold_off(0.05, 1_000_000),
            Some(Duration::from_secs(60))
        );
        assert_eq!(rate.hold_off(0.05, 1_000_100), None, "past the reset");
        assert_eq!(
            rate.requests(),
            3,
            "every answer is counted, whatever its resource"
        );
    }
}
