//! A repository's standing with GitHub's GraphQL API: failed bulk reads in a row (after
//! [`WITHHOLD_FAILURES`] REST reads what a failing query withholds), the GraphQL budget's
//! hold-off (per App installation, or for the token), and the fallback to REST of a server that
//! has no GraphQL or refuses a field (for [`RETRY_GRAPHQL_AFTER`]).

use std::time::Instant;

use tracing::{info, warn};

#[cfg(doc)]
use super::WITHHOLD_FAILURES;
use super::{Graphql, RETRY_GRAPHQL_AFTER};
use crate::github::octocrab::{Auth, GitHubSource, lock};
use crate::naming::RepoName;

impl GitHubSource {
    /// Counts a failed bulk read of `repo` in a row, or forgets the count.
    pub(super) fn count_failure(&self, graphql: &Graphql, repo: &RepoName, failed: bool) {
        let mut failing = lock(&graphql.failing);
        if failed {
            let count = failing.entry(repo.clone()).or_default();
            *count = count.saturating_add(1);
        } else {
            failing.remove(repo);
        }
    }

    /// Whose GraphQL budget reads `repo`: an App installation's (one per owner), or the
    /// token's (one for every repository).
    pub(super) fn budget_of(&self, repo: &RepoName) -> String {
        match &self.auth {
            Auth::Token { .. } => String::new(),
            Auth::App { .. } => repo.owner().to_ascii_lowercase(),
        }
    }

    /// Whether `repo` is read in bulk now: not refused lately, and not rate limited.
    pub(super) fn graphql_available(&self, graphql: &Graphql, repo: &RepoName) -> bool {
        let now = Instant::now();
        {
            let mut limited = lock(&graphql.limited_until);
            let budget = self.budget_of(repo);
            match limited.get(&budget) {
                Some(until) if *until > now => return false,
                Some(_) => {
                    limited.remove(&budget);
                }
                None => {}
            }
        }
        let mut refused = lock(&graphql.refused);
        match refused.get(repo) {
            Some(since) if now.duration_since(*since) < RETRY_GRAPHQL_AFTER => false,
            Some(_) => {
                refused.remove(repo);
                self.exchange.rate.graphql.fallback_repos.dec();
                info!(%repo, "trying GitHub's GraphQL API again for this repository");
                true
            }
            None => true,
        }
    }

    pub(super) fn fall_back(&self, graphql: &Graphql, repo: &RepoName, why: &str) {
        let first = lock(&graphql.refused)
            .insert(repo.clone(), Instant::now())
            .is_none();
        let rate = &self.exchange.rate.graphql;
        rate.fallbacks.inc();
        if first {
            rate.fallback_repos.inc();
        }
        warn!(%repo, reason = why,
            "GitHub's GraphQL API cannot read this repository's facts; reading them over REST (one request each)");
    }
}
