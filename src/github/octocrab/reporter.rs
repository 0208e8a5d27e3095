//! [`PreviewReporter`] for [`GitHubSource`]: deployments with their statuses, and the sticky
//! pull-request comment, over GitHub's REST API.
//!
//! Writes go out once, as built here (see [`report`]): no retries, no pacing. The lifecycle
//! worker serializes them and keeps them apart. Reads follow `Link` headers and revalidate
//! pages with their `ETag`s, so a level-triggered pass that finds nothing new costs no rate
//! limit.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use ::octocrab::Octocrab;
use async_trait::async_trait;
use http::{Method, StatusCode};

use super::wire::{self, report};
use super::{CachedPage, GitHubSource, MAX_PAGES, lock, transport};
use crate::github::{GitHubError, IssueComment, NewDeployment, NewStatus, PreviewReporter};
use crate::lifecycle::{Shown, State};
use crate::naming::RepoName;

/// Most bytes of list pages kept for revalidation; the cache is emptied when it would grow
/// past this (a comment page can be large, and a process serves many repositories).
const MAX_CACHED_BYTES: usize = 16 * 1024 * 1024;

/// The last answer of each list page the reporter read, by route, with its `ETag`.
#[derive(Default)]
pub(super) struct PageCache(Mutex<(HashMap<String, CachedPage>, usize)>);

impl PageCache {
    fn get(&self, route: &str) -> Option<CachedPage> {
        lock(&self.0).0.get(route).cloned()
    }

    fn keep(&self, route: &str, page: &CachedPage) {
        if page.etag.is_empty() {
            return;
        }
        let mut guard = lock(&self.0);
        let (pages, bytes) = &mut *guard;
        if *bytes + page.body.len() > MAX_CACHED_BYTES {
            pages.clear();
            *bytes = 0;
        }
        *bytes += page.body.len();
        if let Some(old) = pages.insert(route.to_owned(), page.clone()) {
            *bytes = bytes.saturating_sub(old.body.len());
        }
    }
}

/// What a write is about, for its log event.
#[derive(Clone, Copy, Default)]
struct Subject {
    pull_request: Option<u64>,
    deployment: Option<u64>,
    comment: Option<u64>,
}

impl GitHubSource {
    /// Reads the pages of a list from `route` in order, handing each body to `visit` until it
    /// answers `false` or the list ends. A `404` becomes `not_found()`.
    async fn each_page(
        &self,
        client: &Octocrab,
        route: String,
        not_found: impl Fn() -> GitHubError,
        mut visit: impl FnMut(&[u8]) -> Result<bool, GitHubError>,
    ) -> Result<(), GitHubError> {
        let mut seen = HashSet::new();
        let mut next = Some(route);
        while let Some(current) = next.take() {
            if seen.len() >= MAX_PAGES || seen.contains(&current) {
                return Err(GitHubError::Malformed(format!(
                    "the list at {current} does not end after {} pages",
                    seen.len()
                )));
            }
            let page = self.read_page(client, &current, &not_found).await?;
            seen.insert(current);
            if !visit(&page.body)? {
                break;
            }
            next = page.next;
        }
        Ok(())
    }

    /// One page, revalidated with its `ETag` when it was read before.
    async fn read_page(
        &self,
        client: &Octocrab,
        route: &str,
        not_found: &impl Fn() -> GitHubError,
    ) -> Result<CachedPage, GitHubError> {
        let cached = self.reads.get(route);
        let etag = cached.as_ref().map(|page| page.etag.as_str());
        let answer = transport::get(client, route, etag, &self.exchange).await?;
        let page = match (answer.status, cached) {
            (StatusCode::NOT_MODIFIED, Some(page)) => return Ok(page),
            (status, _) if status.is_success() && status != StatusCode::NOT_MODIFIED => {
                CachedPage {
                    etag: answer.header("etag").unwrap_or_default().to_owned(),
                    next: wire::next_route(&answer.headers, &self.api_url)?,
                    body: answer.body,
                }
            }
            (StatusCode::NOT_FOUND, _) => return Err(not_found()),
            _ => return Err(transport::status_error(&answer)),
        };
        self.reads.keep(route, &page);
        Ok(page)
    }

