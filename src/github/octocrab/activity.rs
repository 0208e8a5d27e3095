//! The activity read of [`GitHubSource`]: a pull request's issue timeline, every page (see
//! `wire/activity.rs` for the shapes and the GitHub documentation they follow).
//!
//! Each page is revalidated with its `ETag`: an unchanged page answers `304` and costs no rate
//! limit. What is kept per route is the decoded events (a few dozen bytes each), not the body
//! (a page of comments can be hundreds of kilobytes). `Link` next targets are made relative
//! before they are followed, as for every other list. Nothing here retries: the sync decides
//! when to read again (only when the PR's `updated_at` moved).
//!
//! preview-tower's own events are left out: everything by its own account (see `own`: the
//! token's user, or the App's `<slug>[bot]`; shared with the reporter), and every bot's
//! comments and reviews.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use ::octocrab::Octocrab;
use http::StatusCode;

use super::wire::{self, activity};
use super::{GitHubSource, MAX_PAGES, lock, transport};
use crate::github::GitHubError;
use crate::naming::RepoName;
use crate::pull_request::PullEvent;

/// Most pages kept; the map is emptied when it would grow past this (one entry per page of
/// an eligible PR's timeline: one or two per PR).
const MAX_ENTRIES: usize = 10_000;

/// A decoded page with the `ETag` it came with, and its `rel="next"` route.
#[derive(Clone)]
struct Page {
    etag: String,
    next: Option<String>,
    events: Vec<PullEvent>,
}

/// The timeline pages read, by route.
#[derive(Default)]
pub(super) struct TimelineCache(Mutex<HashMap<String, Page>>);

impl TimelineCache {
    fn get(&self, route: &str) -> Option<Page> {
        lock(&self.0).get(route).cloned()
    }

    fn keep(&self, route: &str, page: &Page) {
        if page.etag.is_empty() {
            return;
        }
        let mut map = lock(&self.0);
        if map.len() >= MAX_ENTRIES && !map.contains_key(route) {
            map.clear();
        }
        map.insert(route.to_owned(), page.clone());
    }
}

impl GitHubSource {
    /// [`crate::github::PullRequestSource::pull_request_activity`], logged.
    pub(super) async fn logged_activity(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Option<Vec<PullEvent>>, GitHubError> {
        let started = Instant::now();
        let result = self.read_activity(repo, number).await.map(Some);
        self.finish(repo, "pull_request_activity", started, &result);
        result
    }

    async fn read_activity(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Vec<PullEvent>, GitHubError> {
        let client = self.client(repo).await?;
        let own = self.own_account().await?;
        let mut seen = HashSet::new();
        let mut events = Vec::new();
        let mut route = Some(activity::timeline_route(repo, number));
        while let Some(current) = route.take() {
            if seen.len() >= MAX_PAGES || !seen.insert(current.clone()) {
                return Err(GitHubError::Malformed(format!(
                    "the timeline of #{number} of {repo} does not end after {} pages",
                    seen.len()
                )));
            }
            let page = self.timeline_page(&client, &current, &own).await?;
            events.extend(page.events);
            route = page.next;
        }
        Ok(events)
    }

    async fn timeline_page(
        &self,
        client: &Octocrab,
        route: &str,
        own: &str,
    ) -> Result<Page, GitHubError> {
        let cached = self.timelines.get(route);
        let etag = cached.as_ref().map(|page| page.etag.as_str());
        let answer = transport::get(client, route, etag, &self.exchange).await?;
        match (answer.status, cached) {
            (StatusCode::NOT_MODIFIED, Some(page)) => Ok(page),
            (status, _) if status.is_success() && status != StatusCode::NOT_MODIFIED => {
                let page = Page {
                    etag: answer.header("etag").unwrap_or_default().to_owned(),
                    next: wire::next_route(&answer.headers, &self.api_url)?,
                    events: activity::decode_timeline(&answer.body, own)?,
                };
                self.timelines.keep(route, &page);
                Ok(page)
            }
            _ => Err(match transport::status_error(&answer) {
                GitHubError::Unauthorized(message) => GitHubError::Unauthorized(format!(
                    "{message} (reading a pull request's timeline needs the GitHub App's \
                     Issues: read or Pull requests: read permission)"
                )),
                other => other,
            }),
        }
    }
}
