//! The reads behind idle expiry, sleep and the queue: each eligible PR's activity (its
//! timeline), and who of the authors of `/preview` commands has write access.
//!
//! **When a timeline is read.** GitHub bumps a PR's `updated_at` on every comment, label
//! change, push and review, and the listing (free when unchanged, thanks to its `ETag`) shows
//! it. So a PR's activity is read when the PR is new to the sync or its `updated_at` moved
//! since the last read (or the last read was sent less than a minute after that `updated_at`:
//! GitHub's times have whole seconds, see `ReadActivity::complete_for`); otherwise the listing
//! itself proves nothing happened, and the facts' `read_at` advances to the time of the
//! listing. An unchanged fleet costs no request (a read again is revalidated: `304`, free).
//!
//! **Commits.** Each read carries over when the PR's commits were first seen, and notes the
//! read's sending time for a commit new to it: what a commit counts from at the latest,
//! whatever date its author gave it (see `pull_request::summarize`). Forgotten with the PR.
//!
//! **Failures.** A read that fails keeps the PR's previous facts with their previous
//! `read_at`: expiry needs facts read after the moment a preview was due, so an outage never
//! expires anything. It does not fail the refresh (the listing and the files are committed);
//! it is logged and counted, and tried again at the next refresh.
//!
//! **Permissions.** A command is honoured only when its author has write access (see
//! `sync/permissions.rs`, which keeps the answers). An answer is asked again, after
//! `PERMISSION_TTL`, only when that PR's activity changed (so an unchanged fleet still costs
//! nothing). A failed check leaves the previous answer, or "not authorized yet" when there is
//! none: tried again next time.

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use std::sync::Arc;
use tracing::{debug, warn};

use super::bulk::BulkRead;
use super::{FETCH_CONCURRENCY, Syncer};
use crate::naming::RepoName;
use crate::plan;
use crate::pull_request::{PullRequest, command_authors};

impl Syncer {
    /// Reads the activity of `repo`'s eligible PRs that changed since their last read, and
    /// advances the others' `read_at` to `listed_at` (when their listing was asked for). Then
    /// resolves the permissions their commands need. Never fails: see the module doc.
    pub(super) async fn fetch_activity(
        &self,
        repo: &RepoName,
        pulls: &[Arc<PullRequest>],
        listed_at: DateTime<Utc>,
        bulk: &BulkRead,
    ) {
        let services: Vec<_> = self.fleet.services_of(repo).collect();
        let eligible = pulls.iter().filter(|pr| {
            services
                .iter()
                .any(|s| plan::eligibility(pr, &s.policy).is_ok())
        });
        let stale: Vec<(u64, DateTime<Utc>)> = {
            let mut state = self.lock();
            eligible
                // Read in bulk just now, or left to settle later (see `sync/bulk.rs`).
                .filter(|pr| {
                    let n = pr.number;
                    !bulk.activity.contains(&n)
                        && !bulk.deferred.contains(&n)
                        && !bulk.withheld.activity.contains(&n)
                })
                .filter(|pr| {
                    let key = (repo.clone(), pr.number);
                    let changed = state.activity_changed.contains_key(&key);
                    match state.activity.get_mut(&key) {
                        Some(read) if read.complete_for(pr.updated_at) && !changed => {
                            read.read_at = read.read_at.max(listed_at);
                            self.count("pull_request_activity", "cache_hit");
                            false
                        }
                        _ => true,
                    }
                })
                .map(|pr| (pr.number, pr.updated_at))
                .collect()
        };
        let mut reads = stream::iter(stale.iter().copied())
            .map(|(number, updated_at)| self.read_activity(repo, number, updated_at))
            .buffer_unordered(FETCH_CONCURRENCY);
        let mut changed = bulk.changed.clone();
        while let Some(result) = reads.next().await {
            match result {
                Ok(Some(number)) => changed.push(number),
                Ok(None) => {}
                Err(error) => {
                    warn!(repo = %repo, error = %error, kind = error.kind(),
                        "cannot read a pull request's activity; its last facts stay (nothing expires for it)");
                    if error.affects_every_call() {
                        break;
                    }
                }
            }
        }
        drop(reads);
        self.resolve_permissions(repo, &changed).await;
    }

    /// Reads and records the activity of PR `number`; `Some(number)` when its events changed.
    async fn read_activity(
        &self,
        repo: &RepoName,
        number: u64,
        updated_at: DateTime<Utc>,
    ) -> Result<Option<u64>, crate::github::GitHubError> {
        let started = self.now();
        let events = self
            .call(
                "pull_request_activity",
                self.source.pull_request_activity(repo, number),
            )
            .await?;
        debug!(repo = %repo, number, events = events.as_ref().map(Vec::len), "activity read");
        let key = (repo.clone(), number);
        let changed = self
            .lock()
            .record_activity(key, events, updated_at, started);
        Ok(changed.then_some(number))
    }

    /// Asks who of the command authors of `repo`'s PRs has write access, where unknown, or
    /// known for longer than [`PERMISSION_TTL`](super::permissions::PERMISSION_TTL) on a PR
    /// in `reread` (whose events changed).
    async fn resolve_permissions(&self, repo: &RepoName, reread: &[u64]) {
        let Some(collaborators) = self.collaborators.clone() else {
            return;
        };
        let now = self.now();
        let mut wanted: Vec<String> = {
            let state = self.lock();
            let stale = |login: &str, number: u64| {
                let changed = reread.contains(&number);
                state.permissions.stale(repo, login, changed, now)
            };
            state
                .activity
                .iter()
                .filter(|((r, _), _)| r == repo)
                .flat_map(|((_, number), read)| {
                    read.events
                        .iter()
                        .flat_map(|events| command_authors(events))
                        .filter(|login| stale(login, *number))
                        .map(str::to_ascii_lowercase)
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        wanted.sort();
        wanted.dedup();
        for login in wanted {
            let asked = self.ask(collaborators.as_ref(), repo, &login);
            if let Err(error) = self.call("permission", asked).await {
                warn!(repo = %repo, login, error = %error,
                    "cannot check who gave a /preview command; asked again next time");
                if error.affects_every_call() {
                    break;
                }
            }
        }
    }
}