    /// Our deployments (made by our own account, see `own`), newest first. GitHub lists them newest first, which is what lets the
    /// paging stop at `limit`; the result is sorted by id all the same.
    async fn list_deployments(
        &self,
        repo: &RepoName,
        environment: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Shown>, GitHubError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let client = self.client(repo).await?;
        let route = report::deployments_route(repo, environment);
        let ours = self.own_account().await?;
        let mut found: Vec<Shown> = Vec::new();
        let mut ids = HashSet::new();
        self.each_page(
            &client,
            route,
            || not_visible(repo),
            |body| {
                // A deployment created while paging shifts the pages: it shows up twice.
                let page = report::decode_deployments(body, &ours)?;
                found.extend(page.into_iter().filter(|shown| ids.insert(shown.id)));
                Ok(found.len() < limit)
            },
        )
        .await?;
        found.sort_by_key(|shown| std::cmp::Reverse(shown.id));
        found.truncate(limit);
        let mut shown = Vec::with_capacity(found.len());
        // One at a time: GitHub asks integrations not to send concurrent requests.
        for mut deployment in found {
            match self.latest_state(&client, repo, deployment.id).await {
                Ok(state) => deployment.state = state,
                // Deleted since it was listed: GitHub no longer shows it.
                Err(GitHubError::Upstream { status: 404, .. }) => continue,
                Err(error) => return Err(error),
            }
            shown.push(deployment);
        }
        Ok(shown)
    }

    /// The state of the status with the highest id, all pages read: the order of the list is
    /// not documented.
    async fn latest_state(
        &self,
        client: &Octocrab,
        repo: &RepoName,
        id: u64,
    ) -> Result<Option<State>, GitHubError> {
        let route = format!("{}?per_page=100", report::statuses_route(repo, id));
        let gone = || GitHubError::Upstream {
            status: 404,
            message: format!("deployment {id} of {repo} does not exist"),
        };
        let mut latest: Option<(u64, State)> = None;
        self.each_page(client, route, gone, |body| {
            for (status, state) in report::decode_statuses(body)? {
                if latest.is_none_or(|(top, _)| status > top) {
                    latest = Some((status, state));
                }
            }
            Ok(true)
        })
        .await?;
        Ok(latest.map(|(_, state)| state))
    }

    async fn find_marked(
        &self,
        repo: &RepoName,
        number: u64,
        marker: &str,
    ) -> Result<Option<IssueComment>, GitHubError> {
        // An empty marker would claim someone else's comment.
        if marker.is_empty() {
            return Ok(None);
        }
        let client = self.client(repo).await?;
        let route = format!("{}?per_page=100", report::comments_route(repo, number));
        let missing = || GitHubError::Upstream {
            status: 404,
            message: format!("{repo} has no pull request #{number}, or it cannot be seen"),
        };
        // Only comments by our own account are ever adopted (see `own`), so neither a PR author
        // who pastes the marker nor a workflow writing as another bot can take it over.
        let ours = self.own_account().await?;
        let mut oldest: Option<IssueComment> = None;
        self.each_page(&client, route, missing, |body| {
            for (comment, author) in report::decode_comments(body)? {
                let older = oldest.as_ref().is_none_or(|o| comment.id < o.id);
                let by_us = author.is_some_and(|a| a.login.eq_ignore_ascii_case(&ours));
                if older && by_us && comment.body.starts_with(marker) {
                    oldest = Some(comment);
                }
            }
            Ok(true)
        })
        .await?;
        Ok(oldest)
    }

    /// Sends one write and checks that GitHub answered `expected`. Any other 2xx (a `202`
    /// "auto-merged" instead of a deployment, say) did not do what was asked: an error.
    async fn send<B: serde::Serialize + ?Sized>(
        &self,
        repo: &RepoName,
        method: Method,
        route: &str,
        body: &B,
        expected: StatusCode,
    ) -> Result<bytes::Bytes, GitHubError> {
        let client = self.client(repo).await?;
        let answer = transport::write(&client, method, route, body, &self.exchange).await?;
        match answer.status {
            status if status == expected => Ok(answer.body),
            status if status.is_success() || status.is_redirection() => {
                // octocrab follows a 301 with a GET: a renamed repository's write is a read.
                let hint = if status == StatusCode::OK {
                    " (redirected into a read?)"
                } else {
                    ""
                };
                Err(GitHubError::Upstream {
                    status: status.as_u16(),
                    message: format!(
                        "nothing written{hint}, {expected} expected: {}",
                        transport::message(&answer)
                    ),
                })
            }
            _ => Err(transport::status_error(&answer)),
        }
    }

