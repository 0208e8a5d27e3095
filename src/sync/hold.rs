//! The hold rule's side of the sync: which PRs may hold a preview, asking GitHub about those
//! missing from a listing, and what the `503`s say about the rest.
//!
//! **May hold a preview.** Argo CD deletes whatever an answer leaves out, so the sync must know
//! which previews exist before it may leave one out. Two records say so: Argo CD's
//! Applications (read by `argocd::watch` whenever the Kubernetes API can be read: the record
//! that survives a restart of preview-tower), and what this process may have served
//! (`SyncState::served`: every preview planned since start, until GitHub's evidence removes
//! it). Without the Applications (no cluster access,
//! `plan` run from a laptop, the first list not done yet) the sync cannot tell which PRs hold
//! previews, and is conservative: until a service has had every eligible PR resolved once
//! since start, each of its open PRs counts.
//!
//! **The rule.** A PR that may hold a preview is answered only from facts (current, or its last
//! good ones) or left out only on GitHub's evidence (closed or merged confirmed, unlabelled or
//! turned draft in a complete listing, expired). Otherwise the plan holds it (`plan::Held`)
//! and its service answers `503`, naming the PRs and the repo's last failure. A PR that may hold
//! a preview and is missing from a listing is asked about (`GET /pulls/{n}`): an open one is put
//! back, a closed one is remembered as closed (not asked again), an unanswered one stays held.
//! A newly eligible PR that holds no preview waits as pending without holding anything.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::Syncer;
use super::state::SyncState;
use crate::argocd::PreviewRevisions;
use crate::github::GitHubError;
use crate::naming::{PreviewKey, RepoName, ServiceName};
use crate::plan::{self, Held, Plan};
use crate::pull_request::PullRequest;
use crate::snapshot::{Notes, Snapshot};

/// How many answers in a row must say there is no PR `n` (`404` on `GET /pulls/{n}`, the repo
/// listed fine), over at least [`NOT_FOUND_SPAN`], before a preview that may exist for it
/// leaves: once is not evidence (a replica that lags, a permission being changed); a stray
/// Application (hand-made, or from a service that moved to another repo) must not hold its
/// service forever either.
pub(crate) const NOT_FOUND_TIMES: u32 = 3;
/// The least time between the first and the last of those answers.
pub(crate) const NOT_FOUND_SPAN: Duration = Duration::from_secs(300);

impl Syncer {
    /// Every `(service, PR)` that may hold a preview now (see the module doc).
    pub(super) fn may_hold(
        &self,
        state: &SyncState,
        applications: Option<&PreviewRevisions>,
    ) -> HashSet<PreviewKey> {
        let mut live: HashSet<PreviewKey> = state
            .served
            .iter()
            .flat_map(|(service, numbers)| {
                numbers.iter().map(|n| PreviewKey::new(service.clone(), *n))
            })
            .collect();
        match applications {
            Some(applications) => live.extend(applications.keys().cloned()),
            None => {
                for service in &self.fleet.services {
                    if state.resolved.contains(&service.name) {
                        continue;
                    }
                    let open = state.pulls.get(&service.repo).into_iter().flatten();
                    live.extend(open.map(|pr| PreviewKey::new(service.name.clone(), pr.number)));
                }
            }
        }
        live
    }

    /// Asks again about every PR of `repo` that may hold a preview (or had an eligible record)
    /// and is missing from the new listing: only a closed or merged answer is evidence. (Paging
    /// a long list while a PR closes shifts the pages and can hide an open PR for one listing;
    /// after a restart, an Application is the only trace of a PR closed meanwhile.) A PR still
    /// open is put back; a closed one is remembered as closed. An error that would hit every
    /// call fails the refresh; another one leaves that PR held and is returned.
    pub(super) async fn confirm_vanished(
        &self,
        repo: &RepoName,
        pulls: &mut Vec<Arc<PullRequest>>,
        applications: Option<&PreviewRevisions>,
    ) -> Result<Option<GitHubError>, GitHubError> {
        let listed: HashSet<u64> = pulls.iter().map(|p| p.number).collect();
        let mut vanished: Vec<u64> = {
            let state = self.lock();
            let services: Vec<_> = self.fleet.services_of(repo).collect();
            let of_repo = |service: &ServiceName| services.iter().any(|s| &s.name == service);
            let known = state.pulls.get(repo).into_iter().flatten().filter(|pr| {
                services
                    .iter()
                    .any(|s| plan::eligibility(pr, &s.policy).is_ok())
            });
            let may_hold = self.may_hold(&state, applications);
            known
                .map(|pr| pr.number)
                .chain(
                    may_hold
                        .iter()
                        .filter(|key| of_repo(&key.service))
                        .map(|key| key.number),
                )
                .filter(|n| !listed.contains(n) && !state.closed.contains(&(repo.clone(), *n)))
                .collect()
        };
        vanished.sort_unstable();
        vanished.dedup();
        let mut first_error = None;
        for number in vanished {
            let answer = self
                .call("get_pull", self.source.open_pull_request(repo, number))
                .await;
            if !matches!(answer, Err(GitHubError::Upstream { status: 404, .. })) {
                self.lock().missing.remove(&(repo.clone(), number));
            }
            match answer {
                Ok(Some(pr)) => {
                    warn!(repo = %repo, number, "open PR missing from the listing; kept");
                    pulls.push(Arc::new(pr));
                }
                Ok(None) => {
                    self.lock().closed.insert((repo.clone(), number));
                }
                Err(error) if error.affects_every_call() => return Err(error),
                Err(GitHubError::Upstream { status: 404, .. })
                    if self.not_found_again(repo, number) =>
                {
                    warn!(repo = %repo, number, times = NOT_FOUND_TIMES,
                        "GitHub has no such pull request; its preview leaves");
                }
                Err(error) => {
                    warn!(repo = %repo, number, error = %error,
                        "cannot tell whether a PR missing from the listing is closed; its preview is held");
                    first_error.get_or_insert(error);
                }
            }
        }
        Ok(first_error)
    }

