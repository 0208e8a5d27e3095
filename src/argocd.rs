//! Argo CD's `Application` as a minimal typed subset we read but never install, and the index
//! of the previews' Applications: what the lifecycle worker decides from, and the durable
//! record of which previews exist, which survives a restart of preview-tower (the sync's hold
//! rule reads it through [`ApplicationIndex::previews`]).
//!
//! Every field is optional and read leniently: a field of the wrong shape reads as absent
//! instead of failing the object, because a single odd Application (an older Argo CD, a hand
//! edit) must not stop the watch of all the others. The watch itself lives in
//! [`watch`]; this module's [`ApplicationIndex`] is plain synchronous state that watch events
//! are applied to, so that it can be tested without a cluster. [`refresh`] patches the
//! ApplicationSets' refresh annotation so that Argo CD regenerates them at once.

pub mod refresh;
pub mod watch;

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use crate::fleet::{Fleet, ServiceName};

use kube::CustomResource;
use kube::runtime::watcher::Event;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::lifecycle::{Health, Observed, Phase, Sync};

/// The label the previews ApplicationSet puts on every Application it generates
/// (`argocd/applicationset.yaml`).
pub const PREVIEW_LABEL: &str = "preview-tower.io/preview";
/// The label naming the fleet service of a preview's Application.
pub const SERVICE_LABEL: &str = "preview-tower.io/service";
/// The label naming the PR number of a preview's Application.
pub const PR_LABEL: &str = "preview-tower.io/pr";

/// The previews Argo CD has, by `(service, PR number)`: the commit each one's Application last
/// synced, when Argo CD says (a full SHA).
pub type PreviewRevisions = BTreeMap<(ServiceName, u64), Option<String>>;

/// What an Application says of the preview it is: its preview labels, and its name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreviewLabels {
    /// [`SERVICE_LABEL`].
    pub service: Option<String>,
    /// [`PR_LABEL`].
    pub pr: Option<String>,
}

impl PreviewLabels {
    /// The preview labels of `app`.
    pub fn of(app: &Application) -> Self {
        let labels = app.metadata.labels.as_ref();
        let get = |key: &str| labels.and_then(|l| l.get(key)).cloned();
        Self {
            service: get(SERVICE_LABEL),
            pr: get(PR_LABEL),
        }
    }
}

/// Whether `app` may be a preview's Application: labelled as one, or named like one
/// (`…-pr-<number>`, the naming rule's shape). The watch keeps these and ignores the rest of
/// the namespace.
pub fn may_be_preview(app: &Application) -> bool {
    let labels = app.metadata.labels.as_ref();
    let labelled = labels.is_some_and(|l| {
        l.contains_key(PREVIEW_LABEL) || l.contains_key(SERVICE_LABEL) || l.contains_key(PR_LABEL)
    });
    labelled
        || app.metadata.name.as_deref().is_some_and(|name| {
            name.rsplit_once("-pr-")
                .is_some_and(|(_, n)| crate::naming::pr_number(n).is_some())
        })
}

/// The preview of `fleet` that the Application `name` with `labels` is, by `(service, PR)`:
/// from its [`SERVICE_LABEL`] and [`PR_LABEL`] when its name carries the fleet's
/// `namespace_prefix` (another preview-tower's Applications, in the same namespace, carry
/// another), or, when they do not name one (an Application made by a template without the
/// labels, a hand edit), from its name under the fleet's naming rule
/// (`<prefix>-<service>-pr-<number>`). `None` for an Application of no fleet service.
pub fn preview_of(fleet: &Fleet, name: &str, labels: &PreviewLabels) -> Option<(ServiceName, u64)> {
    let known =
        |(service, number): (&str, u64)| fleet.service(service).map(|s| (s.name.clone(), number));
    let ours = name
        .strip_prefix(fleet.namespace_prefix.as_str())
        .is_some_and(|rest| rest.starts_with('-'));
    let labelled = labels
        .service
        .as_deref()
        .zip(labels.pr.as_deref().and_then(crate::naming::pr_number))
        .filter(|_| ours);
    labelled.and_then(known).or_else(|| {
        crate::naming::parse_preview_name(&fleet.namespace_prefix, name).and_then(known)
    })
}