    /// Logs one write (never its body or credentials) and forgets a broken installation.
    fn wrote<T>(
        &self,
        repo: &RepoName,
        operation: &str,
        subject: Subject,
        started: Instant,
        result: &Result<T, GitHubError>,
    ) {
        self.finish(repo, operation, started, result);
        let Subject {
            pull_request,
            deployment,
            comment,
        } = subject;
        match result {
            Ok(_) => {
                tracing::info!(%repo, operation, pull_request, deployment, comment, outcome = "ok", "GitHub write");
            }
            Err(error) => {
                tracing::warn!(%repo, operation, pull_request, deployment, comment, outcome = error.kind(), %error, "GitHub write failed");
            }
        }
    }
}

/// A `404` on a repository-level list or write.
fn not_visible(repo: &RepoName) -> GitHubError {
    GitHubError::Unauthorized(format!(
        "{repo} does not exist or these credentials cannot see it"
    ))
}

#[async_trait]
impl PreviewReporter for GitHubSource {
    async fn deployments(
        &self,
        repo: &RepoName,
        environment: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Shown>, GitHubError> {
        let started = Instant::now();
        let result = self.list_deployments(repo, environment, limit).await;
        self.finish(repo, "deployments", started, &result);
        result
    }

    async fn create_deployment(
        &self,
        repo: &RepoName,
        deployment: &NewDeployment,
    ) -> Result<u64, GitHubError> {
        let started = Instant::now();
        let route = report::create_deployment_route(repo);
        let body = report::DeploymentRequest::new(deployment);
        let result = match self
            .send(repo, Method::POST, &route, &body, StatusCode::CREATED)
            .await
        {
            Ok(answer) => report::decode_id(&answer, "deployment"),
            Err(GitHubError::Upstream { status: 404, .. }) => Err(not_visible(repo)),
            Err(error) => Err(error),
        };
        let subject = Subject {
            pull_request: Some(deployment.number),
            deployment: result.as_ref().ok().copied(),
            ..Subject::default()
        };
        self.wrote(repo, "create_deployment", subject, started, &result);
        result
    }

    async fn create_status(
        &self,
        repo: &RepoName,
        id: u64,
        status: &NewStatus,
    ) -> Result<(), GitHubError> {
        let started = Instant::now();
        let route = report::statuses_route(repo, id);
        let body = report::StatusRequest::new(status);
        let result = self
            .send(repo, Method::POST, &route, &body, StatusCode::CREATED)
            .await
            .map(drop);
        let subject = Subject {
            deployment: Some(id),
            ..Subject::default()
        };
        self.wrote(repo, "create_status", subject, started, &result);
        result
    }

    async fn find_comment(
        &self,
        repo: &RepoName,
        number: u64,
        marker: &str,
    ) -> Result<Option<IssueComment>, GitHubError> {
        let started = Instant::now();
        let result = self.find_marked(repo, number, marker).await;
        self.finish(repo, "find_comment", started, &result);
        result
    }

    async fn create_comment(
        &self,
        repo: &RepoName,
        number: u64,
        body: &str,
    ) -> Result<u64, GitHubError> {
        let started = Instant::now();
        let route = report::comments_route(repo, number);
        let request = report::CommentRequest { body };
        let result = self
            .send(repo, Method::POST, &route, &request, StatusCode::CREATED)
            .await
            .and_then(|answer| report::decode_id(&answer, "comment"));
        let subject = Subject {
            pull_request: Some(number),
            comment: result.as_ref().ok().copied(),
            ..Subject::default()
        };
        self.wrote(repo, "create_comment", subject, started, &result);
        result
    }

    async fn update_comment(
        &self,
        repo: &RepoName,
        id: u64,
        body: &str,
    ) -> Result<(), GitHubError> {
        let started = Instant::now();
        let route = report::comment_route(repo, id);
        let request = report::CommentRequest { body };
        let result = self
            .send(repo, Method::PATCH, &route, &request, StatusCode::OK)
            .await
            .map(drop);
        let subject = Subject {
            comment: Some(id),
            ..Subject::default()
        };
        self.wrote(repo, "update_comment", subject, started, &result);
        result
    }
}
