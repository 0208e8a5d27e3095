//! Argo CD's `Application` as a minimal typed subset we read but never install: every field
//! optional and read leniently (a field of the wrong shape reads as absent), so that one odd
//! Application never fails a list; and the lifecycle's view of one ([`observe`]).

use kube::CustomResource;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::lifecycle::{AppSync, Health, Observed, Phase};

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

fn sync_of(text: Option<&str>) -> AppSync {
    match text {
        Some("Synced") => AppSync::Synced,
        Some("OutOfSync") => AppSync::OutOfSync,
        _ => AppSync::Unknown,
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
