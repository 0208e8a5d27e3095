//! The reads behind the image-readiness gate: for each eligible PR of a service with a
//! `build_check`, the check's status on the head commit, and the PR's newest built commit.
//!
//! A success is final for a commit (its image exists), so it is read once; a pending or failed
//! build is read again at every refresh (a re-run can pass; the adapter's `ETag` makes an
//! unchanged answer free). Whenever the head is seen built, it becomes the PR's last built
//! commit, which its preview runs while a later head builds.
//!
//! **After a restart** that memory is empty, and a PR whose head is still building may have a
//! preview running an earlier commit. Removing it would destroy its namespace and data because
//! the process restarted; deploying the head would ask for an image that may not exist. So the
//! PR's own commits are searched, newest first, for one whose build succeeded (at most
//! [`SEARCH_DEPTH`] of them, once per head), then the commit its Argo CD Application last
//! synced, when known (it was built, or it would not have been deployed; a PR may have pushed
//! more than [`SEARCH_DEPTH`] failing commits since): the preview then runs the newest built
//! commit, which is the one it ran before the restart unless a later one was built meanwhile.
//! Only a PR none of whose recent commits ever built waits with no preview, which is also what
//! a new PR does. Until the search is done, the plan knows that it does not know
//! (`BuildFacts::fallback_known`), and holds a PR that may hold a preview.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::{StreamExt, stream};
use tracing::info;

use super::bulk::BulkRead;
use super::state::BuildKey;
use super::{Syncer, first_error};
use crate::argocd::PreviewRevisions;
use crate::github::GitHubError;
use crate::naming::ServiceName;
use crate::naming::{PreviewKey, RepoName};
use crate::plan;
use crate::pull_request::{BuildStatus, PullRequest};

/// How many commits before the head are searched for a built one.
pub(crate) const SEARCH_DEPTH: usize = 10;

/// One eligible PR of one gated service.
pub(super) struct Gated {
    service: ServiceName,
    pub(super) check: String,
    number: u64,
    pub(super) head: String,
    /// The commit its Application last synced, when Argo CD says.
    deployed: Option<String>,
}

impl Syncer {
    /// Reads the build statuses the gate needs for `repo`'s PRs and records each PR's newest
    /// built commit; returns the first error. A failure tied to one commit does not stop the
    /// others; one that would hit every read does.
    pub(super) async fn fetch_builds(
        &self,
        repo: &RepoName,
        pulls: &[Arc<PullRequest>],
        applications: Option<&PreviewRevisions>,
        bulk: &BulkRead,
    ) -> Option<GitHubError> {
        let gated = self.gated(repo, pulls, applications);
        if gated.is_empty() {
            return None;
        }
        let heads: BTreeSet<BuildKey> = gated
            .iter()
            .map(|g| (repo.clone(), g.head.clone(), g.check.clone()))
            // Read in bulk in this refresh: not again (a pending build is read again next time).
            .filter(|key| !bulk.builds.contains(key) && !bulk.withholds(&key.1))
            .collect();
        let mut first_error = self.read_statuses(heads).await;
        if first_error
            .as_ref()
            .is_some_and(GitHubError::affects_every_call)
        {
            return first_error;
        }
        // Without the Applications, when they are expected, a search that finds nothing
        // proves nothing: the commit a preview runs may be the one built.
        let conclusive = applications.is_some() || self.applications.is_none();
        for pr in &gated {
            // A head whose status a failing bulk read withheld is not known unbuilt: no search
            // (it would find an earlier built commit and roll a running preview back to it).
            if bulk.withholds(&pr.head) || !self.needs_search(repo, pr, conclusive) {
                continue;
            }
            if let Err(error) = self.search_built(repo, pr, conclusive).await {
                let stop = error.affects_every_call();
                first_error.get_or_insert(error);
                if stop {
                    break;
                }
            }
        }
        first_error
    }

    /// Records a built head as the PR's last built commit; whether the PR's earlier commits
    /// must be searched for one: its head is not built, none is known, and no search settles
    /// it (made at this head with the commit its Application runs, and conclusive, or as
    /// conclusive as one made now could be: an inconclusive search is not repeated at every
    /// refresh while the Applications stay unknown).
    fn needs_search(&self, repo: &RepoName, pr: &Gated, conclusive: bool) -> bool {
        let key = PreviewKey::new(pr.service.clone(), pr.number);
        let status_key = (repo.clone(), pr.head.clone(), pr.check.clone());
        let mut state = self.lock();
        if state.builds.get(&status_key) == Some(&BuildStatus::Succeeded) {
            state.last_built.insert(key, pr.head.clone());
            return false;
        }
        let settled = state
            .searched
            .get(&key)
            .is_some_and(|s| s.settles(&pr.head, pr.deployed.as_ref(), conclusive));
        !state.last_built.contains_key(&key) && !settled
    }

