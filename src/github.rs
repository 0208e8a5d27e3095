//! Where pull-request facts come from: the [`PullRequestSource`] trait and its errors.
//!
//! The trait speaks domain types ([`PullRequest`], [`ConfigFile`]) so that the sync loop and the
//! tests never see octocrab models. Two implementations: `octocrab::GitHubSource` against
//! GitHub's REST API (github.com or Enterprise), and `crate::demo::DemoSource` for the embedded
//! demo. This module must not cache or retry: that is [`crate::sync`]'s job.
//!
//! [`webhook`] reads what GitHub pushes (signatures, events, `/preview` commands), and
//! [`Collaborators`] answers who may give those commands.

pub mod auth;
pub mod bulk;
pub mod octocrab;
pub mod rate;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::issues::IssueKey;
use crate::lifecycle::{Shown, State};
use crate::naming::RepoName;
use crate::naming::ServiceName;
use crate::pull_request::{BuildStatus, ConfigFile, PullEvent, PullRequest};
use bulk::{BulkFacts, Wants};
use rate::RateLimits;

/// Reads what the planner needs from a code host.
#[async_trait]
pub trait PullRequestSource: Send + Sync {
    /// Every open pull request of `repo`, all pages. Fails as a whole if any page fails: a
    /// partial list must never be mistaken for "the other PRs were closed".
    async fn open_pull_requests(
        &self,
        repo: &RepoName,
    ) -> Result<Vec<Arc<PullRequest>>, GitHubError>;

