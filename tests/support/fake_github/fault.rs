//! What a test can inject: [`Fault`]s, the [`Endpoint`]s they target, and the [`FaultRule`]
//! that says when one applies.

use std::time::Duration;

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

    /// Only for requests whose path and query contain `text` (a commit SHA, say).
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
