//! Planning: from the fleet and the facts about pull requests to the desired previews.
//!
//! [`plan`] is a pure function of its [`PlanInput`]: which PRs get a preview (label, draft and
//! fork policy), each preview's names, URLs, images, capacity, replicas and effective repo
//! config, and where each dependency points (staging, or another service's PR preview when it is
//! in this same plan). Everything a human should know about a decision is kept as a
//! [`Diagnostic`] for `preview-tower plan` and the PR comment. No I/O, no clock: `now` is an
//! input.

mod config;
mod dependencies;
mod gate;
mod hold;
mod lifetime;
mod quota;
mod reasons;
pub mod schedule;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::fleet::{Fleet, Policy, Service};
use crate::naming;
use crate::naming::{PreviewKey, ServiceName};
use crate::pull_request::{Activity, HeadFacts, PullRequest};
use crate::repo_config::RepoConfig;

pub use config::{ConfigOutcome, ConfigSource, resolve_config};
pub use dependencies::{DependencyRoute, ResolvedDependency, url_text};
pub use gate::{BuildFacts, Builds, BuiltCommit};
pub use hold::{Held, HoldReason};
pub use lifetime::{EVIDENCE_MARGIN, Expiry, Sleep, expiry, sleep};
pub use quota::QuotaScope;
pub use reasons::{Diagnostic, Exclusion, ExclusionReason};

/// What the planner is given.
#[derive(Clone, Debug)]
pub struct PlanInput<'a> {
    /// The validated fleet.
    pub fleet: &'a Fleet,
    /// Facts per service, only for services whose repo has been listed at least once. A service
    /// missing here is not planned at all (its previews are neither kept nor removed: the caller
    /// must not answer for it).
    pub services: BTreeMap<ServiceName, &'a [PullFacts]>,
    /// The time of planning.
    pub now: DateTime<Utc>,
}

/// What is known about one open pull request of a service's repo.
#[derive(Clone, Debug, PartialEq)]
pub struct PullFacts {
    /// The PR as listed (shared with the sync's list and the plan's previews: one copy).
    pub pr: Arc<PullRequest>,
    /// Facts at the head commit; `None` when they were not fetched because the PR is not
    /// eligible (see [`eligibility`]).
    pub head: Option<HeadFacts>,
    /// The last valid repo config seen for this PR, kept for when the file turns invalid.
    pub last_valid_config: Option<RepoConfig>,
    /// What people did on the PR, with times; `None` until read (then it never expires).
    pub activity: Option<Activity>,
    /// Whether the PR may hold this service's preview now: Argo CD has its Application, or
    /// this process served it (or cannot tell, after a restart without the Applications). A
    /// live preview keeps its place when the quota is full, and is held rather than left out
    /// while its facts cannot be read (see [`Held`]).
    pub live: bool,
}

/// The desired state: every preview, every open PR left out with the reason, and every PR
/// that may hold a preview whose facts are not read yet.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Plan {
    /// When the plan was made.
    pub planned_at: Option<DateTime<Utc>>,
    /// The previews, in fleet service order then PR number.
    pub previews: Vec<Preview>,
    /// Open PRs that get no preview, in the same order.
    pub excluded: Vec<Exclusion>,
    /// PRs that may hold a preview and can be neither planned nor left out yet, in the same
    /// order: their services must not be answered (see [`Held`]).
    pub held: Vec<Held>,
    /// The next moment the plan changes with time alone (an expiry, a warning, a preview
    /// falling asleep or waking up): plan again then.
    pub next_change: Option<DateTime<Utc>>,
}