    /// The eligible PRs of `repo` under each service that has a build check.
    pub(super) fn gated(
        &self,
        repo: &RepoName,
        pulls: &[Arc<PullRequest>],
        applications: Option<&PreviewRevisions>,
    ) -> Vec<Gated> {
        let services = self.fleet.services_of(repo);
        services
            .filter_map(|s| Some((s, s.policy.build_check.as_ref()?)))
            .flat_map(|(service, check)| {
                pulls
                    .iter()
                    .filter(|pr| plan::eligibility(pr, &service.policy).is_ok())
                    .map(|pr| Gated {
                        service: service.name.clone(),
                        check: check.clone(),
                        number: pr.number,
                        head: pr.head_sha.clone(),
                        deployed: applications
                            .and_then(|a| a.get(&PreviewKey::new(service.name.clone(), pr.number)))
                            .cloned()
                            .flatten(),
                    })
            })
            .collect()
    }

    /// Reads every status in `keys` that is not known to have succeeded; the first error.
    async fn read_statuses(&self, keys: BTreeSet<BuildKey>) -> Option<GitHubError> {
        let missing: Vec<BuildKey> = {
            let state = self.lock();
            keys.into_iter()
                .filter(|key| {
                    let built = state.builds.get(key) == Some(&BuildStatus::Succeeded);
                    if built {
                        self.count("build_status", "cache_hit");
                    }
                    !built
                })
                .collect()
        };
        first_error(stream::iter(missing).map(|key| self.read_status(key))).await
    }

    async fn read_status(&self, key: BuildKey) -> Result<BuildStatus, GitHubError> {
        let (repo, sha, check) = &key;
        let status = self
            .call("build_status", self.source.build_status(repo, sha, check))
            .await?;
        self.lock().builds.insert(key, status.clone());
        Ok(status)
    }

    /// Searches the commits of `pr` before its head, newest first, then the commit its
    /// Application runs, for one whose build succeeded, and records it as the PR's last built
    /// commit. Done once per head: a search that failed is tried again at the next refresh.
    async fn search_built(
        &self,
        repo: &RepoName,
        pr: &Gated,
        conclusive: bool,
    ) -> Result<(), GitHubError> {
        let commits = self
            .call(
                "pull_request_commits",
                self.source
                    .pull_request_commits(repo, pr.number, SEARCH_DEPTH + 1),
            )
            .await?;
        let mut candidates: Vec<String> = commits
            .into_iter()
            .filter(|sha| *sha != pr.head)
            .take(SEARCH_DEPTH)
            .collect();
        if let Some(deployed) = pr.deployed.as_ref().filter(|sha| **sha != pr.head)
            && !candidates.contains(deployed)
        {
            candidates.push(deployed.clone());
        }
        let mut found = false;
        for sha in candidates {
            let key = (repo.clone(), sha.clone(), pr.check.clone());
            let known = self.lock().builds.get(&key).cloned();
            let status = match known {
                Some(status @ BuildStatus::Succeeded) => status,
                _ => match self.read_status(key).await {
                    Ok(status) => status,
                    // The Application's commit may not be this repo's (another source): GitHub
                    // says it has no such commit, which is no build of it.
                    Err(GitHubError::Upstream {
                        status: 404 | 422, ..
                    }) if Some(&sha) == pr.deployed.as_ref() => {
                        continue;
                    }
                    Err(error) => return Err(error),
                },
            };
            if status.succeeded() {
                info!(repo = %repo, number = pr.number, service = %pr.service, sha = %sha,
                    "the head is not built; its preview runs the newest built commit");
                let mut state = self.lock();
                let key = PreviewKey::new(pr.service.clone(), pr.number);
                state.last_built.entry(key).or_insert(sha);
                found = true;
                break;
            }
        }
        let search = super::state::Search {
            head: pr.head.clone(),
            deployed: pr.deployed.clone(),
            conclusive: found || conclusive,
        };
        self.lock()
            .searched
            .insert(PreviewKey::new(pr.service.clone(), pr.number), search);
        Ok(())
    }
}
