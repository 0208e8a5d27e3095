//! The [`PullRequestSource`] reads of [`GitHubSource`]: the open pull requests of a repository
//! (every page, revalidated with its `ETag`, a long list read twice), one pull request, a file
//! and a path's object SHA at a commit. Build statuses, commits and timelines have modules of
//! their own (`checks`, `activity`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use ::octocrab::Octocrab;
use async_trait::async_trait;
use http::StatusCode;

use super::{GitHubSource, MAX_PAGES, lock, transport, wire};
use crate::github::{GitHubError, PullRequestSource};
use crate::naming::RepoName;
use crate::pull_request::{BuildStatus, ConfigFile, PullEvent, PullRequest};

/// One page of a pull-request list as decoded, with the `ETag` it came with and its
/// `rel="next"` route. The body itself is not kept: a page of 100 pull requests is over a
/// megabyte of JSON for a few kilobytes of [`PullRequest`]s.
#[derive(Clone)]
pub(super) struct ListPage {
    etag: String,
    pulls: Arc<[Arc<PullRequest>]>,
    next: Option<String>,
}

impl GitHubSource {
    /// Every page of the open pull requests of `repo`. Pages whose `ETag` still matches cost
    /// no rate limit. GitHub lists newest first, so a PR opened or closed while a long list is
    /// paged shifts the pages and can hide another PR from that pass. A list of more than one
    /// page is therefore read twice and the union kept: the second pass costs nothing when no
    /// page changed, and a PR closed meanwhile is only kept until the next refresh.
    async fn list_pulls(&self, repo: &RepoName) -> Result<Vec<Arc<PullRequest>>, GitHubError> {
        let client = self.client(repo).await?;
        let previous = lock(&self.list_pages)
            .get(repo)
            .cloned()
            .unwrap_or_default();
        let (mut pulls, mut pages) = self.list_pass(&client, repo, &previous).await?;
        if pages.len() > 1 {
            let (again, again_pages) = self.list_pass(&client, repo, &pages).await?;
            let seen: HashSet<u64> = pulls.iter().map(|p| p.number).collect();
            pulls.extend(again.into_iter().filter(|p| !seen.contains(&p.number)));
            pages = again_pages;
        }
        pages.retain(|_, page| !page.etag.is_empty());
        lock(&self.list_pages).insert(repo.clone(), pages);
        Ok(pulls)
    }

    /// One pass over the pages, revalidating those in `previous`.
    async fn list_pass(
        &self,
        client: &Octocrab,
        repo: &RepoName,
        previous: &HashMap<String, ListPage>,
    ) -> Result<(Vec<Arc<PullRequest>>, HashMap<String, ListPage>), GitHubError> {
        let mut pages: HashMap<String, ListPage> = HashMap::new();
        let mut seen = HashSet::new();
        let mut pulls: Vec<Arc<PullRequest>> = Vec::new();
        let mut route = Some(wire::pulls_route(repo));
        while let Some(current) = route.take() {
            if pages.len() >= MAX_PAGES || pages.contains_key(&current) {
                return Err(GitHubError::Malformed(format!(
                    "the pull request list of {repo} does not end after {} pages",
                    pages.len()
                )));
            }
            let page = self
                .list_page(client, repo, &current, previous.get(&current))
                .await?;
            for pull in page.pulls.iter() {
                if seen.insert(pull.number) {
                    pulls.push(Arc::clone(pull));
                }
            }
            route = page.next.clone();
            pages.insert(current, page);
        }
        Ok((pulls, pages))
    }

    /// One page of a pull-request list, revalidated with its `ETag` when `cached`.
    async fn list_page(
        &self,
        client: &Octocrab,
        repo: &RepoName,
        route: &str,
        cached: Option<&ListPage>,
    ) -> Result<ListPage, GitHubError> {
        let etag = cached.map(|page| page.etag.as_str());
        // A page of 100 pull requests is about a megabyte of JSON: a few at a time, so that
        // the first refreshes of every repository (a restart) do not hold them all at once.
        let _reading = self.list_reads.acquire().await;
        let answer = transport::get(client, route, etag, &self.exchange).await?;
        match (answer.status, cached) {
            (StatusCode::NOT_MODIFIED, Some(page)) => Ok(page.clone()),
            (status, _) if status.is_success() && status != StatusCode::NOT_MODIFIED => {
                Ok(ListPage {
                    etag: answer.header("etag").unwrap_or_default().to_owned(),
                    next: wire::next_route(&answer.headers, &self.api_url)?,
                    pulls: wire::decode_pulls(&answer.body)?
                        .into_iter()
                        .map(Arc::new)
                        .collect(),
                })
            }
            (StatusCode::NOT_FOUND, _) => Err(GitHubError::Unauthorized(format!(
                "{repo} does not exist or these credentials cannot see it"
            ))),
            _ => Err(transport::status_error(&answer)),
        }
    }

