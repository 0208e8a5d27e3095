//! What a test can inject: [`Fault`]s, the [`Endpoint`]s they target, and the [`FaultRule`]
//! that says when one applies (and [`State::take_fault`], which finds it).

use std::time::Duration;

use chrono::Utc;

use super::model::State;

/// A failure the fake can inject instead of (or before) its normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No fault: `fail_with(Fault::None)` clears every rule.
    None,
    /// Answer this status with a GitHub-shaped error body.
    Status(u16),
    /// Sleep this long, then answer normally (set it above the client's timeout).
    Timeout(Duration),
    /// Carry the request out, then hold the answer this long: a write that happened although
    /// the client timed out.
    LoseAnswer(Duration),
    /// Primary rate limit: 403, `x-ratelimit-remaining: 0`, reset in 60 s.
    RateLimited,
    /// Secondary rate limit: 429 with `retry-after` seconds.
    TooManyRequests {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// 200 with a body that is not valid JSON.
    Malformed,
    /// Someone closes PR `number` of the request's repository just before it is answered,
    /// which is how a page shift happens in the middle of a listing.
    ClosePullFirst(u64),
    /// Secondary rate limit as GitHub mostly answers it: 403 with `retry-after` seconds and
    /// "You have exceeded a secondary rate limit", `x-ratelimit-remaining` not 0.
    SecondaryLimit {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// GraphQL only: GitHub's primary limit of the GraphQL API, `200 {"errors": [{"type":
    /// "RATE_LIMITED", "code": "graphql_rate_limit", ...}]}` without `data`,
    /// `x-ratelimit-remaining: 0`.
    GraphqlRateLimited,
    /// GraphQL only: GitHub gave up executing the query, `502 {"data": null, "errors":
    /// [{"message": "Something went wrong while executing your query. This may be the result
    /// of a timeout..."}]}`; its cost is charged.
    GraphqlServerTimeout,
    /// GraphQL only: partial data. Every `object(oid:)` / `pullRequest(number:)` whose SHA or
    /// number the rule's `containing` names (all of them without `containing`) answers `null`
    /// with an error of this `type` (`NOT_FOUND`, `FORBIDDEN`...) at its path.
    GraphqlNodeError {
        /// GitHub's error `type`.
        type_: &'static str,
    },
    /// GraphQL only: a GitHub Enterprise Server with an older schema that lacks `field`: a
    /// document using it gets `200` with GitHub's `undefinedField` static-validation error and
    /// no `data`, not charged (not a violation: the document is valid on github.com).
    GraphqlRefuses {
        /// The field name (`checkSuites`).
        field: &'static str,
    },
}

impl Fault {
    /// Only meaningful for `POST /graphql`: REST requests never take such a rule.
    pub fn is_graphql_only(&self) -> bool {
        matches!(
            self,
            Self::GraphqlRateLimited
                | Self::GraphqlServerTimeout
                | Self::GraphqlNodeError { .. }
                | Self::GraphqlRefuses { .. }
        )
    }
}

/// Which API operation a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /repos/{o}/{r}/pulls` (and `/repositories/{id}/pulls` from `Link` headers).
    Pulls,
    /// `GET /repos/{o}/{r}/pulls/{number}`.
    Pull,
    /// `GET /repos/{o}/{r}/contents/{path}`.
    Contents,
    /// `GET /repos/{o}/{r}/installation`.
    Installation,
    /// `POST /app/installations/{id}/access_tokens`.
    AccessToken,
    /// `GET /repos/{o}/{r}/deployments` (and `/repositories/{id}/deployments`).
    Deployments,
    /// `POST /repos/{o}/{r}/deployments`.
    CreateDeployment,
    /// `GET /repos/{o}/{r}/deployments/{id}/statuses`.
    Statuses,
    /// `POST /repos/{o}/{r}/deployments/{id}/statuses`.
    CreateStatus,
    /// `GET /repos/{o}/{r}/issues/{n}/comments`.
    Comments,
    /// `POST /repos/{o}/{r}/issues/{n}/comments`.
    CreateComment,
    /// `PATCH /repos/{o}/{r}/issues/comments/{id}`.
    UpdateComment,
    /// `GET /repos/{o}/{r}/collaborators/{username}/permission`.
    Permission,
    /// `GET /repos/{o}/{r}/commits/{sha}/check-runs`.
    CheckRuns,
    /// `GET /repos/{o}/{r}/pulls/{n}/commits` (and `/repositories/{id}/pulls/{n}/commits`).
    PullCommits,
    /// `GET /repos/{o}/{r}/issues/{n}/timeline` (and `/repositories/{id}/issues/{n}/timeline`).
    Timeline,
    /// `GET /user`: the token's own account.
    User,
    /// `GET /app`: the GitHub App itself (with the App's JWT).
    App,
    /// `POST /graphql` (`POST /api/graphql` on GitHub Enterprise Server).
    Graphql,
    /// Anything else (answered 404).
    Other,
}