/// Reads `T` when the value has its shape, `None` otherwise (never an error).
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// The part of an Application's spec we read: nothing but the project, for logs. Any shape
/// reads (as empty when it is not an object).
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize)]
#[serde(from = "serde_json::Value")]
#[kube(
    group = "argoproj.io",
    version = "v1alpha1",
    kind = "Application",
    namespaced,
    status = "ApplicationStatus",
    schema = "disabled"
)]
pub struct ApplicationSpec {
    /// The AppProject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

impl From<serde_json::Value> for ApplicationSpec {
    fn from(value: serde_json::Value) -> Self {
        Self {
            project: value
                .get("project")
                .and_then(|p| p.as_str())
                .map(str::to_owned),
        }
    }
}

impl From<serde_json::Value> for ApplicationStatus {
    fn from(value: serde_json::Value) -> Self {
        serde_json::from_value::<StatusFields>(value)
            .map(|f| Self {
                sync: f.sync,
                health: f.health,
                operation_state: f.operation_state,
                summary: f.summary,
            })
            .unwrap_or_default()
    }
}

/// How [`ApplicationStatus`] reads when `status` is an object.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusFields {
    #[serde(default, deserialize_with = "lenient")]
    sync: Option<SyncStatus>,
    #[serde(default, deserialize_with = "lenient")]
    health: Option<HealthStatus>,
    #[serde(default, deserialize_with = "lenient")]
    operation_state: Option<OperationState>,
    #[serde(default, deserialize_with = "lenient")]
    summary: Option<Summary>,
}

/// `status` of an Application: only what the lifecycle needs. Any shape reads; a field of the
/// wrong shape reads as absent.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", from = "serde_json::Value")]
pub struct ApplicationStatus {
    /// `status.sync`.
    pub sync: Option<SyncStatus>,
    /// `status.health`.
    pub health: Option<HealthStatus>,
    /// `status.operationState`.
    pub operation_state: Option<OperationState>,
    /// `status.summary`.
    pub summary: Option<Summary>,
}

/// `status.sync`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct SyncStatus {
    /// `Synced`, `OutOfSync` or `Unknown`.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// The commit synced to (single-source Applications).
    #[serde(default, deserialize_with = "lenient")]
    pub revision: Option<String>,
    /// The commits synced to (multi-source Applications).
    #[serde(default, deserialize_with = "lenient")]
    pub revisions: Option<Vec<String>>,
}

/// `status.health`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct HealthStatus {
    /// `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing` or `Unknown`.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// Why, when not healthy.
    #[serde(default, deserialize_with = "lenient")]
    pub message: Option<String>,
}

/// `status.operationState`: the last sync operation.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationState {
    /// `Running`, `Terminating`, `Failed`, `Error` or `Succeeded`.
    #[serde(default, deserialize_with = "lenient")]
    pub phase: Option<String>,
    /// What happened.
    #[serde(default, deserialize_with = "lenient")]
    pub message: Option<String>,
    /// `syncResult.revision`: the commit the operation synced.
    #[serde(default, deserialize_with = "lenient")]
    pub sync_result: Option<RevisionOf>,
    /// `operation.sync.revision`: the commit the operation was asked to sync.
    #[serde(default, deserialize_with = "lenient")]
    pub operation: Option<OperationOf>,
}

/// An object with a `revision`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct RevisionOf {
    /// The commit.
    #[serde(default, deserialize_with = "lenient")]
    pub revision: Option<String>,
}

/// `operation`: what was asked.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct OperationOf {
    /// `operation.sync`.
    #[serde(default, deserialize_with = "lenient")]
    pub sync: Option<RevisionOf>,
}

/// `status.summary`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// URLs Argo CD found on Ingresses and annotations.
    #[serde(default, rename = "externalURLs", deserialize_with = "lenient")]
    pub external_urls: Option<Vec<String>>,
}

fn sync_of(text: Option<&str>) -> Sync {
    match text {
        Some("Synced") => Sync::Synced,
        Some("OutOfSync") => Sync::OutOfSync,
        _ => Sync::Unknown,
    }
}

fn health_of(text: Option<&str>) -> Health {
    match text {
        Some("Healthy") => Health::Healthy,
        Some("Progressing") => Health::Progressing,
        Some("Degraded") => Health::Degraded,
        Some("Suspended") => Health::Suspended,
        Some("Missing") => Health::Missing,
        _ => Health::Unknown,
    }
}

fn phase_of(text: Option<&str>) -> Option<Phase> {
    Some(match text? {
        "Running" => Phase::Running,
        "Terminating" => Phase::Terminating,
        "Failed" => Phase::Failed,
        "Error" => Phase::Error,
        "Succeeded" => Phase::Succeeded,
        _ => return None,
    })
}

