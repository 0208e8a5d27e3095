//! What the sync remembers between refreshes: the last good PR list of each repo, the facts
//! read per head SHA, the last valid repo config of each PR, and for services with a build
//! check, the build statuses read per SHA and the newest built commit of each PR; and what the
//! hold rule needs (`sync/hold.rs`): PRs confirmed closed, the services resolved once, the
//! last failure of each repo. Plain data, no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::permissions::Permissions;
use crate::argocd::PreviewRevisions;
use crate::fleet::Fleet;
use crate::naming::ServiceName;
use crate::naming::{PreviewKey, RepoName};
use crate::plan::{self, BuildFacts, Builds, BuiltCommit, Plan, PlanInput, PullFacts};
use crate::pull_request::Activity;
use crate::pull_request::{
    BuildStatus, ConfigFile, Counting, HeadFacts, PullEvent, PullRequest, command_authors,
    summarize,
};
use crate::repo_config::RepoConfig;

/// A file read at a commit: `(repo, sha, path)`.
pub(crate) type ObjectKey = (RepoName, String, String);

/// The reads a service's preview needs at a commit.
pub(crate) struct HeadKeys {
    /// The repo config file.
    pub(crate) config: ObjectKey,
    /// The seed path, when the service has a seed.
    pub(crate) seed: Option<ObjectKey>,
}

/// A build check's answer about a commit: `(repo, sha, check name)`.
pub(crate) type BuildKey = (RepoName, String, String);

/// What `service` needs read at commit `sha` to deploy it: what [`SyncState::facts_at`]
/// looks up.
pub(crate) fn keys_at(fleet: &Fleet, service: &crate::fleet::Service, sha: &str) -> HeadKeys {
    let key = |path: &str| (service.repo.clone(), sha.to_owned(), path.to_owned());
    HeadKeys {
        config: key(&fleet.repo_config_path),
        seed: service.seed.as_ref().map(|seed| key(&seed.path)),
    }
}

mod records;

pub(crate) use records::{ReadActivity, SETTLE, Search, first_seen};

/// The sync's memory.
#[derive(Debug, Default)]
pub(crate) struct SyncState {
    /// The last complete list of open PRs per repo. A repo is absent until its first success.
    pub(crate) pulls: HashMap<RepoName, Vec<Arc<PullRequest>>>,
    /// Repo config files by `(repo, sha, path)`: never change, kept while the SHA is a head.
    pub(crate) files: HashMap<ObjectKey, ConfigFile>,
    /// Seed path object SHAs by `(repo, sha, path)`.
    pub(crate) objects: HashMap<ObjectKey, Option<String>>,
    /// The last valid repo config per service and PR.
    pub(crate) last_valid: HashMap<PreviewKey, RepoConfig>,
    /// The last answer of each build check read, by `(repo, sha, check)`. A success is never
    /// read again; anything else is read at every refresh (a re-run can still pass).
    pub(crate) builds: HashMap<BuildKey, BuildStatus>,
    /// The newest commit of each gated service's PR whose build succeeded: what its preview
    /// runs while the head is not built. Memory only; rebuilt after a restart from the PR's
    /// commits (see `sync/gate.rs`).
    pub(crate) last_built: HashMap<PreviewKey, String>,
    /// The last search of each gated PR's commits for a built one, so that a PR that never
    /// built is searched once per push (and per commit its Application runs), not at every
    /// refresh.
    pub(crate) searched: HashMap<PreviewKey, Search>,
    /// The activity of each eligible PR, by `(repo, number)`.
    pub(crate) activity: HashMap<(RepoName, u64), ReadActivity>,
    /// PRs whose timeline a webhook said changed (an accepted `/preview` command): read at the
    /// next refresh whatever their `updated_at` says (a comment in the second of the last read
    /// leaves it as it was). Kept with when the webhook said so: a read sent before that does
    /// not clear it.
    pub(crate) activity_changed: HashMap<(RepoName, u64), DateTime<Utc>>,
    /// Who may give commands, as GitHub last said.
    pub(crate) permissions: Permissions,
    /// PRs that may hold a preview, missing from their repo's listing, that GitHub confirmed
    /// closed: not asked again while they may hold one (Argo CD is deleting it).
    pub(crate) closed: HashSet<(RepoName, u64)>,
    /// How many answers in a row said there is no such PR (`404`), and when the first came,
    /// per PR missing from its listing.
    pub(crate) missing: HashMap<(RepoName, u64), (u32, DateTime<Utc>)>,
    /// The services that had no held PR in some plan since start: with the Applications
    /// unknown, a service not resolved once treats every open PR as possibly holding a preview.
    pub(crate) resolved: HashSet<ServiceName>,
    /// Since when each service has had held PRs.
    pub(crate) held_since: BTreeMap<ServiceName, DateTime<Utc>>,
    /// The last failure of each repo's refresh, for the 503 messages; cleared by a clean one.
    pub(crate) faults: BTreeMap<RepoName, String>,
    /// What Argo CD may have from this process, per service: the PR numbers of every preview
    /// planned since start, less those GitHub's evidence removed since.
    pub(crate) served: HashMap<ServiceName, BTreeSet<u64>>,
}