/// When a [`Fault`] applies. Unset filters match everything.
#[derive(Clone, Debug)]
pub struct FaultRule {
    pub(super) fault: Fault,
    pub(super) repo: Option<String>,
    pub(super) endpoint: Option<Endpoint>,
    pub(super) page: Option<u32>,
    pub(super) times: Option<usize>,
    pub(super) containing: Option<String>,
}

impl FaultRule {
    /// `fault` on every request, until cleared.
    pub fn new(fault: Fault) -> Self {
        Self {
            fault,
            repo: None,
            endpoint: None,
            page: None,
            times: None,
            containing: None,
        }
    }

    /// Only for requests whose path and query contain `text` (a commit SHA, say); for
    /// [`Endpoint::Graphql`], whose body (the query, a new line, the variables as JSON) does.
    pub fn containing(mut self, text: &str) -> Self {
        self.containing = Some(text.to_owned());
        self
    }

    /// Only for requests about `repo` (`owner/name`).
    pub fn repo(mut self, repo: &str) -> Self {
        self.repo = Some(repo.to_ascii_lowercase());
        self
    }

    /// Only for this operation.
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Only for this page of a list (`page` query, 1 when absent).
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }
}

impl State {
    /// The first fault rule matching this request, used up once. An exhausted REST budget
    /// (see `limit_budget`) answers [`Fault::RateLimited`] first.
    pub fn take_fault(
        &mut self,
        endpoint: Endpoint,
        repo: Option<&str>,
        page: u32,
        target: &str,
    ) -> Option<Fault> {
        if let Some(budget) = self.budget {
            if budget.reset_at <= Utc::now().timestamp() {
                self.budget = None;
            } else if budget.left == 0 {
                return Some(Fault::RateLimited);
            }
        }
        self.take_rule(endpoint, false, repo, page, target)
            .map(|(fault, _)| fault)
    }

    /// The first rule matching a request to `endpoint`, used up once, with its `containing`.
    /// `explicit`: only rules naming `endpoint` (not those for every endpoint).
    pub fn take_rule(
        &mut self,
        endpoint: Endpoint,
        explicit: bool,
        repo: Option<&str>,
        page: u32,
        target: &str,
    ) -> Option<(Fault, Option<String>)> {
        let graphql = endpoint == Endpoint::Graphql;
        let index = self.faults.iter().position(|rule| {
            (graphql || !rule.fault.is_graphql_only())
                && match rule.endpoint {
                    Some(e) => e == endpoint,
                    None => !explicit,
                }
                && rule.repo.as_deref().is_none_or(|r| Some(r) == repo)
                && rule.page.is_none_or(|p| p == page)
                && rule
                    .containing
                    .as_deref()
                    .is_none_or(|t| target.contains(t))
        })?;
        let rule = &mut self.faults[index];
        let taken = (rule.fault.clone(), rule.containing.clone());
        if let Some(times) = rule.times.as_mut() {
            *times = times.saturating_sub(1);
            if *times == 0 {
                self.faults.remove(index);
            }
        }
        Some(taken)
    }
}
