//! The bulk read at the start of a repository's refresh: everything its PRs need that the
//! caches lack (files and path objects at their heads, build statuses never read, activity
//! that moved), asked of the source in one call ([`PullRequestSource::bulk_facts`]: GitHub's
//! adapter sends a few GraphQL queries). What it read goes into the same caches the
//! one-at-a-time reads fill, which then find it there; what it did not read they read as
//! before. So a bulk read can only save requests: a fault in it is never a missing file, a
//! pending build or a quiet PR, and the one-at-a-time reads decide as they always did.
//!
//! **Settling activity.** A timeline read sent less than [`SETTLE`] after the PR's
//! `updated_at` is read again later (see `ReadActivity::complete_for`): a comment in the same
//! second would not move `updated_at`. Over REST each re-read is free (`304`); in bulk each
//! costs a point, so with bulk reads such a PR is read again once, when a read settles it
//! (`SETTLE` after its `updated_at`), all of a repository's such PRs in one query. A
//! `/preview` command a webhook delivered is read at once ([`Syncer::activity_changed`]).
//!
//! [`PullRequestSource::bulk_facts`]: crate::github::PullRequestSource::bulk_facts

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing::{debug, warn};

use super::Syncer;
use super::state::{BuildKey, SETTLE};
use crate::argocd::PreviewRevisions;
use crate::github::GitHubError;
use crate::github::bulk::{BulkFacts, CommitWants, Wants, Withheld};
use crate::naming::RepoName;
use crate::plan;
use crate::pull_request::PullRequest;

/// What the bulk read did in this refresh, for the one-at-a-time reads that follow.
#[derive(Debug, Default)]
pub(super) struct BulkRead {
    /// Build statuses it read: not read again in this refresh.
    pub(super) builds: HashSet<BuildKey>,
    /// PRs whose activity it read: not read again in this refresh.
    pub(super) activity: HashSet<u64>,
    /// PRs whose unsettled activity is left for later (see the module doc).
    pub(super) deferred: HashSet<u64>,
    /// PRs whose events changed: their command authors' permissions may be asked.
    pub(super) changed: Vec<u64>,
    /// A rate limit on the whole client (GitHub's secondary limits count REST and GraphQL
    /// together): no read is made in this refresh; it is the refresh's error.
    pub(super) stop: Option<GitHubError>,
    /// Facts a failing bulk read left unread, not read one at a time in this refresh either,
    /// and why (the refresh's error).
    pub(super) withheld: Withheld,
}

impl BulkRead {
    /// Whether the facts at commit `sha` wait for the next refresh.
    pub(super) fn withholds(&self, sha: &str) -> bool {
        self.withheld.commits.contains(sha)
    }
}

impl Syncer {
    /// Reads in bulk what `repo`'s eligible PRs need and the caches lack. Never fails: what it
    /// could not read is left to the one-at-a-time reads.
    pub(super) async fn read_in_bulk(
        &self,
        repo: &RepoName,
        pulls: &[Arc<PullRequest>],
        applications: Option<&PreviewRevisions>,
    ) -> BulkRead {
        let sent_at = self.now();
        let (wants, deferred, updated) = self.bulk_wants(repo, pulls, applications, sent_at);
        let facts = match self
            .call("bulk_facts", self.source.bulk_facts(repo, &wants))
            .await
        {
            Ok(Some(facts)) => facts,
            // No bulk reads here: everything one at a time, as it always was.
            Ok(None) => return BulkRead::default(),
            Err(error) => {
                warn!(repo = %repo, error = %error, kind = error.kind(),
                    "cannot read in bulk; reading one fact at a time");
                let stop = matches!(error, GitHubError::RateLimited { .. }).then_some(error);
                return BulkRead {
                    deferred,
                    stop,
                    ..BulkRead::default()
                };
            }
        };
        if let Some(first) = facts.faults.first() {
            warn!(repo = %repo, faults = facts.faults.len(), first = %first,
                "some facts could not be read in bulk; reading them one at a time");
        }
        let mut read = BulkRead {
            deferred,
            ..BulkRead::default()
        };
        self.keep_bulk(repo, facts, &updated, sent_at, &mut read);
        read
    }