    /// Pull request `number` of `repo` when it is still open, `None` when it is closed or
    /// merged. Asked only for a PR that vanished from a listing: a PR closed while a long list
    /// is paged shifts the pages and can hide another PR, whose absence is no evidence.
    async fn open_pull_request(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Option<PullRequest>, GitHubError>;

    /// The file at `path` in `repo` at commit `sha`: [`ConfigFile::Missing`] on 404.
    async fn file_at(
        &self,
        repo: &RepoName,
        sha: &str,
        path: &str,
    ) -> Result<ConfigFile, GitHubError>;

    /// The git object SHA of `path` at commit `sha` (what `git rev-parse <sha>:<path>` prints),
    /// or `None` when the path does not exist at that commit.
    async fn object_sha_at(
        &self,
        repo: &RepoName,
        sha: &str,
        path: &str,
    ) -> Result<Option<String>, GitHubError>;

    /// What the check run called `check_name` says about commit `sha` of `repo`: the newest
    /// run of that name decides, and no run yet is [`BuildStatus::Pending`]. Read for the
    /// services whose fleet names a `build_check`, so that an image is deployed only once built.
    async fn build_status(
        &self,
        repo: &RepoName,
        sha: &str,
        check_name: &str,
    ) -> Result<BuildStatus, GitHubError>;

    /// The commits of pull request `number`, newest first, at most `limit` (GitHub lists at
    /// most 250 commits of a pull request). Asked only when a PR's head is not built and no
    /// earlier built commit of it is known (after a restart): the newest built one is kept
    /// deployed instead of removing the preview.
    async fn pull_request_commits(
        &self,
        repo: &RepoName,
        number: u64,
        limit: usize,
    ) -> Result<Vec<String>, GitHubError>;

    /// What people did on pull request `number` of `repo` (pushes, label changes, comments
    /// and reviews, `/preview` commands), oldest first, all pages: what idle expiry, sleep and
    /// the queue are computed from (see [`crate::pull_request::summarize`]). preview-tower's
    /// own comments and deployments, and other bots' comments and reviews, are left out.
    ///
    /// `Ok(None)`: this source cannot tell (the demo's default). The PR's activity then stays
    /// unknown, and a preview whose activity is unknown never expires. Asked only for an
    /// eligible PR that is new to the sync or whose `updated_at` moved since the last read.
    async fn pull_request_activity(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Option<Vec<PullEvent>>, GitHubError> {
        let _ = (repo, number);
        Ok(None)
    }

    /// Reads `wants` in bulk (GitHub: a few GraphQL queries for the whole repository).
    /// `Ok(None)`: no bulk read for `repo` (the default; the demo; GitHub Enterprise Server
    /// without GraphQL): the sync reads every fact one at a time. `Err`: nothing was read.
    /// What was read is in [`BulkFacts`]; what was not is absent from it, never "missing".
    async fn bulk_facts(
        &self,
        repo: &RepoName,
        wants: &Wants,
    ) -> Result<Option<BulkFacts>, GitHubError> {
        let _ = (repo, wants);
        Ok(None)
    }

    /// The rate-limit record of the client behind this source, when it has one (GitHub's
    /// does; the demo's does not): the sync holds polling off with it and `serve` exports it.
    fn rate_limits(&self) -> Option<Arc<RateLimits>> {
        None
    }
}

/// Who may act on a repository: the permission behind a `/preview` command.
#[async_trait]
pub trait Collaborators: Send + Sync {
    /// The legacy base permission of `user` on `repo` (`GET
    /// /repos/{owner}/{repo}/collaborators/{user}/permission`): `admin`, `write`, `read` or
    /// `none` (`maintain` is reported as `write`, `triage` as `read`). A user who is not a
    /// collaborator, or a login that is not valid GitHub syntax (see [`valid_login`]), is
    /// `none`: never an error, never a request with an untrusted name in its path.
    /// Judge the answer with `sync::may_command`.
    async fn permission(&self, repo: &RepoName, user: &str) -> Result<String, GitHubError>;
}

/// Longest GitHub login (user or organisation), in characters.
pub const MAX_LOGIN_CHARS: usize = 39;

/// Whether `login` is GitHub login syntax, safe to put in a URL path: 1 to
/// [`MAX_LOGIN_CHARS`] ASCII letters, digits, `-` or `_` (`_` appears in Enterprise Managed
/// Users' logins, `name_shortcode`), optionally followed by `[bot]` (GitHub Apps' bot users,
/// `dependabot[bot]`). Looser than GitHub's sign-up rule (no leading or doubled `-`), which
/// older accounts predate; strict enough that nothing needs escaping but the brackets.
pub fn valid_login(login: &str) -> bool {
    let name = login.strip_suffix("[bot]").unwrap_or(login);
    !name.is_empty()
        && name.len() <= MAX_LOGIN_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why a call to GitHub (a read, a lifecycle write, a permission check) failed. None of these
/// is evidence about any pull request.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// Primary or secondary rate limit (403 or 429 with rate-limit headers).
    #[error("rate limited by GitHub{}", retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// When GitHub said to come back, from `Retry-After` or `x-ratelimit-reset`.
        retry_after: Option<Duration>,
    },
    /// Bad or missing credentials, or no access to the repository (401, 403, 404 on the repo).
    #[error("not authorized: {0}")]
    Unauthorized(String),
    /// The request took longer than the configured timeout.
    #[error("GitHub did not answer in time")]
    Timeout,
    /// GitHub answered with an unexpected status.
    #[error("GitHub answered {status}: {message}")]
    Upstream {
        /// HTTP status code.
        status: u16,
        /// GitHub's `message`, or a summary of the body.
        message: String,
    },
    /// GitHub answered 2xx with a body we could not read.
    #[error("malformed answer from GitHub: {0}")]
    Malformed(String),
    /// Connection refused, DNS, TLS or other transport failure.
    #[error("cannot reach GitHub: {0}")]
    Transport(String),
    /// Authentication setup failed (GitHub App installation lookup, token exchange).
    #[error("GitHub authentication failed: {0}")]
    Auth(String),
}

impl GitHubError {
    /// A short, bounded label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Unauthorized(_) => "unauthorized",
            Self::Timeout => "timeout",
            Self::Upstream { .. } => "upstream",
            Self::Malformed(_) => "malformed",
            Self::Transport(_) => "transport",
            Self::Auth(_) => "auth",
        }
    }

    /// Whether every other call would fail the same way now (rate limit, credentials, network),
    /// as opposed to a failure tied to one commit or path.
    pub fn affects_every_call(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Unauthorized(_)
                | Self::Auth(_)
                | Self::Timeout
                | Self::Transport(_)
        )
    }

    /// How long to wait before trying again, when GitHub said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