/// One preview: one service × one pull request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Preview {
    /// The service previewed.
    pub service: ServiceName,
    /// The pull request previewed.
    pub pr: Arc<PullRequest>,
    /// Name of the namespace and of the Argo CD Application.
    pub name: String,
    /// Public host of the preview.
    pub host: String,
    /// `https://<host>`.
    pub url: String,
    /// In-cluster URL of the preview's Service, for server-to-server calls.
    pub internal_url: String,
    /// The commit deployed: the image tag and the overlay's revision.
    pub revision: String,
    /// The seed image with its tag (the seed path's tree SHA), when the service has one and the
    /// path exists at the revision.
    pub seed_image: Option<String>,
    /// Where the preview's pods prefer to run.
    pub capacity: CapacityType,
    /// Replicas of each workload.
    pub replicas: u32,
    /// The idle TTL in force for this preview.
    #[serde(with = "humantime_serde_compat")]
    pub ttl: Duration,
    /// When the preview will be deleted for idleness; `None` when kept (`/preview keep`, the
    /// keep label) or while the PR's activity has not been read.
    pub expires_at: Option<DateTime<Utc>>,
    /// Within the warning window before `expires_at`: the PR comment says so.
    pub expiry_warning: bool,
    /// Sleeping (outside working hours, not woken): every workload at 0 replicas.
    pub asleep: bool,
    /// When `asleep` next changes, if it does.
    pub sleep_changes_at: Option<DateTime<Utc>>,
    /// Where each dependency points.
    pub dependencies: Vec<ResolvedDependency>,
    /// The namespaces of the previews in the plan whose dependency points at this preview
    /// (`pr-<N>`), sorted: their pods may call this preview's port.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependants: Vec<String>,
    /// The repo config in force and where it came from.
    pub config: ConfigOutcome,
    /// Everything worth telling the PR's author about this preview.
    pub diagnostics: Vec<Diagnostic>,
}

impl Preview {
    /// Which preview this is.
    pub fn key(&self) -> PreviewKey {
        PreviewKey::new(self.service.clone(), self.pr.number)
    }

    /// The seed image's tag (the seed path's tree SHA), when the preview has a seed image.
    pub fn seed_tag(&self) -> Option<&str> {
        self.seed_image
            .as_deref()
            .and_then(|image| image.rsplit_once(':'))
            .map(|(_, tag)| tag)
    }
}

/// Spot or on-demand placement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CapacityType {
    /// Prefer spot nodes, fall back to on-demand.
    #[serde(rename = "spot")]
    Spot,
    /// Stay off spot nodes.
    #[serde(rename = "on-demand")]
    OnDemand,
}

impl CapacityType {
    /// The parameter value: `spot` or `on-demand`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spot => "spot",
            Self::OnDemand => "on-demand",
        }
    }
}

/// Whether `pr` may get a preview under `policy`, and if not, why.
pub fn eligibility(pr: &PullRequest, policy: &Policy) -> Result<(), ExclusionReason> {
    if !pr.has_label(&policy.label) {
        Err(ExclusionReason::NotLabelled)
    } else if pr.draft && !policy.drafts {
        Err(ExclusionReason::Draft)
    } else if pr.from_fork && !policy.forks {
        Err(ExclusionReason::Fork)
    } else {
        Ok(())
    }
}

/// Computes the desired previews with no build facts: services with a `build_check` get no
/// preview at all (no image is assumed to exist). Pure and deterministic.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    plan_with_builds(input, &Builds::new())
}

/// Computes the desired previews; `builds` says which commits of the PRs of services with a
/// `build_check` are built (see the `gate` module). Pure and deterministic.
pub fn plan_with_builds(input: &PlanInput<'_>, builds: &Builds) -> Plan {
    let fleet = input.fleet;
    let mut candidates = Vec::new();
    let mut excluded = Vec::new();
    let mut held = Vec::new();
    for (service_index, service) in fleet.services.iter().enumerate() {
        let Some(pulls) = input.services.get(&service.name) else {
            continue;
        };
        let mut pulls: Vec<&PullFacts> = pulls.iter().collect();
        pulls.sort_by_key(|p| p.pr.number);
        for facts in pulls {
            let decision = eligibility(&facts.pr, &service.policy)
                .and_then(|()| gate::deployable(service, facts, builds))
                .and_then(|deployable| {
                    let (preview, expired) = preview(fleet, service, facts, deployable, input.now);
                    if expired {
                        Err(ExclusionReason::Expired)
                    } else {
                        Ok(preview)
                    }
                });
            match decision {
                Ok(preview) => candidates.push(quota::Candidate {
                    preview,
                    repo: service.repo.clone(),
                    live: facts.live,
                    priority: facts.pr.has_label(&service.policy.priority_label),
                    labelled_at: facts.activity.as_ref().and_then(|a| a.labelled_at),
                    service_index,
                }),
                // A preview that may exist is never left out for what is not read yet.
                Err(reason) if facts.live && !reason.is_evidence() => held.push(Held {
                    service: service.name.clone(),
                    number: facts.pr.number,
                    reason: HoldReason::unread(reason),
                }),
                Err(reason) => excluded.push(Exclusion {
                    service: service.name.clone(),
                    number: facts.pr.number,
                    reason,
                    pr: Some(Arc::clone(&facts.pr)),
                }),
            }
        }
    }
    let held_repos = held
        .iter()
        .filter_map(|h: &Held| fleet.service(h.service.as_str()))
        .map(|s| s.repo.clone());
    let (mut previews, queued) = quota::admit(&fleet.quota, candidates, held_repos);
    excluded.extend(queued);
    let order = |service: &ServiceName| fleet.services.iter().position(|s| &s.name == service);
    previews.sort_by_key(|p| (order(&p.service), p.pr.number));
    excluded.sort_by_key(|e| (order(&e.service), e.number));
    dependencies::resolve(fleet, &mut previews);
    let mut plan = Plan {
        planned_at: Some(input.now),
        previews,
        excluded,
        held,
        next_change: None,
    };
    hold::hold_dependents(fleet, &mut plan);
    plan.next_change = next_change(fleet, &plan.previews, input.now);
    plan
}