    /// What to ask for; the PRs whose unsettled activity waits; each wanted PR's `updated_at`.
    fn bulk_wants(
        &self,
        repo: &RepoName,
        pulls: &[Arc<PullRequest>],
        applications: Option<&PreviewRevisions>,
        now: DateTime<Utc>,
    ) -> (Wants, HashSet<u64>, BTreeMap<u64, DateTime<Utc>>) {
        let mut commits: BTreeMap<String, CommitWants> = BTreeMap::new();
        let reads = self.wanted_reads(repo, pulls);
        let gated = self.gated(repo, pulls, applications);
        let state = self.lock();
        for ((_, sha, path), is_file) in reads {
            let cached = if is_file {
                state
                    .files
                    .contains_key(&(repo.clone(), sha.clone(), path.clone()))
            } else {
                state
                    .objects
                    .contains_key(&(repo.clone(), sha.clone(), path.clone()))
            };
            if cached {
                continue;
            }
            let entry = commits.entry(sha.clone()).or_insert_with(|| CommitWants {
                sha,
                ..CommitWants::default()
            });
            let list = if is_file {
                &mut entry.files
            } else {
                &mut entry.objects
            };
            if !list.contains(&path) {
                list.push(path);
            }
        }
        for pr in gated {
            let key = (repo.clone(), pr.head.clone(), pr.check.clone());
            if state.builds.contains_key(&key) {
                continue;
            }
            let entry = commits
                .entry(pr.head.clone())
                .or_insert_with(|| CommitWants {
                    sha: pr.head.clone(),
                    ..CommitWants::default()
                });
            if !entry.checks.contains(&pr.check) {
                entry.checks.push(pr.check);
            }
        }
        let services: Vec<_> = self.fleet.services_of(repo).collect();
        let mut activity = Vec::new();
        let mut unsettled = Vec::new();
        let mut updated = BTreeMap::new();
        for pr in pulls.iter().filter(|pr| {
            services
                .iter()
                .any(|s| plan::eligibility(pr, &s.policy).is_ok())
        }) {
            let key = (repo.clone(), pr.number);
            let changed = state.activity_changed.contains_key(&key);
            match state.activity.get(&key) {
                Some(read) if read.complete_for(pr.updated_at) && !changed => continue,
                Some(read) if read.updated_at == pr.updated_at && !changed => {
                    // One read sent a minute after `updated_at` settles it; an earlier one
                    // would not, so it waits for that (or rides along with another read).
                    let due = now >= read.updated_at + SETTLE;
                    unsettled.push((pr.number, due));
                }
                _ => activity.push(pr.number),
            }
            updated.insert(pr.number, pr.updated_at);
        }
        drop(state);
        let mut deferred = HashSet::new();
        for (number, due) in unsettled {
            if due {
                activity.push(number);
            } else {
                deferred.insert(number);
                updated.remove(&number);
            }
        }
        let wants = Wants {
            commits: commits.into_values().collect(),
            activity,
        };
        (wants, deferred, updated)
    }

    /// Puts what the bulk read found into the caches.
    fn keep_bulk(
        &self,
        repo: &RepoName,
        mut facts: BulkFacts,
        updated: &BTreeMap<u64, DateTime<Utc>>,
        sent_at: DateTime<Utc>,
        read: &mut BulkRead,
    ) {
        read.withheld = std::mem::take(&mut facts.withheld);
        let mut state = self.lock();
        for ((sha, path), file) in facts.files {
            state.files.insert((repo.clone(), sha, path), file);
        }
        for ((sha, path), object) in facts.objects {
            state.objects.insert((repo.clone(), sha, path), object);
        }
        for ((sha, check), status) in facts.builds {
            let key = (repo.clone(), sha, check);
            state.builds.insert(key.clone(), status);
            read.builds.insert(key);
        }
        for (number, events) in facts.activity {
            let Some(updated_at) = updated.get(&number).copied() else {
                continue;
            };
            let key = (repo.clone(), number);
            if state.record_activity(key, Some(events), updated_at, sent_at) {
                read.changed.push(number);
            }
            read.activity.insert(number);
        }
        debug!(repo = %repo, points = facts.points, queries = facts.queries,
            activity = read.activity.len(), deferred = read.deferred.len(), "bulk read kept");
    }
}