impl SyncState {
    /// Records a read of PR `key`'s activity sent at `sent_at` (whatever read it: one at a
    /// time or in bulk) for its listing's `updated_at`: its commits' first sightings carried
    /// over, a webhook's mark forgotten when the read was sent after it. Whether its events
    /// changed.
    pub(crate) fn record_activity(
        &mut self,
        key: (RepoName, u64),
        events: Option<Vec<PullEvent>>,
        updated_at: DateTime<Utc>,
        sent_at: DateTime<Utc>,
    ) -> bool {
        let previous = self.activity.get(&key);
        let changed = previous.is_none_or(|old| old.events != events);
        let first_seen = first_seen(events.as_deref(), previous, sent_at);
        if self
            .activity_changed
            .get(&key)
            .is_some_and(|at| *at <= sent_at)
        {
            self.activity_changed.remove(&key);
        }
        let read = ReadActivity {
            events,
            updated_at,
            read_at: sent_at,
            sent_at,
            first_seen,
        };
        self.activity.insert(key, read);
        changed
    }

    /// The services whose repo has been listed at least once.
    pub(crate) fn synced_services(&self, fleet: &Fleet) -> BTreeSet<ServiceName> {
        fleet
            .services
            .iter()
            .filter(|s| self.pulls.contains_key(&s.repo))
            .map(|s| s.name.clone())
            .collect()
    }

    /// Plans from what is known at `now`, and remembers each preview's config when valid.
    /// `live`: the previews of the plan served now, by `(service, number)`.
    pub(crate) fn plan(
        &mut self,
        fleet: &Fleet,
        now: DateTime<Utc>,
        live: &HashSet<PreviewKey>,
        applications: Option<&PreviewRevisions>,
    ) -> Plan {
        let facts = self.facts(fleet, live);
        let builds = self.builds(fleet, &facts, applications);
        let input = PlanInput {
            fleet,
            services: facts
                .iter()
                .map(|(k, v)| (k.clone(), v.as_slice()))
                .collect(),
            now,
        };
        let plan = plan::plan_with_builds(&input, &builds);
        for preview in &plan.previews {
            if let Some(config) = preview.config.valid_config() {
                self.last_valid.insert(preview.key(), config.clone());
            }
        }
        plan
    }

