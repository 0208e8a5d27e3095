//! A preview, and its data, go with their pull request: a `Delete=false` sync option, a
//! finalizer of the PR's own or a claim on another StorageClass is denied at admission; what
//! Kubernetes itself does to those objects passes.

use serde_json::{Value, json};

use super::{admit_preview, find, guardrail_parameters, render, retention_review, sets};
use crate::{documents, root};

/// The only class a preview's claim may name is the cluster's default, which deletes its volumes.
#[test]
fn the_claims_class_is_the_default_that_deletes() {
    let text = std::fs::read_to_string(root().join("platform/storageclass.yaml")).expect("read");
    let defaults: Vec<Value> = documents(&text)
        .into_iter()
        .filter(|d| {
            d["kind"] == "StorageClass"
                && d["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]
                    == "true"
        })
        .collect();
    assert_eq!(defaults.len(), 1, "one default StorageClass");
    assert_eq!(defaults[0]["reclaimPolicy"], "Delete");
    assert_eq!(
        guardrail_parameters()["data"]["storageClasses"],
        defaults[0]["metadata"]["name"],
        "parameters.yaml `storageClasses`: the default class only"
    );
}

/// What a PR's transformers could do to keep its preview, or its data, after the PR closes:
/// each is refused, with the policy's message. What Kubernetes itself does to those objects
/// (its finalizers, the default class written into a claim, a finalizer removed) passes.
#[test]
fn a_preview_cannot_outlive_its_pull_request() {
    let (appset, sets) = sets();
    let parameters = guardrail_parameters();
    let set = sets.iter().find(|s| s["service"] == "api").expect("api");
    let namespace = set["namespace"].as_str().expect("namespace");
    let annotate = |value: &str| {
        format!(
            r#"[{{"op":"add","path":"/metadata/annotations/argocd.argoproj.io~1sync-options","value":"{value}"}}]"#
        )
    };
    let finalizer = r#"[{"op":"add","path":"/metadata/finalizers","value":["example.com/keep"]}]"#;
    let kept = "a preview goes with its pull request: ";
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "namespace-delete-false",
            json!([{"target": {"kind": "Namespace"}, "patch": annotate("Delete=false")}]),
            "Namespace preview-api-",
        ),
        (
            "claim-prune-false",
            json!([{"target": {"kind": "PersistentVolumeClaim"}, "patch": annotate("ServerSideApply=true, Prune=false")}]),
            "PersistentVolumeClaim postgres-data may not carry the sync option Prune=false",
        ),
        (
            "deployment-delete-confirm",
            json!([{"target": {"kind": "Deployment", "name": "app"}, "patch": annotate("Delete=confirm")}]),
            "Deployment app may not carry the sync option Delete=confirm",
        ),
        (
            "claim-finalizer",
            json!([{"target": {"kind": "PersistentVolumeClaim"}, "patch": finalizer}]),
            "PersistentVolumeClaim postgres-data may carry no finalizer but Kubernetes' own (kubernetes.io/...): example.com/keep",
        ),
        (
            "namespace-finalizer",
            json!([{"target": {"kind": "Namespace"}, "patch": finalizer}]),
            "Namespace preview-api-",
        ),
        (
            "namespace-spec-finalizer",
            json!([{"target": {"kind": "Namespace"}, "patch": r#"[{"op":"add","path":"/spec","value":{"finalizers":["kubernetes","example.com/keep"]}}]"#}]),
            "Namespace preview-api-",
        ),
        (
            "retained-class",
            json!([{"target": {"kind": "PersistentVolumeClaim"}, "patch": r#"[{"op":"add","path":"/spec/storageClassName","value":"gp3-retain"}]"#}]),
            "a preview claim uses the cluster's default StorageClass (gp3; name none): PersistentVolumeClaim postgres-data names storageClassName",
        ),
        (
            "static-volume",
            json!([{"target": {"kind": "PersistentVolumeClaim"}, "patch": r#"[{"op":"add","path":"/spec/storageClassName","value":""}]"#}]),
            "a preview claim uses the cluster's default StorageClass",
        ),
    ];
    for (case, after, message) in cases {
        let Some(docs) = render(&appset, set, case, Some(after)) else {
            return;
        };
        let denials = admit_preview(&docs, set, &parameters);
        assert!(
            !denials.is_empty() && denials.iter().all(|d| d.contains("retention")),
            "{case}: {denials:#?}"
        );
        let message = if message.starts_with("a preview claim") {
            message.to_owned()
        } else {
            format!("{kept}{message}")
        };
        assert!(
            denials.iter().any(|d| d.contains(&message))
                && !denials.iter().any(|d| d.contains("error")),
            "{case}: no `{message}` in {denials:#?}"
        );
    }

    // Kubernetes at work on the rendered preview passes.
    let Some(docs) = render(&appset, set, "kubernetes", None) else {
        return;
    };
    let claim = find(&docs, "PersistentVolumeClaim", "postgres-data").expect("a claim");
    assert!(
        claim["spec"]["storageClassName"].is_null(),
        "the overlays' claims name no class"
    );
    let ns = docs
        .iter()
        .find(|d| d["kind"] == "Namespace")
        .expect("Namespace");
    let passes = |object: &Value, old: Option<&Value>, what: &str| {
        let denials = retention_review(object, old, namespace, &parameters);
        assert!(denials.is_empty(), "{what}: {denials:#?}");
    };
    // The API server writes the default class and its own finalizer into the new claim.
    let mut created = claim.clone();
    created["spec"]["storageClassName"] = json!("gp3");
    created["metadata"]["finalizers"] = json!(["kubernetes.io/pvc-protection"]);
    passes(&created, None, "a claim as the API server completes it");
    // The default class written into an older claim (retroactive default StorageClass).
    passes(&created, Some(claim), "the class set on an existing claim");
    // An object older than the policy, with a finalizer of its own, can still finish deleting.
    let mut older = created.clone();
    older["metadata"]["finalizers"] = json!(["kubernetes.io/pvc-protection", "example.com/keep"]);
    let mut deleting = older.clone();
    deleting["metadata"]["deletionTimestamp"] = json!("2026-11-25T10:00:00Z");
    deleting["metadata"]["finalizers"] = json!(["example.com/keep"]);
    passes(&deleting, Some(&older), "a claim losing a finalizer");
    let mut older_class = older.clone();
    older_class["spec"]["storageClassName"] = json!("gp3-retain");
    let mut deleting = older_class.clone();
    deleting["metadata"]["finalizers"] = json!(["example.com/keep"]);
    passes(
        &deleting,
        Some(&older_class),
        "an older claim of another class losing a finalizer",
    );
    let mut older_ns = ns.clone();
    older_ns["metadata"]["finalizers"] = json!(["example.com/keep"]);
    older_ns["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] = json!("Delete=false");
    let mut finalized = older_ns.clone();
    finalized["metadata"]["deletionTimestamp"] = json!("2026-11-25T10:00:00Z");
    finalized["metadata"]["finalizers"] = json!([]);
    passes(
        &finalized,
        Some(&older_ns),
        "a namespace losing a finalizer",
    );
    let mut with_spec = ns.clone();
    with_spec["spec"] = json!({"finalizers": ["kubernetes"]});
    passes(
        &with_spec,
        None,
        "the namespace controller's spec.finalizers",
    );
    // Other sync options are the PR's.
    let mut other = claim.clone();
    other["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] =
        json!("ServerSideApply=true");
    passes(&other, None, "ServerSideApply=true");
}