    /// Counts a `404` for PR `number` of `repo` (listed successfully in the same refresh):
    /// [`NOT_FOUND_TIMES`] in a row (any other answer starts the count again), the first at
    /// least [`NOT_FOUND_SPAN`] before the last, are evidence that there is no such PR (pull
    /// requests are never deleted), and it is recorded as closed. `true` then.
    fn not_found_again(&self, repo: &RepoName, number: u64) -> bool {
        let key = (repo.clone(), number);
        let now = self.now();
        let mut state = self.lock();
        let (times, first) = state.missing.entry(key.clone()).or_insert((0, now));
        *times += 1;
        let span = now
            .signed_duration_since(*first)
            .to_std()
            .unwrap_or_default();
        if *times < NOT_FOUND_TIMES || span < NOT_FOUND_SPAN {
            return false;
        }
        state.missing.remove(&key);
        state.closed.insert(key);
        true
    }

    /// Plans from `state` and publishes: the PRs that may hold a preview are held where their
    /// facts are missing, and the holds are noted (metrics, logs, the 503 messages). The
    /// Applications are read now, under the state's lock: a commit never plans with an older
    /// view of them than a plan published before it. `committing`: the repo whose new listing
    /// this commit brings.
    pub(super) fn commit(&self, state: &mut SyncState, committing: Option<&RepoName>) {
        let applications = self.argo_previews();
        let previous = self.store.load();
        let now = self.now();
        let live = self.may_hold(state, applications.as_ref());
        if let Some(repo) = committing {
            state.forget_closed(&self.fleet, repo, &live);
        }
        let mut plan = state.plan(&self.fleet, now, &live, applications.as_ref());
        let unlisted = state.unlisted(&self.fleet, &live);
        plan.hold_unlisted(&self.fleet, unlisted);
        self.note_holds(state, previous.plan(), &plan, now);
        self.note_served(state, &plan);
        let synced = state.synced_services(&self.fleet);
        let snapshot = Snapshot::build(
            Arc::clone(&self.fleet),
            plan,
            synced,
            previous.generation() + 1,
            Some(&previous),
        )
        .with_notes(state.notes());
        self.publish(snapshot);
    }

    /// Records what Argo CD may have from this process: every preview planned since start,
    /// until GitHub's evidence removes it (an exclusion that is evidence, or its PR confirmed
    /// closed). Which answers Argo CD actually got does not matter: a preview is never dropped
    /// from this record for anything but evidence, so it is a superset of what Argo CD holds
    /// from this process, whatever it asked and when.
    fn note_served(&self, state: &mut SyncState, plan: &Plan) {
        for preview in &plan.previews {
            state
                .served
                .entry(preview.service.clone())
                .or_default()
                .insert(preview.pr.number);
        }
        for exclusion in plan.excluded.iter().filter(|e| e.reason.is_evidence()) {
            if let Some(numbers) = state.served.get_mut(&exclusion.service) {
                numbers.remove(&exclusion.number);
            }
        }
        let fleet = &self.fleet;
        let SyncState { served, closed, .. } = state;
        for (service, numbers) in served.iter_mut() {
            if let Some(repo) = fleet.service(service.as_str()).map(|s| &s.repo) {
                numbers.retain(|n| !closed.contains(&(repo.clone(), *n)));
            }
        }
    }

