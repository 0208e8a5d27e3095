//! Lifecycle decisions: what GitHub should show for each preview, from the real state of its
//! Argo CD Application.
//!
//! [`decide`] is pure and level-triggered: from the desired previews (the plan), the observed
//! Applications and the deployments GitHub already shows, it returns only the actions that close
//! the difference, so running it again after a restart or a partial failure creates nothing
//! twice. [`notices`] says the same for the sticky comment and Jira, [`comment`] renders the
//! comment. All of it is pure: values in, values out. It must not do I/O nor import an I/O
//! module; the shell around it is [`crate::reconcile`] (reads back, decides, writes the
//! difference to GitHub, paced, and posts Jira notes on its own task), and [`crate::argocd`]
//! feeds the observed Applications.

pub mod comment;
pub mod money;
pub mod notices;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::naming::{PreviewKey, ServiceName};
use crate::plan::Preview;

pub use money::{PreviewCost, money};

/// GitHub caps a deployment status description at 140 characters.
pub const MAX_DESCRIPTION: usize = 140;

/// One preview as GitHub should know it: a transient environment at a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    /// The service.
    pub service: ServiceName,
    /// The pull request.
    pub number: u64,
    /// The GitHub environment, one per service and PR: the preview's name (no `/`).
    pub environment: String,
    /// The commit the preview runs.
    pub sha: String,
    /// The Argo CD Application's name.
    pub application: String,
    /// The preview's public URL.
    pub url: String,
}

impl Desired {
    /// What GitHub should show for a planned preview.
    pub fn from_preview(preview: &Preview) -> Self {
        Self {
            service: preview.service.clone(),
            number: preview.pr.number,
            environment: preview.name.clone(),
            sha: preview.revision.clone(),
            application: preview.name.clone(),
            url: preview.url.clone(),
        }
    }
}

/// `status.sync.status` of an Application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppSync {
    /// Live state matches the target revision.
    Synced,
    /// It does not (yet).
    OutOfSync,
    /// Not known.
    Unknown,
}

/// `status.health.status` of an Application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Everything healthy.
    Healthy,
    /// Rolling out.
    Progressing,
    /// Something failed.
    Degraded,
    /// Suspended (e.g. scaled to zero by sleep).
    Suspended,
    /// Resources missing.
    Missing,
    /// Not known.
    Unknown,
}

/// `status.operationState.phase` of an Application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// A sync is running.
    Running,
    /// It is being stopped.
    Terminating,
    /// It failed.
    Failed,
    /// It errored.
    Error,
    /// It succeeded.
    Succeeded,
}

/// The observed state of one Application (a minimal subset of its status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The Application's name.
    pub name: String,
    /// Sync status.
    pub sync: AppSync,
    /// The revision it is synced to, when known.
    pub revision: Option<String>,
    /// Health.
    pub health: Health,
    /// The last operation's phase, absent before the first sync.
    pub phase: Option<Phase>,
    /// The commit the last operation synced (or tried to), when Argo CD says.
    pub operation_revision: Option<String>,
    /// The operation's or health's message, for failures.
    pub message: Option<String>,
    /// Whether Argo CD is deleting it (`metadata.deletionTimestamp` set).
    pub deleting: bool,
    /// The URLs Argo CD found on its Ingresses.
    pub external_urls: Vec<String>,
}

/// A deployment state on GitHub.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting to start.
    Queued,
    /// Waiting (GitHub's own pending).
    Pending,
    /// Rolling out.
    InProgress,
    /// Up, at this commit.
    Success,
    /// Broken.
    Failure,
    /// Errored.
    Error,
    /// Gone or superseded; "destroyed" for a transient environment.
    Inactive,
}

impl State {
    /// Every state, in GitHub's order of a deployment's life.
    pub const ALL: [Self; 7] = [
        Self::Queued,
        Self::Pending,
        Self::InProgress,
        Self::Success,
        Self::Failure,
        Self::Error,
        Self::Inactive,
    ];
}

/// A deployment GitHub already shows, with its latest status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// GitHub's deployment id.
    pub id: u64,
    /// The service it belongs to (from its environment name).
    pub service: ServiceName,
    /// The pull request it previews.
    pub number: u64,
    /// The Jira issues its PR named when it was created (from its payload).
    pub issues: Vec<crate::issues::IssueKey>,
    /// Its environment.
    pub environment: String,
    /// Its commit.
    pub sha: String,
    /// Its latest status, `None` when it has none yet.
    pub state: Option<State>,
}

/// Which deployment a status goes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// An existing deployment.
    Existing(u64),
    /// The deployment created by the [`Action::CreateDeployment`] before it.
    Created {
        /// Its environment.
        environment: String,
        /// Its commit.
        sha: String,
    },
}