/// The next moment `previews` change with time alone (see [`Plan::next_change`]).
fn next_change(fleet: &Fleet, previews: &[Preview], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    previews
        .iter()
        .filter_map(|p| {
            let warning = fleet
                .service(p.service.as_str())
                .map_or(Duration::ZERO, |s| s.policy.expiry_warning);
            lifetime::next_change(p.expires_at, warning, p.sleep_changes_at, now)
        })
        .min()
}

/// Everything about one preview but its dependencies, which need the whole plan.
/// Also says whether it expired (see [`lifetime`]).
fn preview(
    fleet: &Fleet,
    service: &Service,
    facts: &PullFacts,
    deployable: gate::Deployable<'_>,
    now: DateTime<Utc>,
) -> (Preview, bool) {
    let pr = &facts.pr;
    let head = deployable.head;
    let policy = &service.policy;
    let name = naming::preview_name(&fleet.namespace_prefix, &service.name, pr.number);
    let host = policy
        .host_pattern
        .render(&service.name, pr.number, &fleet.base_domain);
    let config = resolve_config(service, &head.config, facts.last_valid_config.as_ref());
    let mut diagnostics: Vec<Diagnostic> = deployable.diagnostic.into_iter().collect();
    diagnostics.extend(config.diagnostic());
    let seed_image = service
        .seed
        .as_ref()
        .and_then(|seed| match &head.seed_tree_sha {
            Some(tree) => Some(format!("{}:{tree}", seed.image)),
            None => {
                diagnostics.push(Diagnostic::SeedPathMissing {
                    path: seed.path.clone(),
                });
                None
            }
        });
    let capacity = if policy.spot && config.effective.spot != Some(false) {
        CapacityType::Spot
    } else {
        CapacityType::OnDemand
    };
    let ttl = config.effective.ttl.unwrap_or(policy.ttl);
    let activity = facts.activity.as_ref();
    let expiry = lifetime::expiry(policy, ttl, pr.has_label(&policy.keep_label), activity, now);
    let sleep = lifetime::sleep(policy, config.effective.sleep == Some(false), activity, now);
    let preview = Preview {
        service: service.name.clone(),
        internal_url: internal_url(&service.name, &name, service.port),
        url: format!("https://{host}"),
        host,
        name,
        revision: deployable.revision.to_owned(),
        seed_image,
        capacity,
        replicas: if sleep.asleep { 0 } else { policy.replicas },
        ttl,
        expires_at: expiry.expires_at,
        expiry_warning: expiry.warning,
        asleep: sleep.asleep,
        sleep_changes_at: sleep.changes_at,
        dependencies: Vec::new(),
        dependants: Vec::new(),
        config,
        diagnostics,
        pr: pr.clone(),
    };
    (preview, expiry.expired)
}

/// The in-cluster URL of a preview: its Service is named after the fleet service, in the
/// preview's namespace.
fn internal_url(service: &ServiceName, namespace: &str, port: u16) -> String {
    if port == 80 {
        format!("http://{service}.{namespace}.svc.cluster.local")
    } else {
        format!("http://{service}.{namespace}.svc.cluster.local:{port}")
    }
}

/// Serializes a [`Duration`] as humantime text (`3days`), for `plan` output.
mod humantime_serde_compat {
    use std::time::Duration;

    pub(super) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

#[cfg(test)]
mod tests;
