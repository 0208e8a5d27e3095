//! Every demo preview, rendered with real kustomize from the ApplicationSet and the plugin's
//! parameters, is fenced: a ResourceQuota and a LimitRange from the parameters, a default-deny
//! NetworkPolicy, DNS, its own namespace, the internet on 80 and 443 but never a private or
//! link-local address (the node's metadata endpoint), egress to exactly the namespaces its
//! dependencies name, its port open to the load balancer and its dependants; the guardrails
//! admit it, the AppProject admits every kind. And what a PR's overlay can do after Argo CD's
//! overrides is refused: a deleted quota or default-deny starts no pod, a raised quota, an opened
//! egress, a Namespace renamed to `production`, and a preview or its data kept after the PR
//! closes (a `Delete=false` sync option, a finalizer of its own, a claim on another
//! StorageClass) are denied at admission.
//!
//! Here: a demo preview rendered as Argo CD renders it, and the guardrails applied to it as the
//! API server applies them, which the parts share.

#[path = "fence/guardrails.rs"]
mod guardrails;
#[path = "fence/namespace.rs"]
mod namespace;
#[path = "fence/network.rs"]
mod network;
#[path = "fence/quota.rs"]
mod quota;
#[path = "fence/retention.rs"]
mod retention;

use serde_json::{Map, Value, json};

use super::admission::{self, Outcome, Param, Request};
use super::rendered::AWAKE;
use super::{
    WAVE, application_sets, argo, demo_sets_at, documents, gotemplate, is_matrix, previews, root,
    scratch, str_of, tools,
};

type Set = Map<String, Value>;

/// The demo's sets, awake, with the plugin ApplicationSet.
fn sets() -> (Value, Vec<Set>) {
    let (_, appset) = application_sets()
        .into_iter()
        .find(|(_, a)| !is_matrix(a))
        .expect("the plugin ApplicationSet");
    let sets: Vec<Set> = demo_sets_at(Some(AWAKE))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert!(sets.len() >= 3, "the demo has previews");
    (appset, sets)
}

/// Renders `set`'s preview as Argo CD does; `after` (a kustomization's `patches`) plays the
/// PR's own transformers, which run after Argo CD's overrides.
fn render(appset: &Value, set: &Set, case: &str, after: Option<Value>) -> Option<Vec<Value>> {
    let tools = tools::Tools::find()?;
    let app = gotemplate::render(&appset["spec"]["template"], set).expect("render template");
    let overlay = previews::example_overlay(&root(), set);
    let name = str_of(&Value::Object(set.clone()), "name").to_owned();
    let dir = scratch(&format!("fence-{case}-{name}"));
    let argo_dir = argo::wrapper(&app, &overlay, &dir.join("argo"));
    let top = match after {
        None => argo_dir,
        Some(patches) => {
            let kustomization = json!({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": ["argo"],
                "patches": patches,
            });
            std::fs::write(dir.join("kustomization.yaml"), kustomization.to_string())
                .expect("write");
            dir
        }
    };
    let text = tools
        .kustomize(&top)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    Some(documents(&text))
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

fn patch_of(set: &Set, key: &str) -> Value {
    serde_json::from_str(set[key].as_str().expect("a patch")).expect("JSON")
}

fn wave(doc: &Value) -> i64 {
    doc["metadata"]["annotations"][WAVE]
        .as_str()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0)
}

/// Applies every fence guardrail to one rendered preview as Argo CD would sync it: the quota,
/// LimitRange, NetworkPolicies and workloads, then one pod of each workload.
fn admit_preview(docs: &[Value], set: &Set, parameters: &Value) -> Vec<String> {
    let fence = admission::guardrails("fence.yaml");
    let namespace = set["namespace"].as_str().unwrap_or_default();
    let mut denials = Vec::new();
    let mut check = |name: &str, resource: &str, object: &Value, param: Param| {
        let (policy, binding) = admission::policy(&fence, name);
        let request = Request {
            operation: "CREATE",
            resource,
            namespace,
            object,
            old_object: None,
        };
        if let Outcome::Denied(messages) = admission::review(policy, binding, &request, param) {
            denials.push(format!(
                "{name} on {} {}: {messages:?}",
                object["kind"], object["metadata"]["name"]
            ));
        }
    };
    for doc in docs {
        let resource = match str_of(doc, "kind") {
            "ResourceQuota" => "resourcequotas",
            "LimitRange" => "limitranges",
            "Deployment" => "deployments",
            "StatefulSet" => "statefulsets",
            "NetworkPolicy" => "networkpolicies",
            _ => continue,
        };
        let policy = if resource == "networkpolicies" {
            "preview-tower-fence-egress"
        } else {
            "preview-tower-fence-budget"
        };
        check(policy, resource, doc, Param::Found(parameters));
    }
    let quota = find(docs, "ResourceQuota", "preview");
    let deny = find(docs, "NetworkPolicy", "default-deny");
    for pod in pods(docs) {
        check("preview-tower-fence-quota", "pods", &pod, param(quota));
        check(
            "preview-tower-fence-default-deny",
            "pods",
            &pod,
            param(deny),
        );
    }
    denials.extend(retention_denials(docs, namespace, parameters));
    denials
}

/// The resource (plural) of a kind, as the API server names it.
fn resource_of(kind: &str) -> String {
    let kind = kind.to_lowercase();
    if let Some(stem) = kind.strip_suffix('y') {
        format!("{stem}ies")
    } else if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    }
}

/// The retention guardrails on every object of a preview, created (`old` absent) or updated
/// from `old`: the denials, as `<policy> on <kind> <name>: <messages>`.
fn retention_review(
    object: &Value,
    old: Option<&Value>,
    namespace: &str,
    parameters: &Value,
) -> Vec<String> {
    let retention = admission::guardrails("retention.yaml");
    let kind = str_of(object, "kind");
    let resource = resource_of(kind);
    let (names, namespace): (&[&str], &str) = if kind == "Namespace" {
        (&["preview-tower-retention-namespaces"], "")
    } else {
        (
            &["preview-tower-retention", "preview-tower-retention-claims"],
            namespace,
        )
    };
    let mut denials = Vec::new();
    for name in names {
        let (policy, binding) = admission::policy(&retention, name);
        let request = Request {
            operation: if old.is_some() { "UPDATE" } else { "CREATE" },
            resource: &resource,
            namespace,
            object,
            old_object: old,
        };
        let param = Param::for_policy(policy, parameters);
        if let Outcome::Denied(messages) = admission::review(policy, binding, &request, param) {
            denials.push(format!(
                "{name} on {kind} {}: {messages:?}",
                object["metadata"]["name"]
            ));
        }
    }
    denials
}

fn retention_denials(docs: &[Value], namespace: &str, parameters: &Value) -> Vec<String> {
    docs.iter()
        .flat_map(|doc| retention_review(doc, None, namespace, parameters))
        .collect()
}

fn param(found: Option<&Value>) -> Param<'_> {
    found.map_or(Param::Missing, Param::Found)
}

/// A pod of each workload, as its controller creates it.
fn pods(docs: &[Value]) -> Vec<Value> {
    docs.iter()
        .filter(|d| matches!(str_of(d, "kind"), "Deployment" | "StatefulSet" | "Job"))
        .map(|d| {
            let template = &d["spec"]["template"];
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": template["metadata"], "spec": template["spec"]})
        })
        .collect()
}

fn guardrail_parameters() -> Value {
    admission::guardrails("parameters.yaml")
        .into_iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("the guardrails' ConfigMap")
}
