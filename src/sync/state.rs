//! What the sync remembers between refreshes: the last good PR list of each repo, the facts
//! read per head SHA, and the last valid repo config of each PR. Plain data, no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::fleet::{Fleet, ServiceName};
use crate::plan::{self, Plan, PlanInput, PullFacts};
use crate::pull_request::{ConfigFile, HeadFacts, PullRequest, RepoName};
use crate::repo_config::RepoConfig;

/// A file read at a commit: `(repo, sha, path)`.
pub(crate) type ObjectKey = (RepoName, String, String);

/// The reads a service's preview needs at a PR's head commit.
pub(crate) struct HeadKeys {
    /// The repo config file.
    pub(crate) config: ObjectKey,
    /// The seed path, when the service has a seed.
    pub(crate) seed: Option<ObjectKey>,
}

/// What `service` needs read at `pr`'s head: what [`SyncState::head`] looks up.
pub(crate) fn head_keys(
    fleet: &Fleet,
    service: &crate::fleet::Service,
    pr: &PullRequest,
) -> HeadKeys {
    let key = |path: &str| (service.repo.clone(), pr.head_sha.clone(), path.to_owned());
    HeadKeys {
        config: key(&fleet.repo_config_path),
        seed: service.seed.as_ref().map(|seed| key(&seed.path)),
    }
}

/// The sync's memory.
#[derive(Debug, Default)]
pub(crate) struct SyncState {
    /// The last complete list of open PRs per repo. A repo is absent until its first success.
    pub(crate) pulls: HashMap<RepoName, Vec<PullRequest>>,
    /// Repo config files by `(repo, sha, path)`: never change, kept while the SHA is a head.
    pub(crate) files: HashMap<ObjectKey, ConfigFile>,
    /// Seed path object SHAs by `(repo, sha, path)`.
    pub(crate) objects: HashMap<ObjectKey, Option<String>>,
    /// The last valid repo config per service and PR.
    pub(crate) last_valid: HashMap<(ServiceName, u64), RepoConfig>,
}

impl SyncState {
    /// The services whose repo has been listed at least once.
    pub(crate) fn synced_services(&self, fleet: &Fleet) -> BTreeSet<ServiceName> {
        fleet
            .services
            .iter()
            .filter(|s| self.pulls.contains_key(&s.repo))
            .map(|s| s.name.clone())
            .collect()
    }

    /// Plans from what is known, and remembers each preview's config when valid.
    pub(crate) fn plan(&mut self, fleet: &Fleet, now: DateTime<Utc>) -> Plan {
        let facts = self.facts(fleet);
        let plan = plan::plan(&PlanInput {
            fleet,
            services: facts
                .iter()
                .map(|(k, v)| (k.clone(), v.as_slice()))
                .collect(),
            now,
        });
        let open: HashSet<(ServiceName, u64)> = facts
            .iter()
            .flat_map(|(s, pulls)| pulls.iter().map(|p| (s.clone(), p.pr.number)))
            .collect();
        self.last_valid.retain(|key, _| open.contains(key));
        for preview in &plan.previews {
            if let Some(config) = preview.config.valid_config() {
                self.last_valid
                    .insert((preview.service.clone(), preview.pr.number), config.clone());
            }
        }
        plan
    }

    /// The planner's input per synced service.
    fn facts(&self, fleet: &Fleet) -> BTreeMap<ServiceName, Vec<PullFacts>> {
        let mut out = BTreeMap::new();
        for service in &fleet.services {
            let Some(pulls) = self.pulls.get(&service.repo) else {
                continue;
            };
            let facts = pulls
                .iter()
                .map(|pr| {
                    let head = plan::eligibility(pr, &service.policy)
                        .ok()
                        .and_then(|()| self.head(fleet, service, pr));
                    PullFacts {
                        pr: pr.clone(),
                        head,
                        last_valid_config: self
                            .last_valid
                            .get(&(service.name.clone(), pr.number))
                            .cloned(),
                    }
                })
                .collect();
            out.insert(service.name.clone(), facts);
        }
        out
    }

    /// The head facts of `pr` for `service`, when every piece has been read.
    fn head(
        &self,
        fleet: &Fleet,
        service: &crate::fleet::Service,
        pr: &PullRequest,
    ) -> Option<HeadFacts> {
        let keys = head_keys(fleet, service, pr);
        let config = self.files.get(&keys.config)?.clone();
        let seed_tree_sha = match &keys.seed {
            Some(key) => self.objects.get(key)?.clone(),
            None => None,
        };
        Some(HeadFacts {
            config,
            seed_tree_sha,
        })
    }

    /// For each PR of a new listing of `repo` whose head facts could not all be read, puts
    /// back its previous record when the facts of that one are known: the preview keeps its
    /// last good revision until the new commit is readable. A PR with no good record stays
    /// (it will be `Pending`, no preview yet). Returns how many were held back.
    pub(crate) fn hold_back_unread(
        &self,
        fleet: &Fleet,
        repo: &RepoName,
        pulls: &mut [PullRequest],
    ) -> usize {
        let previous = self.pulls.get(repo);
        let services: Vec<&crate::fleet::Service> =
            fleet.services.iter().filter(|s| &s.repo == repo).collect();
        let complete = |pr: &PullRequest| {
            services
                .iter()
                .filter(|s| plan::eligibility(pr, &s.policy).is_ok())
                .all(|s| self.head(fleet, s, pr).is_some())
        };
        let mut held = 0;
        for pr in pulls.iter_mut() {
            if complete(pr) {
                continue;
            }
            let old = previous
                .into_iter()
                .flatten()
                .find(|old| old.number == pr.number);
            if let Some(old) = old.filter(|old| complete(old)) {
                *pr = old.clone();
                held += 1;
            }
        }
        held
    }

    /// Forgets the facts of SHAs of `repo` that are no longer the head of an open PR.
    pub(crate) fn prune(&mut self, repo: &RepoName) {
        let heads: HashSet<&str> = self
            .pulls
            .get(repo)
            .into_iter()
            .flatten()
            .map(|pr| pr.head_sha.as_str())
            .collect();
        let keep = |key: &ObjectKey| &key.0 != repo || heads.contains(key.1.as_str());
        self.files.retain(|key, _| keep(key));
        self.objects.retain(|key, _| keep(key));
    }
}