    /// Plans again from what is known, without reading GitHub: when the Applications changed.
    pub fn replan(&self) {
        let mut state = self.lock();
        if state.pulls.is_empty() {
            return;
        }
        self.commit(&mut state, None);
    }

    /// Publishes the current snapshot again with `state`'s notes (a refresh failed before it
    /// could commit anything: only the 503 messages change).
    pub(super) fn publish_notes(&self, state: &SyncState) {
        let current = self.store.load();
        let notes = state.notes();
        if current.notes() != &notes {
            self.store
                .store(Arc::new(Snapshot::clone(&current).with_notes(notes)));
        }
    }

    /// Records which services are held since when and which were resolved once, and logs
    /// each change of a service's held PRs.
    fn note_holds(&self, state: &mut SyncState, before: &Plan, plan: &Plan, now: DateTime<Utc>) {
        for service in &self.fleet.services {
            if !state.pulls.contains_key(&service.repo) {
                continue;
            }
            let name = &service.name;
            let held: Vec<&Held> = plan.held_of(name).collect();
            if held.is_empty() {
                state.resolved.insert(name.clone());
                if let Some(since) = state.held_since.remove(name) {
                    info!(service = %name, held_s = (now - since).num_seconds(),
                        "every preview of the service can be answered again");
                }
                continue;
            }
            state.held_since.entry(name.clone()).or_insert(now);
            if before.held_of(name).collect::<Vec<_>>() != held {
                let fault = state.faults.get(&service.repo).cloned().unwrap_or_default();
                warn!(service = %name, held = held.len(), prs = %Notes::list(&held),
                    github = %fault,
                    "previews held: answering 503 for the service until they are read (Argo CD keeps them as they are)");
            }
        }
    }
}

impl SyncState {
    /// The PRs of `live` whose repo has been listed, that are missing from its listing and
    /// not confirmed closed.
    pub(super) fn unlisted(
        &self,
        fleet: &crate::fleet::Fleet,
        live: &HashSet<PreviewKey>,
    ) -> Vec<PreviewKey> {
        let listed: HashSet<(&RepoName, u64)> = self
            .pulls
            .iter()
            .flat_map(|(repo, pulls)| pulls.iter().map(move |p| (repo, p.number)))
            .collect();
        live.iter()
            .filter(|key| {
                fleet.service(key.service.as_str()).is_some_and(|s| {
                    self.pulls.contains_key(&s.repo)
                        && !listed.contains(&(&s.repo, key.number))
                        && !self.closed.contains(&(s.repo.clone(), key.number))
                })
            })
            .cloned()
            .collect()
    }

    /// Forgets the PRs of `repo` confirmed closed that are listed again (reopened) or no longer
    /// may hold a preview (their Applications are gone). Only at `repo`'s own commit: another
    /// repo's commit must not forget what `repo`'s refresh, still running, just confirmed.
    pub(super) fn forget_closed(
        &mut self,
        fleet: &crate::fleet::Fleet,
        repo: &RepoName,
        live: &HashSet<PreviewKey>,
    ) {
        let listed: HashSet<u64> = self
            .pulls
            .get(repo)
            .into_iter()
            .flatten()
            .map(|p| p.number)
            .collect();
        let may_hold = |number: u64| {
            fleet
                .services_of(repo)
                .any(|s| live.contains(&PreviewKey::new(s.name.clone(), number)))
        };
        self.closed
            .retain(|(r, number)| r != repo || (!listed.contains(number) && may_hold(*number)));
        self.missing
            .retain(|(r, number), _| r != repo || may_hold(*number));
    }

    /// Records the outcome of `repo`'s refresh for the 503 messages: its failure, or none.
    pub(super) fn note_fault(
        &mut self,
        repo: &RepoName,
        error: Option<&GitHubError>,
        now: DateTime<Utc>,
    ) {
        match error {
            Some(error) => {
                self.faults.insert(repo.clone(), describe(error, now));
            }
            None => {
                self.faults.remove(repo);
            }
        }
    }

    /// What the 503 messages say beside the held PRs.
    pub(super) fn notes(&self) -> Notes {
        Notes {
            faults: self.faults.clone(),
            held_since: self.held_since.clone(),
        }
    }
}

/// `error` for a person reading Argo CD's conditions: with the moment GitHub said to come back.
fn describe(error: &GitHubError, now: DateTime<Utc>) -> String {
    match error {
        GitHubError::RateLimited {
            retry_after: Some(wait),
        } => {
            let until = chrono::Duration::from_std(*wait)
                .ok()
                .and_then(|wait| now.checked_add_signed(wait))
                .unwrap_or(now);
            format!(
                "rate limited by GitHub until {}",
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        }
        other => other.to_string(),
    }
}