    /// The planner's input per synced service.
    fn facts(
        &self,
        fleet: &Fleet,
        live: &HashSet<PreviewKey>,
    ) -> BTreeMap<ServiceName, Vec<PullFacts>> {
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
                        pr: Arc::clone(pr),
                        head,
                        last_valid_config: self
                            .last_valid
                            .get(&PreviewKey::new(service.name.clone(), pr.number))
                            .cloned(),
                        activity: self.activity(service, pr),
                        live: live.contains(&PreviewKey::new(service.name.clone(), pr.number)),
                    }
                })
                .collect();
            out.insert(service.name.clone(), facts);
        }
        out
    }

    /// The activity of `pr` as `service`'s planner sees it: commands count only from authors
    /// known to have write access. `None` while never read (or unreadable by the source).
    fn activity(&self, service: &crate::fleet::Service, pr: &PullRequest) -> Option<Activity> {
        let read = self.activity.get(&(service.repo.clone(), pr.number))?;
        let events = read.events.as_ref()?;
        // What is known of `login`'s write access to the repo: `None` while unknown.
        let permission = |login: &str| self.permissions.may_command(&service.repo, login);
        // A command whose author's access is not known yet (a failed check, a restart, a
        // forgotten answer) may be a `/preview keep`: until it is known, the PR's facts are
        // incomplete, and incomplete facts never expire anything (no read counts as after
        // the expiry). Sleep and the queue still use what is known.
        let unknown_author = command_authors(events).any(|login| permission(login).is_none());
        // The later `updated_at` is the safe fallback (see `pull_request::summarize`).
        let updated_at = read.updated_at.max(pr.updated_at);
        let counting = Counting {
            label: &service.policy.label,
            associations: &service.policy.activity_associations,
            first_seen: &read.first_seen,
        };
        let mut activity = summarize(events, &counting, updated_at, read.read_at, |login| {
            permission(login) == Some(true)
        });
        if unknown_author {
            activity.read_at = DateTime::<Utc>::MIN_UTC;
        }
        Some(activity)
    }

    /// What the build checks say about each eligible PR of each gated service.
    fn builds(
        &self,
        fleet: &Fleet,
        facts: &BTreeMap<ServiceName, Vec<PullFacts>>,
        applications: Option<&PreviewRevisions>,
    ) -> Builds {
        let mut builds = Builds::new();
        for service in &fleet.services {
            let (Some(check), Some(pulls)) =
                (&service.policy.build_check, facts.get(&service.name))
            else {
                continue;
            };
            for pr in pulls.iter().map(|f| &f.pr) {
                if plan::eligibility(pr, &service.policy).is_err() {
                    continue;
                }
                let status_key = (service.repo.clone(), pr.head_sha.clone(), check.clone());
                let key = PreviewKey::new(service.name.clone(), pr.number);
                let built = self.last_built.get(&key);
                let fallback = built.and_then(|sha| {
                    let facts = self.facts_at(fleet, service, sha)?;
                    Some(BuiltCommit {
                        sha: sha.clone(),
                        facts,
                    })
                });
                // No built commit is known for certain only once the search at this head
                // finished; a known one counts once its files are read.
                // (Without the Applications now, the search stands as it was made.)
                let deployed = applications.map(|a| a.get(&key).cloned().flatten());
                let fallback_known = match built {
                    Some(_) => fallback.is_some(),
                    None => self.searched.get(&key).is_some_and(|search| {
                        search.conclusive
                            && search.head == pr.head_sha
                            && deployed.is_none_or(|d| d == search.deployed)
                    }),
                };
                let head = self.builds.get(&status_key).cloned();
                builds.insert(
                    key,
                    BuildFacts {
                        head,
                        fallback,
                        fallback_known,
                    },
                );
            }
        }
        builds
    }

    /// The head facts of `pr` for `service`, when every piece has been read.
    fn head(
        &self,
        fleet: &Fleet,
        service: &crate::fleet::Service,
        pr: &PullRequest,
    ) -> Option<HeadFacts> {
        self.facts_at(fleet, service, &pr.head_sha)
    }

    /// The facts of `service` at commit `sha`, when every piece has been read.
    pub(crate) fn facts_at(
        &self,
        fleet: &Fleet,
        service: &crate::fleet::Service,
        sha: &str,
    ) -> Option<HeadFacts> {
        let keys = keys_at(fleet, service, sha);
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

    /// Keeps `pulls` as `repo`'s listing, sharing each pull request unchanged since the last
    /// listing with it (and so with the plans that hold it): one copy of each, however many
    /// snapshots are alive (GitHub's adapter hands out the copies its list cache holds).
    pub(crate) fn keep_listing(&mut self, repo: &RepoName, pulls: Vec<Arc<PullRequest>>) {
        let previous: HashMap<u64, Arc<PullRequest>> = self
            .pulls
            .remove(repo)
            .into_iter()
            .flatten()
            .map(|old| (old.number, old))
            .collect();
        let listing = pulls
            .into_iter()
            .map(|pr| match previous.get(&pr.number) {
                // A copy of its own (not the source's cache's), equal to the last one: keep that.
                Some(old) if Arc::strong_count(&pr) == 1 && **old == *pr => Arc::clone(old),
                _ => pr,
            })
            .collect();
        self.pulls.insert(repo.clone(), listing);
    }

    /// For each PR of a new listing of `repo` whose head facts could not all be read, puts
    /// back its previous head when the facts there are known: the preview keeps its last good
    /// revision until the new commit is readable. Everything else (labels, draft, title) is
    /// the new listing's: an old record's eligibility is never brought back. A PR with no good
    /// head stays (it will be `Pending`, or held). Returns how many were held back.
    pub(crate) fn hold_back_unread(
        &self,
        fleet: &Fleet,
        repo: &RepoName,
        pulls: &mut [Arc<PullRequest>],
    ) -> usize {
        let previous: HashMap<u64, &PullRequest> = self
            .pulls
            .get(repo)
            .into_iter()
            .flatten()
            .map(|old| (old.number, &**old))
            .collect();
        let services: Vec<&crate::fleet::Service> = fleet.services_of(repo).collect();
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
            let Some(old) = previous.get(&pr.number) else {
                continue;
            };
            let mut kept = PullRequest::clone(pr);
            kept.head_sha.clone_from(&old.head_sha);
            if complete(&kept) {
                *pr = Arc::new(kept);
                held += 1;
            }
        }
        held
    }

    /// Forgets what `repo`'s new listing made useless: the facts and builds of SHAs that are
    /// neither the head of an open PR nor the last built commit a preview may run, and the
    /// memory of PRs no longer open (last valid config, last built commit, search, activity).
    /// Only `repo`'s: another repo's refresh may be running, and what it found stays.
    pub(crate) fn prune(&mut self, fleet: &Fleet, repo: &RepoName) {
        let services: HashSet<&ServiceName> = fleet.services_of(repo).map(|s| &s.name).collect();
        let open: HashSet<u64> = self
            .pulls
            .get(repo)
            .into_iter()
            .flatten()
            .map(|pr| pr.number)
            .collect();
        let gone =
            |key: &PreviewKey| services.contains(&key.service) && !open.contains(&key.number);
        self.last_valid.retain(|key, _| !gone(key));
        self.last_built.retain(|key, _| !gone(key));
        self.searched.retain(|key, _| !gone(key));
        let pulls = self.pulls.get(repo);
        let heads = pulls.into_iter().flatten().map(|pr| pr.head_sha.clone());
        let built = fleet.services_of(repo).flat_map(|s| {
            pulls.into_iter().flatten().filter_map(|pr| {
                let key = PreviewKey::new(s.name.clone(), pr.number);
                self.last_built.get(&key).cloned()
            })
        });
        let live: HashSet<String> = heads.chain(built).collect();
        let keep = |key: &ObjectKey| &key.0 != repo || live.contains(&key.1);
        self.files.retain(|key, _| keep(key));
        self.objects.retain(|key, _| keep(key));
        self.builds
            .retain(|(r, sha, _), _| r != repo || live.contains(sha));
        self.activity
            .retain(|(r, number), _| r != repo || open.contains(number));
        self.activity_changed
            .retain(|(r, number), _| r != repo || open.contains(number));
    }
}
