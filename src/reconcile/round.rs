//! One round for one repo: read back, decide, write the difference.

use std::collections::{BTreeSet, HashMap};

use tracing::info;

use super::error::RoundError;
use super::{RepoMemory, Round, Worker};
use crate::github::{GitHubError, NewDeployment, NewStatus};
use crate::lifecycle::{Action, Desired, Shown, Target, decide};
use crate::metrics::ActionLabels;
use crate::naming::ServiceName;
use crate::naming::{PreviewKey, RepoName};
use crate::plan::{Exclusion, Held, HoldReason, Preview};

impl Worker {
    pub(super) fn count(&self, action: &'static str, result: Result<(), &GitHubError>) {
        self.metrics
            .lifecycle
            .actions
            .get_or_create(&ActionLabels {
                target: "github",
                action,
                outcome: result.map_or_else(GitHubError::kind, |()| "ok"),
            })
            .inc();
    }

    /// Waits for a write turn, runs `write`, counts it, and holds writes off on a rate limit.
    pub(super) async fn write<T>(
        &self,
        action: &'static str,
        write: impl Future<Output = Result<T, GitHubError>>,
    ) -> Result<T, RoundError> {
        self.pacer.turn().await;
        if !*self.leading.borrow() {
            return Err(RoundError::LostLeadership);
        }
        let result = write.await;
        self.count(action, result.as_ref().map(|_| ()));
        if let Err(GitHubError::RateLimited { retry_after }) = &result {
            let wait = retry_after.unwrap_or(std::time::Duration::from_secs(60));
            self.pacer.hold_off(wait).await;
        }
        result.map_err(RoundError::from)
    }

    /// One round for `repo`.
    pub(super) async fn round(
        &self,
        repo: &RepoName,
        m: &mut RepoMemory,
    ) -> Result<Round, RoundError> {
        let snapshot = self.store.load_full();
        let services: BTreeSet<ServiceName> = self
            .fleet
            .services_of(repo)
            .map(|s| s.name.clone())
            .collect();
        if !services.iter().all(|s| snapshot.is_synced(s)) {
            return Ok(Round::Waiting);
        }
        let Some(observed) = self.index.observed() else {
            return Ok(Round::Waiting);
        };
        self.read_back(repo, m).await?;
        let previews: Vec<&Preview> = snapshot
            .plan()
            .previews
            .iter()
            .filter(|p| services.contains(&p.service))
            .collect();
        for p in &previews {
            m.prs.entry(p.pr.number).or_default().text =
                Some((p.pr.title.clone(), p.pr.branch.clone(), p.pr.body.clone()));
        }
        let desired: Vec<Desired> = previews.iter().map(|p| Desired::from_preview(p)).collect();
        let ledger = m.ledger.as_deref().unwrap_or_default();
        // A held preview may exist and is not read: its deployments are left as they are, and
        // so are those of every service Argo CD may get no answer for (it changes nothing
        // there: a preview excluded meanwhile still runs). Which query an ApplicationSet asks
        // is not known here, so a service counts as answered only while the all-services
        // answer is a 2xx too. A preview held only for its dependency is planned and has its
        // own row.
        let held: Vec<&Held> = snapshot
            .plan()
            .held
            .iter()
            .filter(|h| services.contains(&h.service))
            .filter(|h| !matches!(h.reason, HoldReason::Dependency { .. }))
            .collect();
        let held_keys: BTreeSet<PreviewKey> = held.iter().map(|h| h.key()).collect();
        let answered: BTreeSet<ServiceName> = services
            .iter()
            .filter(|s| snapshot.answers_all() && snapshot.answers(s))
            .cloned()
            .collect();
        let actions = decide(
            &desired,
            &observed,
            ledger,
            &answered,
            &held_keys,
            self.settings.applications_url.as_deref(),
        );
        // Each part goes as far as it can: a failed deployment write does not hold back the
        // comment or Jira, and the first error (a rate limit at once) is returned at the end.
        let executed = self.execute(repo, &desired, actions, m).await;
        if let Err(error @ RoundError::GitHub(GitHubError::RateLimited { .. })) = executed {
            return Err(error);
        }
        let waiting: Vec<&Exclusion> = snapshot
            .plan()
            .excluded
            .iter()
            .filter(|e| services.contains(&e.service) && e.reason.shown_on_pr())
            .collect();
        let commented = self.comments(repo, &previews, &waiting, &held, m).await;
        self.notify_jira(repo, &previews, m);
        match (executed?, commented) {
            (_, Err(error)) => Err(error),
            (true, Ok(())) => Ok(Round::Waiting),
            (false, Ok(())) => Ok(Round::Done),
        }
    }

    /// Reads preview-tower's deployments back when they are not known, and the suspect
    /// environments' deployments again.
    async fn read_back(&self, repo: &RepoName, m: &mut RepoMemory) -> Result<(), GitHubError> {
        if m.ledger.is_none() {
            let result = self
                .github
                .deployments(repo, None, self.settings.deployment_scan)
                .await;
            self.count("read_back", result.as_ref().map(|_| ()));
            m.ledger = Some(result?);
            m.read_at = Some(tokio::time::Instant::now());
            m.suspect.clear();
            m.read_environments.clear();
        }
        while let Some(environment) = m.suspect.first().cloned() {
            let result = self.github.deployments(repo, Some(&environment), 20).await;
            self.count("read_back", result.as_ref().map(|_| ()));
            let fresh = result?;
            let ledger = m.ledger.get_or_insert_with(Vec::new);
            ledger.retain(|s| s.environment != environment);
            ledger.extend(fresh);
            m.suspect.remove(&environment);
        }
        Ok(())
    }