/// The `task` of every deployment preview-tower creates: how its deployments are told apart
/// from the ones other tools make in the same repository.
pub const DEPLOYMENT_TASK: &str = "deploy:preview";

/// A deployment to create: always transient, never production, no auto-merge, no required
/// contexts, task [`DEPLOYMENT_TASK`], with `{"preview_tower": {"service", "pull_request"}}`
/// (plus `"issues"`, the Jira keys) as its payload so that it can be read back after a restart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDeployment {
    /// The GitHub environment: the preview's name (no `/`).
    pub environment: String,
    /// The head commit deployed (a full SHA, never a branch: immutable).
    pub sha: String,
    /// The service previewed.
    pub service: ServiceName,
    /// The pull request previewed.
    pub number: u64,
    /// The Jira issues the PR names, kept in the payload so that its "gone" note can still be
    /// posted after a restart.
    pub issues: Vec<IssueKey>,
    /// Short description (at most 140 characters).
    pub description: String,
}

/// A deployment status to post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStatus {
    /// The state.
    pub state: State,
    /// The preview's URL (with `success`).
    pub environment_url: Option<String>,
    /// The Argo CD Application's page.
    pub log_url: Option<String>,
    /// Why, at most 140 characters.
    pub description: String,
}

/// A comment on a pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueComment {
    /// GitHub's comment id.
    pub id: u64,
    /// Its Markdown.
    pub body: String,
}

/// Writes where developers look on GitHub: deployments with statuses, and the sticky comment.
///
/// No pacing or retries here: the lifecycle worker serializes writes, keeps them a second apart
/// and backs off. Errors are [`GitHubError`]s (a secondary limit is `RateLimited`).
#[async_trait]
pub trait PreviewReporter: Send + Sync {
    /// preview-tower's deployments in `repo` (task [`DEPLOYMENT_TASK`], a readable payload),
    /// in `environment` when given, newest first, at most `limit`, each with its latest status.
    /// Deployments of other tools or with an unreadable payload are skipped.
    async fn deployments(
        &self,
        repo: &RepoName,
        environment: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Shown>, GitHubError>;

    /// Creates a deployment; its id.
    async fn create_deployment(
        &self,
        repo: &RepoName,
        deployment: &NewDeployment,
    ) -> Result<u64, GitHubError>;

    /// Posts a status on deployment `id`.
    async fn create_status(
        &self,
        repo: &RepoName,
        id: u64,
        status: &NewStatus,
    ) -> Result<(), GitHubError>;

    /// The oldest comment on PR `number` whose body starts with `marker`, if any (all pages).
    async fn find_comment(
        &self,
        repo: &RepoName,
        number: u64,
        marker: &str,
    ) -> Result<Option<IssueComment>, GitHubError>;

    /// Adds a comment to PR `number`; its id.
    async fn create_comment(
        &self,
        repo: &RepoName,
        number: u64,
        body: &str,
    ) -> Result<u64, GitHubError>;

    /// Replaces the body of comment `id`.
    async fn update_comment(&self, repo: &RepoName, id: u64, body: &str)
    -> Result<(), GitHubError>;
}

#[cfg(test)]
mod tests {
    use super::valid_login;

    #[test]
    fn logins_are_github_syntax_or_refused() {
        for login in [
            "octocat",
            "Octo-Cat-2",
            "a",
            "mona_acme",
            "dependabot[bot]",
            &"x".repeat(39),
        ] {
            assert!(valid_login(login), "{login}");
        }
        for login in [
            "",
            "[bot]",
            "octo cat",
            "octo/cat",
            "../admin",
            "octo%2Fcat",
            "octocat[bot][bot]",
            "octocat?x=1",
            "ôctocat",
            &"x".repeat(40),
        ] {
            assert!(!valid_login(login), "{login}");
        }
    }
}