    async fn read_pull(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Option<PullRequest>, GitHubError> {
        let client = self.client(repo).await?;
        let route = wire::pull_route(repo, number);
        let answer = transport::get(&client, &route, None, &self.exchange).await?;
        match answer.status {
            // Only `state: closed` is evidence; a 404 (permissions, a renamed repo, a lagging
            // replica) is not, alone: the sync counts repeated ones (`sync/hold.rs`).
            status if status.is_success() => wire::decode_pull(&answer.body),
            _ => Err(transport::status_error(&answer)),
        }
    }

    async fn read_file(
        &self,
        repo: &RepoName,
        sha: &str,
        path: &str,
    ) -> Result<ConfigFile, GitHubError> {
        let client = self.client(repo).await?;
        let route = wire::contents_route(repo, path, sha);
        let answer = transport::get(&client, &route, None, &self.exchange).await?;
        match answer.status {
            StatusCode::NOT_FOUND if !unknown_commit(&answer) => Ok(ConfigFile::Missing),
            status if status.is_success() => wire::decode_file(&answer.body, path),
            _ => Err(transport::status_error(&answer)),
        }
    }

    async fn read_object_sha(
        &self,
        repo: &RepoName,
        sha: &str,
        path: &str,
    ) -> Result<Option<String>, GitHubError> {
        let path = path.trim_matches('/');
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        if name.is_empty() {
            return Ok(None);
        }
        let client = self.client(repo).await?;
        let route = wire::contents_route(repo, parent, sha);
        let answer = transport::get(&client, &route, None, &self.exchange).await?;
        match answer.status {
            StatusCode::NOT_FOUND if !unknown_commit(&answer) => Ok(None),
            status if status.is_success() => wire::entry_sha(&answer.body, name),
            _ => Err(transport::status_error(&answer)),
        }
    }
}

/// Whether a 404 means "no such commit" rather than "no such path": GitHub answers it for a
/// SHA pushed moments ago that its replicas do not know yet. Caching it as "no file" would be
/// wrong for that commit's whole life.
fn unknown_commit(answer: &transport::Answer) -> bool {
    transport::message(answer).starts_with("No commit found")
}

#[async_trait]
impl PullRequestSource for GitHubSource {
    async fn open_pull_requests(
        &self,
        repo: &RepoName,
    ) -> Result<Vec<Arc<PullRequest>>, GitHubError> {
        let started = Instant::now();
        let result = self.list_pulls(repo).await;
        self.finish(repo, "open_pull_requests", started, &result);
        result
    }

    async fn open_pull_request(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Option<PullRequest>, GitHubError> {
        let started = Instant::now();
        let result = self.read_pull(repo, number).await;
        self.finish(repo, "open_pull_request", started, &result);
        result
    }

    async fn file_at(
        &self,
        repo: &RepoName,
        sha: &str,
        path: &str,
    ) -> Result<ConfigFile, GitHubError> {
        let started = Instant::now();
        let result = self.read_file(repo, sha, path).await;
        self.finish(repo, "file_at", started, &result);
        result
    }

    async fn object_sha_at(
        &self,
        repo: &RepoName,
        sha: &str,
        path: &str,
    ) -> Result<Option<String>, GitHubError> {
        let started = Instant::now();
        let result = self.read_object_sha(repo, sha, path).await;
        self.finish(repo, "object_sha_at", started, &result);
        result
    }

    async fn build_status(
        &self,
        repo: &RepoName,
        sha: &str,
        check_name: &str,
    ) -> Result<BuildStatus, GitHubError> {
        self.logged_build_status(repo, sha, check_name).await
    }

    async fn pull_request_commits(
        &self,
        repo: &RepoName,
        number: u64,
        limit: usize,
    ) -> Result<Vec<String>, GitHubError> {
        self.logged_pull_commits(repo, number, limit).await
    }

    async fn pull_request_activity(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Option<Vec<PullEvent>>, GitHubError> {
        self.logged_activity(repo, number).await
    }

    async fn bulk_facts(
        &self,
        repo: &RepoName,
        wants: &crate::github::bulk::Wants,
    ) -> Result<Option<crate::github::bulk::BulkFacts>, GitHubError> {
        let started = Instant::now();
        let result = self.read_bulk(repo, wants).await;
        self.finish(repo, "bulk_facts", started, &result);
        result
    }

    fn rate_limits(&self) -> Option<Arc<crate::github::rate::RateLimits>> {
        Some(GitHubSource::rate_limits(self))
    }
}