/// What to do on GitHub.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Create a transient, non-production deployment (no auto-merge, no required contexts).
    CreateDeployment {
        /// The environment.
        environment: String,
        /// The commit.
        sha: String,
    },
    /// Post a deployment status.
    SetStatus {
        /// Which deployment.
        target: Target,
        /// The new state.
        state: State,
        /// The preview's URL, with `success`.
        environment_url: Option<String>,
        /// The Argo CD page of the Application.
        log_url: Option<String>,
        /// Why, at most [`MAX_DESCRIPTION`] characters.
        description: String,
    },
}

/// The state GitHub should show for `desired`, and why: `queued` until Argo CD has its
/// Application (`observed`), then as the Application's sync and health say.
pub fn target_state(desired: &Desired, observed: Option<&Observed>) -> (State, String) {
    let Some(app) = observed else {
        return (
            State::Queued,
            "waiting for Argo CD to create the Application".into(),
        );
    };
    if app.deleting {
        return (
            State::InProgress,
            "Argo CD is deleting the Application".into(),
        );
    }
    // A failure counts against this commit only when it is this commit's: after a fix is
    // pushed, the old commit's failed sync or broken pods must not fail the new deployment.
    let at_revision = app.revision.as_deref() == Some(desired.sha.as_str());
    let operation_here = match (&app.operation_revision, &app.revision) {
        (Some(revision), _) | (None, Some(revision)) => revision == &desired.sha,
        // Nothing says which commit failed (a manifest that does not render): this one.
        (None, None) => true,
    };
    let failed = matches!(app.phase, Some(Phase::Failed | Phase::Error));
    let reason = app.message.clone().unwrap_or_default();
    if failed && operation_here {
        return (State::Failure, format!("sync failed: {reason}"));
    }
    if app.health == Health::Degraded && at_revision {
        return (State::Failure, format!("degraded: {reason}"));
    }
    if matches!(app.phase, Some(Phase::Running | Phase::Terminating)) {
        // Hooks (migrations, PostSync) may still run against a healthy-looking app.
        return (State::InProgress, "Argo CD is syncing the preview".into());
    }
    match (app.sync, at_revision, app.health) {
        (AppSync::Synced, true, Health::Healthy | Health::Suspended) => {
            (State::Success, "preview is up".into())
        }
        _ => (State::InProgress, "Argo CD is syncing the preview".into()),
    }
}

fn description(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_DESCRIPTION)
        .collect()
}

/// The actions that make GitHub show `desired` as the Applications really are.
///
/// `planned` are the services the plan covers: deployments of any other service are left alone
/// (their previews are unknown, not gone), and so are those of the `held` PRs of a planned
/// service (`(service, PR)`: their previews may exist and are not read). `applications_url` is where Argo CD's web UI shows
/// the Applications (`<argocd_url>/applications/<namespace>`): `log_url` is
/// `<applications_url>/<application>`.
pub fn decide(
    desired: &[Desired],
    observed: &[Observed],
    shown: &[Shown],
    planned: &BTreeSet<ServiceName>,
    held: &BTreeSet<PreviewKey>,
    applications_url: Option<&str>,
) -> Vec<Action> {
    let apps: HashMap<&str, &Observed> = observed.iter().map(|o| (o.name.as_str(), o)).collect();
    let wanted: HashMap<&str, &Desired> = desired
        .iter()
        .map(|d| (d.environment.as_str(), d))
        .collect();
    let mut actions = Vec::new();
    for d in desired {
        let (state, why) = target_state(d, apps.get(d.application.as_str()).copied());
        let log_url = applications_url
            .map(|base| format!("{}/{}", base.trim_end_matches('/'), d.application));
        // An inactive deployment is never revived: a head reverted to an older commit gets a
        // new deployment, as any new head does.
        let existing = shown
            .iter()
            .filter(|s| s.environment == d.environment && s.sha == d.sha)
            .filter(|s| s.state != Some(State::Inactive))
            .max_by_key(|s| s.id);
        let target = match existing {
            Some(s) if s.state == Some(state) => continue,
            Some(s) => Target::Existing(s.id),
            None => {
                actions.push(Action::CreateDeployment {
                    environment: d.environment.clone(),
                    sha: d.sha.clone(),
                });
                Target::Created {
                    environment: d.environment.clone(),
                    sha: d.sha.clone(),
                }
            }
        };
        actions.push(Action::SetStatus {
            target,
            state,
            environment_url: (state == State::Success).then(|| d.url.clone()),
            log_url,
            description: description(&why),
        });
    }
    for s in shown {
        let unknown = !planned.contains(&s.service)
            || held.contains(&PreviewKey::new(s.service.clone(), s.number));
        if s.state == Some(State::Inactive) || unknown {
            continue;
        }
        let why = match wanted.get(s.environment.as_str()) {
            Some(d) if d.sha == s.sha => continue,
            Some(_) => "superseded by a newer commit",
            None => "preview removed",
        };
        actions.push(Action::SetStatus {
            target: Target::Existing(s.id),
            state: State::Inactive,
            environment_url: None,
            log_url: None,
            description: why.into(),
        });
    }
    actions
}

#[cfg(test)]
mod tests;
