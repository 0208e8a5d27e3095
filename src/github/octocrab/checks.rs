//! The image-readiness reads of [`GitHubSource`]: the build check's status on a commit, and the
//! commits of a pull request (to find its newest built commit after a restart).
//!
//! Both are revalidated with `ETag`s: a pending build is asked about at every refresh, and an
//! unchanged answer (`304`) costs no rate limit. What is kept per route is the decoded answer,
//! not the body (a page of commits is hundreds of kilobytes of JSON for 4 KB of SHAs). Like
//! the rest of the adapter, nothing here retries or caches beyond those `ETag`s: the sync
//! decides what to ask again.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use ::octocrab::Octocrab;
use http::StatusCode;

use super::wire::{self, checks};
use super::{GitHubSource, lock, transport};
use crate::github::GitHubError;
use crate::naming::RepoName;
use crate::pull_request::BuildStatus;

/// Most answers kept per kind; the map is emptied when it would grow past this (one entry per
/// pending build or page of commits: a few per open PR).
const MAX_ENTRIES: usize = 10_000;
/// Most pages of a pull request's commits: GitHub lists at most 250 commits, 100 per page.
const MAX_COMMIT_PAGES: usize = 5;

/// A decoded answer with the `ETag` it came with, and its `rel="next"` route.
#[derive(Clone)]
struct Revalidated<T> {
    etag: String,
    next: Option<String>,
    value: T,
}

/// The `ETag`s and decoded answers of the check-run and pull-request-commit reads, by route.
#[derive(Default)]
pub(super) struct ChecksCache {
    statuses: Mutex<HashMap<String, Revalidated<BuildStatus>>>,
    commit_pages: Mutex<HashMap<String, Revalidated<Vec<String>>>>,
}

fn keep<T>(map: &Mutex<HashMap<String, Revalidated<T>>>, route: &str, entry: Revalidated<T>) {
    if entry.etag.is_empty() {
        return;
    }
    let mut map = lock(map);
    if map.len() >= MAX_ENTRIES && !map.contains_key(route) {
        map.clear();
    }
    map.insert(route.to_owned(), entry);
}

impl GitHubSource {
    /// [`crate::github::PullRequestSource::build_status`], logged.
    pub(super) async fn logged_build_status(
        &self,
        repo: &RepoName,
        sha: &str,
        check_name: &str,
    ) -> Result<BuildStatus, GitHubError> {
        let started = Instant::now();
        let result = self.read_build_status(repo, sha, check_name).await;
        self.finish(repo, "build_status", started, &result);
        result
    }

    /// [`crate::github::PullRequestSource::pull_request_commits`], logged.
    pub(super) async fn logged_pull_commits(
        &self,
        repo: &RepoName,
        number: u64,
        limit: usize,
    ) -> Result<Vec<String>, GitHubError> {
        let started = Instant::now();
        let result = self.read_pull_commits(repo, number, limit).await;
        self.finish(repo, "pull_request_commits", started, &result);
        result
    }

    async fn read_build_status(
        &self,
        repo: &RepoName,
        sha: &str,
        check_name: &str,
    ) -> Result<BuildStatus, GitHubError> {
        let client = self.client(repo).await?;
        let route = checks::check_runs_route(repo, sha, check_name);
        let cached = lock(&self.checks.statuses).get(&route).cloned();
        let etag = cached.as_ref().map(|c| c.etag.as_str());
        let answer = transport::get(&client, &route, etag, &self.exchange).await?;
        match (answer.status, cached) {
            (StatusCode::NOT_MODIFIED, Some(cached)) => Ok(cached.value),
            (status, _) if status.is_success() && status != StatusCode::NOT_MODIFIED => {
                let value = checks::decode_build_status(&answer.body, sha, check_name)?;
                // A success is never asked about again (the sync keeps it): no entry needed.
                if value.succeeded() {
                    lock(&self.checks.statuses).remove(&route);
                } else {
                    let etag = answer.header("etag").unwrap_or_default().to_owned();
                    let entry = Revalidated {
                        etag,
                        next: None,
                        value: value.clone(),
                    };
                    keep(&self.checks.statuses, &route, entry);
                }
                Ok(value)
            }
            _ => Err(match transport::status_error(&answer) {
                GitHubError::Unauthorized(message) => GitHubError::Unauthorized(format!(
                    "{message} (reading check runs needs the GitHub App's Checks: read permission)"
                )),
                other => other,
            }),
        }
    }

    async fn read_pull_commits(
        &self,
        repo: &RepoName,
        number: u64,
        limit: usize,
    ) -> Result<Vec<String>, GitHubError> {
        let client = self.client(repo).await?;
        let mut seen = HashSet::new();
        let mut shas = Vec::new();
        let mut route = Some(checks::pull_commits_route(repo, number));
        while let Some(current) = route.take() {
            if seen.len() >= MAX_COMMIT_PAGES || !seen.insert(current.clone()) {
                return Err(GitHubError::Malformed(format!(
                    "the commits of pull request #{number} of {repo} do not end after {} pages",
                    seen.len()
                )));
            }
            let page = self.commit_page(&client, &current).await?;
            shas.extend(page.value);
            route = page.next;
        }
        // GitHub lists them oldest first.
        shas.reverse();
        shas.truncate(limit);
        Ok(shas)
    }

    async fn commit_page(
        &self,
        client: &Octocrab,
        route: &str,
    ) -> Result<Revalidated<Vec<String>>, GitHubError> {
        let cached = lock(&self.checks.commit_pages).get(route).cloned();
        let etag = cached.as_ref().map(|c| c.etag.as_str());
        let answer = transport::get(client, route, etag, &self.exchange).await?;
        match (answer.status, cached) {
            (StatusCode::NOT_MODIFIED, Some(cached)) => Ok(cached),
            (status, _) if status.is_success() && status != StatusCode::NOT_MODIFIED => {
                let page = Revalidated {
                    etag: answer.header("etag").unwrap_or_default().to_owned(),
                    next: wire::next_route(&answer.headers, &self.api_url)?,
                    value: checks::decode_pull_commits(&answer.body)?,
                };
                keep(&self.checks.commit_pages, route, page.clone());
                Ok(page)
            }
            _ => Err(transport::status_error(&answer)),
        }
    }
}
