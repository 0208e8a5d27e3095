//! Asking Argo CD to regenerate an ApplicationSet now, as its own webhook handler does.
//!
//! Argo CD's ApplicationSet controller regenerates an ApplicationSet that carries the annotation
//! [`REFRESH_ANNOTATION`], whatever its value, and removes the annotation at the end of a
//! successful reconcile (`common.AnnotationApplicationSetRefresh`; `RefreshRequired()` tests
//! presence only). Its webhook handler sets it to `"true"` with a patch (`refreshApplicationSet`
//! in `applicationset/webhook/webhook.go`), and so do we: a JSON merge patch of that one
//! annotation, which `argocd/guardrails/applicationsets.yaml` lets through and nothing else.
//! See `docs/annotations-and-labels.md` of Argo CD and `reference/argocd-protocol.md` §4.
//!
//! This module only patches; it never reads, creates or changes anything else of an
//! ApplicationSet, and it decides nothing about when to refresh.

use std::time::Duration;

use kube::api::{Patch, PatchParams};
use kube::{Api, Client, CustomResource};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The annotation that makes Argo CD's ApplicationSet controller regenerate an ApplicationSet.
pub const REFRESH_ANNOTATION: &str = "argocd.argoproj.io/application-set-refresh";

/// The field manager our patches are recorded under.
const FIELD_MANAGER: &str = "preview-tower";

/// Longest wait for the API server's answer to one patch.
const PATCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The part of an ApplicationSet's spec we read: nothing (we only patch its metadata). Any
/// shape reads, so that an ApplicationSet of any Argo CD version patches.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize)]
#[serde(from = "serde_json::Value")]
#[kube(
    group = "argoproj.io",
    version = "v1alpha1",
    kind = "ApplicationSet",
    namespaced,
    schema = "disabled"
)]
pub struct ApplicationSetSpec {}

impl From<serde_json::Value> for ApplicationSetSpec {
    fn from(_: serde_json::Value) -> Self {
        Self {}
    }
}

/// Why an ApplicationSet could not be refreshed. Every variant is non-fatal: Argo CD still
/// regenerates at its own `requeueAfterSeconds`.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// No ApplicationSet of that name in the namespace (a typo in the fleet's
    /// `applicationsets`, or not installed yet).
    #[error(
        "ApplicationSet `{namespace}/{name}` does not exist: check the fleet's `applicationsets`"
    )]
    NotFound {
        /// The namespace.
        namespace: String,
        /// The name.
        name: String,
    },
    /// RBAC refused the patch, or an admission policy did.
    #[error(
        "patching ApplicationSet `{namespace}/{name}` is forbidden ({message}): list it in the `resourceNames` of manifests/rbac.yaml"
    )]
    Forbidden {
        /// The namespace.
        namespace: String,
        /// The name.
        name: String,
        /// The API server's message.
        message: String,
    },
    /// No answer within [`PATCH_TIMEOUT`].
    #[error("patching ApplicationSet `{name}` timed out after {}s", PATCH_TIMEOUT.as_secs())]
    Timeout {
        /// The name.
        name: String,
    },
    /// Any other failure of the API call.
    #[error("patching ApplicationSet `{name}` failed: {source}")]
    Api {
        /// The name.
        name: String,
        /// What kube-rs reported.
        #[source]
        source: kube::Error,
    },
}

impl RefreshError {
    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::Forbidden { .. } => "forbidden",
            Self::Timeout { .. } => "timeout",
            Self::Api { .. } => "api",
        }
    }
}

/// Sets [`REFRESH_ANNOTATION`] on ApplicationSets of one namespace.
#[derive(Clone)]
pub struct ApplicationSetRefresher {
    api: Api<ApplicationSet>,
    namespace: String,
}

impl ApplicationSetRefresher {
    /// A refresher for the ApplicationSets of `namespace` (Argo CD's, usually `argocd`).
    pub fn new(client: Client, namespace: &str) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
        }
    }

    /// The namespace of the ApplicationSets.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Sets `metadata.annotations["argocd.argoproj.io/application-set-refresh"] = "true"` on
    /// the ApplicationSet `name` with a JSON merge patch (idempotent: patching twice before
    /// the controller removes it changes nothing).
    pub async fn refresh(&self, name: &str) -> Result<(), RefreshError> {
        let patch = json!({"metadata": {"annotations": {REFRESH_ANNOTATION: "true"}}});
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PatchParams::default()
        };
        let patch = Patch::Merge(&patch);
        let call = self.api.patch(name, &params, &patch);
        match tokio::time::timeout(PATCH_TIMEOUT, call).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(self.classify(name, error)),
            Err(_) => Err(RefreshError::Timeout {
                name: name.to_owned(),
            }),
        }
    }

    fn classify(&self, name: &str, error: kube::Error) -> RefreshError {
        match &error {
            kube::Error::Api(status) if status.is_not_found() => RefreshError::NotFound {
                namespace: self.namespace.clone(),
                name: name.to_owned(),
            },
            kube::Error::Api(status) if status.is_forbidden() => RefreshError::Forbidden {
                namespace: self.namespace.clone(),
                name: name.to_owned(),
                message: status.message.chars().take(200).collect(),
            },
            _ => RefreshError::Api {
                name: name.to_owned(),
                source: error,
            },
        }
    }
}
