//! The fence guardrails admit every demo preview, their parameters are the deployed fleet's
//! `fence`, and what a PR's overlay can do to its fence after Argo CD's overrides is refused: a
//! deleted quota or default-deny starts no pod, a raised quota or an opened egress is denied.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::network::fence_problems;
use super::{admit_preview, find, guardrail_parameters, pods, render, sets};
use crate::root;

#[test]
fn the_guardrails_admit_every_demo_preview() {
    let (appset, sets) = sets();
    let parameters = guardrail_parameters();
    let mut claims = 0;
    for set in &sets {
        let Some(docs) = render(&appset, set, "admit", None) else {
            return;
        };
        let denials = admit_preview(&docs, set, &parameters);
        assert!(denials.is_empty(), "{}", denials.join("\n"));
        assert!(!pods(&docs).is_empty());
        claims += docs
            .iter()
            .filter(|d| d["kind"] == "PersistentVolumeClaim")
            .count();
    }
    assert!(
        claims > 0,
        "a demo preview has a claim for the retention guardrail to check"
    );
}

/// A PR's overlay that deletes its ResourceQuota, or its default-deny, after Argo CD's
/// overrides: the preview renders without it, the fence check says so, and no pod starts.
#[test]
fn a_preview_without_its_quota_or_default_deny_starts_no_pod() {
    let (appset, sets) = sets();
    let parameters = guardrail_parameters();
    let set = sets.iter().find(|s| s["service"] == "api").expect("api");
    for (kind, name) in [
        ("ResourceQuota", "preview"),
        ("NetworkPolicy", "default-deny"),
    ] {
        let patch =
            format!("$patch: delete\napiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n");
        let after = json!([{"target": {"kind": kind, "name": name}, "patch": patch}]);
        let Some(docs) = render(&appset, set, &format!("delete-{name}"), Some(after)) else {
            return;
        };
        assert!(
            find(&docs, kind, name).is_none(),
            "the overlay deleted {kind} {name}"
        );
        assert!(
            !fence_problems(&docs, set).is_empty(),
            "the fence check misses {kind} {name}"
        );
        let denials = admit_preview(&docs, set, &parameters);
        let pods = pods(&docs).len();
        let refused = denials
            .iter()
            .filter(|d| d.contains(" on \"Pod\" "))
            .count();
        assert_eq!(
            refused, pods,
            "every pod refused without {kind} {name}: {denials:#?}"
        );
    }
}