    /// Reads `environment`'s deployments back before the first deployment is created in it:
    /// the ledger holds only the repo's newest deployments, and one for this commit (or an
    /// older one still active) may lie beyond them. `true` when the read found deployments
    /// the ledger lacked: decide again with them.
    async fn read_environment(
        &self,
        repo: &RepoName,
        environment: &str,
        m: &mut RepoMemory,
    ) -> Result<bool, GitHubError> {
        if !m.read_environments.insert(environment.to_owned()) {
            return Ok(false);
        }
        let result = self.github.deployments(repo, Some(environment), 20).await;
        self.count("read_back", result.as_ref().map(|_| ()));
        let fresh = result.inspect_err(|_| {
            m.read_environments.remove(environment);
        })?;
        let ledger = m.ledger.get_or_insert_with(Vec::new);
        let known: BTreeSet<u64> = ledger.iter().map(|s| s.id).collect();
        let unknown = fresh.iter().any(|s| !known.contains(&s.id));
        ledger.retain(|s| s.environment != environment);
        ledger.extend(fresh);
        Ok(unknown)
    }

    /// Carries out `actions` in order. A failed action skips only what depends on it (the
    /// statuses of a deployment that was not created); the first error is returned at the
    /// end, or at once for a rate limit. `Ok(true)`: decide again (the ledger grew).
    async fn execute(
        &self,
        repo: &RepoName,
        desired: &[Desired],
        actions: Vec<Action>,
        m: &mut RepoMemory,
    ) -> Result<bool, RoundError> {
        let mut created: HashMap<(String, String), u64> = HashMap::new();
        let mut first_error = None;
        for action in actions {
            let result = match action {
                Action::CreateDeployment { environment, sha } => {
                    if self.read_environment(repo, &environment, m).await? {
                        return Ok(true);
                    }
                    self.create(repo, desired, environment, sha, m, &mut created)
                        .await
                }
                Action::SetStatus {
                    target,
                    state,
                    environment_url,
                    log_url,
                    description,
                } => {
                    let id = match target {
                        Target::Existing(id) => Some(id),
                        Target::Created { environment, sha } => {
                            created.get(&(environment, sha)).copied()
                        }
                    };
                    let status = NewStatus {
                        state,
                        environment_url,
                        log_url,
                        description,
                    };
                    match id {
                        Some(id) => self.set_status(repo, id, &status, m).await,
                        None => Ok(()),
                    }
                }
            };
            match result {
                Err(error @ RoundError::GitHub(GitHubError::RateLimited { .. })) => {
                    return Err(error);
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
                Ok(()) => {}
            }
        }
        first_error.map_or(Ok(false), Err)
    }

    async fn create(
        &self,
        repo: &RepoName,
        desired: &[Desired],
        environment: String,
        sha: String,
        m: &mut RepoMemory,
        created: &mut HashMap<(String, String), u64>,
    ) -> Result<(), RoundError> {
        let Some(d) = desired.iter().find(|d| d.environment == environment) else {
            return Ok(());
        };
        let issues = self.issue_keys_of(m, d.number);
        let new = NewDeployment {
            environment: environment.clone(),
            sha: sha.clone(),
            service: d.service.clone(),
            number: d.number,
            issues: issues.clone(),
            description: format!(
                "preview of {} at {}",
                d.service,
                crate::naming::short_sha(&sha, 7)
            ),
        };
        let result = self
            .write(
                "create_deployment",
                self.github.create_deployment(repo, &new),
            )
            .await;
        let id = result.inspect_err(|e| {
            if !e.surely_refused() {
                m.suspect.insert(environment.clone());
            }
        })?;
        info!(repo = %repo, pr = d.number, service = %d.service, deployment = id,
            sha = %sha, "created deployment");
        m.ledger.get_or_insert_with(Vec::new).push(Shown {
            id,
            service: d.service.clone(),
            number: d.number,
            issues,
            environment: environment.clone(),
            sha: sha.clone(),
            state: None,
        });
        created.insert((environment, sha), id);
        Ok(())
    }

    async fn set_status(
        &self,
        repo: &RepoName,
        id: u64,
        status: &NewStatus,
        m: &mut RepoMemory,
    ) -> Result<(), RoundError> {
        let ledger = m.ledger.get_or_insert_with(Vec::new);
        let Some(entry) = ledger.iter_mut().find(|s| s.id == id) else {
            return Ok(());
        };
        let environment = entry.environment.clone();
        let result = self
            .write("set_status", self.github.create_status(repo, id, status))
            .await;
        if let Err(e) = &result
            && !e.surely_refused()
        {
            m.suspect.insert(environment);
        }
        result?;
        info!(repo = %repo, pr = entry.number, service = %entry.service,
            deployment = id, state = ?status.state, "deployment status");
        entry.state = Some(status.state);
        Ok(())
    }
}