/// The lifecycle's view of an Application, `None` without a name.
pub fn observe(app: &Application) -> Option<Observed> {
    let name = app.metadata.name.clone()?;
    let status = app.status.clone().unwrap_or_default();
    let sync = status.sync.unwrap_or_default();
    let health = status.health.unwrap_or_default();
    let operation = status.operation_state.unwrap_or_default();
    let phase = phase_of(operation.phase.as_deref());
    let failed = matches!(phase, Some(Phase::Failed | Phase::Error));
    let message = if failed {
        operation.message.or(health.message)
    } else {
        health.message.or(operation.message)
    };
    Some(Observed {
        name,
        sync: sync_of(sync.status.as_deref()),
        revision: sync
            .revision
            .or_else(|| sync.revisions.and_then(|r| r.into_iter().next())),
        health: health_of(health.status.as_deref()),
        phase,
        operation_revision: operation.sync_result.and_then(|r| r.revision).or_else(|| {
            operation
                .operation
                .and_then(|o| o.sync)
                .and_then(|s| s.revision)
        }),
        message,
        deleting: app.metadata.deletion_timestamp.is_some(),
        external_urls: status
            .summary
            .and_then(|s| s.external_urls)
            .unwrap_or_default(),
    })
}

/// One Application as the index keeps it.
#[derive(Clone, Debug)]
struct Indexed {
    observed: Observed,
    labels: PreviewLabels,
}

impl Indexed {
    fn of(app: &Application) -> Option<Self> {
        Some(Self {
            observed: observe(app)?,
            labels: PreviewLabels::of(app),
        })
    }
}

#[derive(Debug, Default)]
struct IndexState {
    apps: BTreeMap<String, Indexed>,
    /// Objects of a (re)list in progress, swapped in at `InitDone`.
    relist: Option<BTreeMap<String, Indexed>>,
    /// Whether a full list has been applied since start-up.
    complete: bool,
    /// Bumped on every change.
    version: u64,
}

/// The previews' Applications as last seen, fed by watch events.
#[derive(Debug)]
pub struct ApplicationIndex {
    state: Mutex<IndexState>,
    changed: tokio::sync::watch::Sender<u64>,
}

impl Default for ApplicationIndex {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            changed: tokio::sync::watch::channel(0).0,
        }
    }
}

impl ApplicationIndex {
    /// Applies one watch event. A (re)list replaces the whole index atomically at its end, so
    /// Applications deleted while the watch was down disappear, and a half-done relist is
    /// never mistaken for the truth.
    pub fn apply(&self, event: Event<Application>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            Event::Init => state.relist = Some(BTreeMap::new()),
            Event::InitApply(app) => {
                if let (Some(relist), Some(indexed)) = (state.relist.as_mut(), Indexed::of(&app)) {
                    relist.insert(indexed.observed.name.clone(), indexed);
                }
                // Nothing anyone reads changed until the relist is done.
                return;
            }
            Event::InitDone => {
                let relist = state.relist.take().unwrap_or_default();
                state.apps = relist;
                state.complete = true;
            }
            Event::Apply(app) => {
                if let Some(indexed) = Indexed::of(&app) {
                    state.apps.insert(indexed.observed.name.clone(), indexed);
                }
            }
            Event::Delete(app) => {
                if let Some(name) = &app.metadata.name {
                    state.apps.remove(name);
                }
            }
        }
        state.version += 1;
        let version = state.version;
        drop(state);
        self.changed.send_replace(version);
    }

    /// Every Application, once a full list has been seen; `None` before (an empty index then
    /// means "not known yet", not "no Applications").
    pub fn observed(&self) -> Option<Vec<Observed>> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .complete
            .then(|| state.apps.values().map(|i| i.observed.clone()).collect())
    }

    /// The previews of `fleet` whose Applications exist (and are not being deleted: those hold
    /// nothing an answer could keep), once a full list has been seen; `None` before. A
    /// revision is kept only when it is a full commit SHA.
    pub fn previews(&self, fleet: &Fleet) -> Option<PreviewRevisions> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.complete {
            return None;
        }
        let mut previews = PreviewRevisions::new();
        for (name, indexed) in state.apps.iter().filter(|(_, i)| !i.observed.deleting) {
            let Some(key) = preview_of(fleet, name, &indexed.labels) else {
                continue;
            };
            let revision = indexed
                .observed
                .revision
                .clone()
                .filter(|r| r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()));
            let entry = previews.entry(key).or_default();
            if entry.is_none() {
                *entry = revision;
            }
        }
        Some(previews)
    }

    /// Resolves once a full list has been seen.
    pub async fn listed(&self) {
        let mut changes = self.subscribe();
        loop {
            let complete = self
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .complete;
            if complete || changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Wakes on every change.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

#[cfg(test)]
mod tests;