/// What a PR's transformers could do to the fence instead of deleting it: each is denied.
#[test]
fn a_preview_cannot_raise_its_budget_nor_open_its_fence() {
    let (appset, sets) = sets();
    let parameters = guardrail_parameters();
    let set = sets.iter().find(|s| s["service"] == "api").expect("api");
    let rule = |to: Value| json!([{"op": "add", "path": "/spec/egress/-", "value": to}]);
    let cases: Vec<(&str, Value)> = vec![
        (
            "raised-quota",
            json!([{"target": {"kind": "ResourceQuota"}, "patch": r#"[{"op":"replace","path":"/spec/hard/requests.cpu","value":"64"}]"#}]),
        ),
        (
            "loadbalancers",
            json!([{"target": {"kind": "ResourceQuota"}, "patch": r#"[{"op":"replace","path":"/spec/hard/services.loadbalancers","value":"5"}]"#}]),
        ),
        (
            "raised-max",
            json!([{"target": {"kind": "LimitRange"}, "patch": r#"[{"op":"replace","path":"/spec/limits/0/max/memory","value":"64Gi"}]"#}]),
        ),
        (
            "replicas",
            json!([{"target": {"kind": "Deployment", "name": "app"}, "patch": r#"[{"op":"replace","path":"/spec/replicas","value":50}]"#}]),
        ),
        (
            "metadata",
            json!([{"target": {"kind": "NetworkPolicy", "name": "preview-routes"}, "patch": rule(json!({"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}]})).to_string()}]),
        ),
        (
            "vpc",
            json!([{"target": {"kind": "NetworkPolicy", "name": "preview-routes"}, "patch": rule(json!({"to": [{"ipBlock": {"cidr": "10.0.0.0/16"}}]})).to_string()}]),
        ),
        (
            "everywhere",
            json!([{"target": {"kind": "NetworkPolicy", "name": "preview-routes"}, "patch": rule(json!({"ports": [{"port": 8080}]})).to_string()}]),
        ),
        (
            "all-namespaces",
            json!([{"target": {"kind": "NetworkPolicy", "name": "preview-routes"}, "patch": rule(json!({"to": [{"namespaceSelector": {}}]})).to_string()}]),
        ),
        (
            "production",
            json!([{"target": {"kind": "NetworkPolicy", "name": "preview-routes"}, "patch": rule(json!({"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "production"}}}]})).to_string()}]),
        ),
        (
            "kube-system",
            json!([{"target": {"kind": "NetworkPolicy", "name": "preview-routes"}, "patch": rule(json!({"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}]})).to_string()}]),
        ),
        (
            "extra-quota",
            json!([{"target": {"kind": "ResourceQuota"}, "patch": r#"[{"op":"replace","path":"/metadata/name","value":"roomy"}]"#}]),
        ),
    ];
    for (case, after) in cases {
        let Some(docs) = render(&appset, set, case, Some(after)) else {
            return;
        };
        let denials = admit_preview(&docs, set, &parameters);
        assert!(!denials.is_empty(), "{case}: admitted");
        assert!(
            denials.iter().all(|d| d.contains("fence-budget")
                || d.contains("fence-egress")
                || d.contains("fence-quota")),
            "{case}: {denials:#?}"
        );
        // Denied by a validation that fails, with its message: not by an expression that
        // cannot be evaluated (which would deny everything, fenced or not).
        assert!(
            !denials.iter().any(|d| d.contains("error")),
            "{case}: {denials:#?}"
        );
    }
}

/// The guardrails' maxima are the deployed fleet's `fence`: a quota the fleet sets is admitted,
/// and nothing above it.
#[test]
fn the_guardrail_parameters_are_the_deployed_fleets_fence() {
    let text = std::fs::read_to_string(root().join("manifests/fleet.yaml")).expect("read");
    let fleet = preview_tower::fleet::Fleet::from_yaml(&text).expect("valid fleet");
    let data = guardrail_parameters()["data"].clone();
    let quota: Value =
        serde_json::from_str(&preview_tower::params::quota_patch(&fleet.fence)).expect("JSON");
    let hard = quota["spec"]["hard"].as_object().expect("hard");
    for (resource, value) in hard {
        assert_eq!(
            data[format!("quota.{resource}")],
            *value,
            "quota.{resource}"
        );
    }
    let capped = data
        .as_object()
        .expect("data")
        .keys()
        .filter(|k| k.starts_with("quota."))
        .count();
    assert_eq!(
        capped,
        hard.len(),
        "parameters.yaml caps exactly the fleet's quota"
    );
    let max = &fleet.fence.container.max;
    assert_eq!(data["container.max.cpu"], max.cpu.as_str());
    assert_eq!(data["container.max.memory"], max.memory.as_str());
    assert_eq!(data["maxReplicas"], fleet.fence.max_replicas.to_string());
    let staging: BTreeSet<String> = fleet
        .services
        .iter()
        .filter_map(|s| {
            preview_tower::params::in_cluster_namespace(s.staging_internal_url.as_str())
                .map(str::to_owned)
        })
        .collect();
    let listed: BTreeSet<String> = data["stagingNamespaces"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    assert_eq!(
        listed, staging,
        "stagingNamespaces: the fleet's in-cluster staging namespaces"
    );
    assert_eq!(data["namespacePrefix"], fleet.namespace_prefix);
}
