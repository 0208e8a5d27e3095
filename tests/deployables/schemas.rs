//! Validates Kubernetes objects: custom resources against the vendor JSON Schemas in the
//! conformance directory, core kinds with `kubernetes-validate --strict`. An object of a kind
//! that has neither fails.

use std::path::Path;

use serde_json::Value;

use super::tools::Tools;
use crate::support::conformance;

/// The vendor schema of a custom resource kind, relative to the conformance directory.
fn custom_resource_schema(api_version: &str, kind: &str) -> Option<&'static str> {
    Some(match (api_version, kind) {
        ("argoproj.io/v1alpha1", "Application") => {
            "crds-catalog/argoproj.io/application_v1alpha1.json"
        }
        ("argoproj.io/v1alpha1", "ApplicationSet") => {
            "crds-catalog/argoproj.io/applicationset_v1alpha1.json"
        }
        ("argoproj.io/v1alpha1", "AppProject") => {
            "crds-catalog/argoproj.io/appproject_v1alpha1.json"
        }
        ("external-secrets.io/v1", "ExternalSecret") => {
            "crds-catalog/external-secrets.io/externalsecret_v1.json"
        }
        ("external-secrets.io/v1", "SecretStore") => {
            "crds-catalog/external-secrets.io/secretstore_v1.json"
        }
        ("external-secrets.io/v1", "ClusterSecretStore") => {
            "crds-catalog/external-secrets.io/clustersecretstore_v1.json"
        }
        ("monitoring.coreos.com/v1", "ServiceMonitor") => {
            "crds-catalog/monitoring.coreos.com/servicemonitor_v1.json"
        }
        ("monitoring.coreos.com/v1", "PodMonitor") => {
            "crds-catalog/monitoring.coreos.com/podmonitor_v1.json"
        }
        ("cert-manager.io/v1", "Certificate") => "crds-catalog/cert-manager.io/certificate_v1.json",
        ("cert-manager.io/v1", "ClusterIssuer") => {
            "crds-catalog/cert-manager.io/clusterissuer_v1.json"
        }
        ("karpenter.sh/v1", "NodePool") => "crds-catalog/karpenter.sh/nodepool_v1.json",
        _ => return None,
    })
}

fn is_custom_group(api_version: &str) -> bool {
    // Core groups are either "v1" or "<name>/<version>" where name has no dot, or a
    // `*.k8s.io` group.
    match api_version.split_once('/') {
        Some((group, _)) => group.contains('.') && !group.ends_with(".k8s.io"),
        None => false,
    }
}

/// The AWS Load Balancer Controller's CRDs are not in the conformance directory: its kinds are
/// checked for the fields the previews rely on instead, and any other kind of it fails.
fn load_balancer_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if doc["kind"] != "IngressClassParams" {
        return vec![format!("no check for {}", doc["kind"])];
    }
    let spec = &doc["spec"];
    if spec["group"]["name"].as_str().is_none() {
        problems.push("no spec.group.name".to_owned());
    }
    if spec["namespaceSelector"]["matchLabels"]["preview-tower.io/preview"] != "true" {
        problems.push("admits namespaces other than previews'".to_owned());
    }
    if !matches!(
        spec["scheme"].as_str(),
        Some("internet-facing" | "internal")
    ) {
        problems.push(format!("scheme {}", spec["scheme"]));
    }
    for arn in spec["certificateArn"].as_array().into_iter().flatten() {
        if !arn.as_str().is_some_and(|a| a.starts_with("arn:aws:acm:")) {
            problems.push(format!("not an ACM certificate ARN: {arn}"));
        }
    }
    let known = [
        "group",
        "namespaceSelector",
        "scheme",
        "certificateArn",
        "sslPolicy",
        "ipAddressType",
        "tags",
        "loadBalancerAttributes",
        "inboundCIDRs",
        "subnets",
        "tags",
        "minimumLoadBalancerCapacity",
        "sslRedirectPort",
        "prefixListsIDs",
        "ipamConfiguration",
        "listeners",
        "targetType",
    ];
    for key in spec.as_object().into_iter().flat_map(|o| o.keys()) {
        if !known.contains(&key.as_str()) {
            problems.push(format!("unknown field spec.{key}"));
        }
    }
    problems
}

/// Violations of the `openAPIV3Schema` of the Argo CD CRD for `kind`, as the API server would
/// enforce it (structural schema; unknown fields are pruned rather than refused, so this
/// complements the stricter catalog schema).
fn argocd_crd_violations(kind: &str, doc: &Value) -> Vec<String> {
    let file = match kind {
        "Application" => "argocd/crds/application-crd.yaml",
        "ApplicationSet" => "argocd/crds/applicationset-crd.yaml",
        _ => return Vec::new(),
    };
    conformance::validate_crd(file, "v1alpha1", doc)
        .into_iter()
        .map(|v| format!("{file}: {} at {}", v.message, v.instance_path))
        .collect()
}

/// Every problem with `docs` (from `origin`, for messages), as lines.
pub fn validate(tools: &Tools, docs: &[Value], origin: &str, scratch: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut core = Vec::new();
    for doc in docs {
        let api_version = doc["apiVersion"].as_str().unwrap_or_default();
        let kind = doc["kind"].as_str().unwrap_or_default();
        let name = doc["metadata"]["name"].as_str().unwrap_or("?");
        if api_version.is_empty() || kind.is_empty() {
            problems.push(format!(
                "{origin}: an object without apiVersion or kind: {doc}"
            ));
        } else if let Some(violations) = super::shapes::check(api_version, kind, doc) {
            for violation in violations {
                problems.push(format!("{origin}: {kind}/{name}: {violation}"));
            }
        } else if let Some(schema) = custom_resource_schema(api_version, kind) {
            for violation in conformance::validate(schema, doc) {
                problems.push(format!("{origin}: {kind}/{name}: {violation}"));
            }
            for violation in argocd_crd_violations(kind, doc) {
                problems.push(format!("{origin}: {kind}/{name}: {violation}"));
            }
        } else if api_version == "elbv2.k8s.aws/v1beta1" {
            for problem in load_balancer_problems(doc) {
                problems.push(format!("{origin}: {kind}/{name}: {problem}"));
            }
        } else if is_custom_group(api_version) {
            problems.push(format!(
                "{origin}: {kind}/{name}: no schema for {api_version} {kind}"
            ));
        } else {
            core.push(doc);
        }
    }
    if !core.is_empty() {
        let file = scratch.join(format!("{}.yaml", origin.replace(['/', ' ', ':'], "_")));
        let text: Vec<String> = core.iter().map(|d| d.to_string()).collect();
        std::fs::write(&file, text.join("\n---\n")).expect("write scratch file");
        for line in tools.validate_core(&file) {
            problems.push(format!("{origin}: {line}"));
        }
    }
    problems
}
