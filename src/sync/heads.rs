//! The reads behind each preview's files: for every eligible PR, the repo config file and the
//! seed path's object SHA at its head (and at its last built commit, for a service with a build
//! check). Keyed by SHA, they never change: each is read once, and a retry pays only for what
//! failed.

use futures::{StreamExt, stream};
use std::sync::Arc;

use super::first_error;

use super::Syncer;
use super::bulk::BulkRead;
use super::state::{self, ObjectKey};
use crate::github::GitHubError;
use crate::naming::{PreviewKey, RepoName};
use crate::plan;
use crate::pull_request::PullRequest;

impl Syncer {
    /// Reads, for every eligible PR of `repo`, what is not cached yet (at its head, and at its
    /// last built commit for a service with a build check), and returns the first error. What
    /// was read is cached even when another read fails. A failure tied to one commit does not
    /// stop the others; one that would hit every read (rate limit, credentials, network) does.
    pub(super) async fn fetch_heads(
        &self,
        repo: &RepoName,
        pulls: &[Arc<PullRequest>],
        bulk: &BulkRead,
    ) -> Option<GitHubError> {
        let mut wanted = self.wanted_reads(repo, pulls);
        // A failing bulk read's commits wait for the next refresh.
        wanted.retain(|((_, sha, _), _)| !bulk.withholds(sha));
        wanted.sort();
        wanted.dedup();
        let missing: Vec<(ObjectKey, bool)> = {
            let state = self.lock();
            wanted
                .into_iter()
                .filter(|(key, is_file)| {
                    let cached = if *is_file {
                        state.files.contains_key(key)
                    } else {
                        state.objects.contains_key(key)
                    };
                    if cached {
                        self.count(if *is_file { "file" } else { "object_sha" }, "cache_hit");
                    }
                    !cached
                })
                .collect()
        };
        let reads = stream::iter(missing).map(|(key, is_file)| self.fetch_one(key, is_file));
        first_error(reads).await
    }

    /// Every read the eligible PRs of `repo` need: `(key, is a file)` (else an object SHA).
    pub(super) fn wanted_reads(
        &self,
        repo: &RepoName,
        pulls: &[Arc<PullRequest>],
    ) -> Vec<(ObjectKey, bool)> {
        let mut wanted: Vec<(ObjectKey, bool)> = Vec::new();
        for service in self.fleet.services_of(repo) {
            for pr in pulls
                .iter()
                .filter(|pr| plan::eligibility(pr, &service.policy).is_ok())
            {
                let built = self
                    .lock()
                    .last_built
                    .get(&PreviewKey::new(service.name.clone(), pr.number))
                    .cloned();
                let shas = std::iter::once(pr.head_sha.clone()).chain(built);
                for keys in shas.map(|sha| state::keys_at(&self.fleet, service, &sha)) {
                    wanted.push((keys.config, true));
                    if let Some(seed) = keys.seed {
                        wanted.push((seed, false));
                    }
                }
            }
        }
        wanted
    }

    async fn fetch_one(&self, key: ObjectKey, is_file: bool) -> Result<(), GitHubError> {
        let (repo, sha, path) = &key;
        if is_file {
            let file = self
                .call("file", self.source.file_at(repo, sha, path))
                .await?;
            self.lock().files.insert(key, file);
        } else {
            let object = self
                .call("object_sha", self.source.object_sha_at(repo, sha, path))
                .await?;
            self.lock().objects.insert(key, object);
        }
        Ok(())
    }
}
