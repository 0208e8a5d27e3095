//! Realistic Argo CD objects for tests, valid against the CRDs in the conformance directory.

use serde_json::{Map, Value, json};

use super::model::now;

/// The namespace Argo CD runs in, and where the builders put their objects.
pub const ARGOCD_NAMESPACE: &str = "argocd";

/// The finalizer Argo CD's previews carry (`argocd/applicationset.yaml`): deleting the
/// Application deletes what it deployed first.
pub const RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";

/// An Application `name` in `argocd` with `labels`, as our ApplicationSet generates one:
/// project `previews`, the resources finalizer, source `overlays/preview` of a GitHub
/// repository at `HEAD`, destination the in-cluster server and namespace `name`. No status:
/// see [`status`].
pub fn application(name: &str, labels: &[(&str, &str)]) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": ARGOCD_NAMESPACE,
            "labels": label_map(labels),
            "finalizers": [RESOURCES_FINALIZER],
        },
        "spec": {
            "project": "previews",
            "source": {
                "repoURL": "https://github.com/acme/web.git",
                "path": "overlays/preview",
                "targetRevision": "HEAD",
            },
            "destination": {
                "server": "https://kubernetes.default.svc",
                "namespace": name,
            },
        },
    })
}

/// An Application `.status`: `sync.status` and `sync.revision`, `health.status`, and with a
/// `phase` an `operationState` (a sync of `revision`, started now, finished now when the
/// phase is final). `message` goes to `health.message` and `operationState.message`.
/// `summary.externalURLs` is one placeholder URL: see [`with_external_urls`].
pub fn status(
    sync: &str,
    revision: &str,
    health: &str,
    phase: Option<&str>,
    message: Option<&str>,
) -> Value {
    let now = now();
    let mut status = json!({
        "sync": {"status": sync, "revision": revision},
        "health": {"status": health, "lastTransitionTime": now},
        "summary": {"externalURLs": ["https://preview.example.test/"]},
        "sourceType": "Directory",
        "reconciledAt": now,
    });
    if let Some(message) = message {
        status["health"]["message"] = json!(message);
    }
    if let Some(phase) = phase {
        let mut operation = json!({
            "operation": {
                "sync": {"revision": revision},
                "initiatedBy": {"automated": true},
            },
            "phase": phase,
            "startedAt": now,
        });
        if matches!(phase, "Succeeded" | "Failed" | "Error") {
            operation["finishedAt"] = json!(now);
            operation["syncResult"] = json!({"revision": revision});
        }
        if let Some(message) = message {
            operation["message"] = json!(message);
        }
        status["operationState"] = operation;
    }
    status
}

/// `status` with `summary.externalURLs` replaced by `urls`.
pub fn with_external_urls(mut status: Value, urls: &[&str]) -> Value {
    status["summary"]["externalURLs"] = json!(urls);
    status
}

/// An ApplicationSet `name` in `argocd` shaped like ours (`argocd/applicationset.yaml`, less
/// the kustomize patches): one plugin generator (config map `preview-tower`) and a Go
/// template of one Application per parameter set.
pub fn applicationset(name: &str) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": name, "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "goTemplate": true,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [{
                "plugin": {
                    "configMapRef": {"name": "preview-tower"},
                    "input": {"parameters": {}},
                    "requeueAfterSeconds": 60,
                },
            }],
            "template": {
                "metadata": {
                    "name": "{{ .name }}",
                    "labels": {
                        "preview-tower.io/preview": "true",
                        "preview-tower.io/service": "{{ .service }}",
                        "preview-tower.io/pr": "{{ .number }}",
                    },
                    "finalizers": [RESOURCES_FINALIZER],
                },
                "spec": {
                    "project": "previews",
                    "source": {
                        "repoURL": "{{ .repo_url }}",
                        "path": "{{ .overlay_path }}",
                        "targetRevision": "{{ .revision }}",
                    },
                    "destination": {
                        "server": "https://kubernetes.default.svc",
                        "namespace": "{{ .namespace }}",
                    },
                },
            },
        },
    })
}

fn label_map(labels: &[(&str, &str)]) -> Value {
    let map: Map<String, Value> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    Value::Object(map)
}
