//! Where previews run: the previews' Karpenter NodePool (`platform/nodepool.yaml`) is valid and is
//! the pool the fleets describe (its taint, capacity types and architecture), and every rendered
//! demo preview, spot or on-demand, tolerates that taint, asks for that architecture and requires
//! the pool's nodes (a toleration alone would let it onto any untainted node).

use preview_tower::fleet::{Fleet, Scheduling};
use preview_tower::params::scheduling_patch;
use preview_tower::plan::CapacityType;
use serde_json::Value;

use super::rendered::awake_demo_previews;
use super::{documents, root, tools};
use crate::support::conformance;

const NODEPOOL: &str = "platform/nodepool.yaml";
const NODEPOOL_SCHEMA: &str = "crds-catalog/karpenter.sh/nodepool_v1.json";
const ARCH_LABEL: &str = "kubernetes.io/arch";

fn nodepool() -> Value {
    let text = std::fs::read_to_string(root().join(NODEPOOL)).expect("the NodePool");
    let mut docs = documents(&text);
    assert_eq!(docs.len(), 1, "{NODEPOOL}: one NodePool");
    docs.remove(0)
}

/// The fleets deployed with the NodePool: the example fleet (`manifests/fleet.yaml`) and the
/// demo's.
fn fleets() -> Vec<(&'static str, Fleet)> {
    let text = std::fs::read_to_string(root().join("manifests/fleet.yaml")).expect("read");
    let deployed = Fleet::from_yaml(&text).expect("valid fleet");
    let demo = preview_tower::demo::fleet().expect("demo fleet");
    vec![("manifests/fleet.yaml", deployed), ("the demo fleet", demo)]
}

/// The values of the NodePool requirement on `key` with operator `In`.
fn required_values<'a>(pool: &'a Value, key: &str) -> Vec<&'a str> {
    pool["spec"]["template"]["spec"]["requirements"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["key"] == key && r["operator"] == "In")
        .flat_map(|r| r["values"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect()
}

/// Whether `toleration` (a pod's, as rendered) tolerates `taint` (the NodePool's).
fn tolerates(toleration: &Value, taint: &Value) -> bool {
    let effect_ok = toleration["effect"].is_null() || toleration["effect"] == taint["effect"];
    let key_ok = toleration["key"] == taint["key"];
    let value_ok = match toleration["operator"].as_str().unwrap_or("Equal") {
        "Exists" => true,
        _ => toleration["value"] == taint["value"],
    };
    effect_ok && key_ok && value_ok
}

/// The NodePool passes its CRD's schema, is applied with the platform's directory, and is the
/// pool the fleets name: the same taint, both capacity types, the same architecture.
#[test]
fn the_nodepool_is_valid_and_is_the_pool_the_fleets_describe() {
    let pool = nodepool();
    let violations = conformance::validate(NODEPOOL_SCHEMA, &pool);
    assert!(violations.is_empty(), "{NODEPOOL}: {violations:#?}");
    // Rules of the CRD the JSON Schema cannot express (its CEL validations), for the operators
    // used here.
    for requirement in pool["spec"]["template"]["spec"]["requirements"]
        .as_array()
        .expect("requirements")
    {
        let values = requirement["values"].as_array().map_or(0, Vec::len);
        match requirement["operator"].as_str() {
            Some("In") => assert!(values > 0, "{NODEPOOL}: `In` without values"),
            Some("Gt" | "Lt") => assert_eq!(values, 1, "{NODEPOOL}: {requirement}"),
            _ => {}
        }
    }
    let kustomization = std::fs::read_to_string(root().join("platform/kustomization.yaml"))
        .expect("platform/kustomization.yaml");
    let resources = documents(&kustomization)[0]["resources"].clone();
    assert!(
        resources
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r == "nodepool.yaml")),
        "platform/kustomization.yaml must apply nodepool.yaml: {resources}"
    );
    let taints = pool["spec"]["template"]["spec"]["taints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (origin, fleet) in fleets() {
        let Scheduling {
            capacity_type_label,
            spot_value,
            on_demand_value,
            toleration,
            architecture,
            node_pool,
        } = &fleet.scheduling;
        // The previews require the pool's nodes, by the label Karpenter gives them: its name.
        let node_pool = node_pool
            .as_ref()
            .expect("the fleet names the previews' pool");
        assert_eq!(
            (node_pool.label.as_str(), &pool["metadata"]["name"]),
            (
                "karpenter.sh/nodepool",
                &Value::from(node_pool.value.clone())
            ),
            "{origin}: the node pool is {NODEPOOL}'s"
        );
        assert_eq!(
            capacity_type_label, "karpenter.sh/capacity-type",
            "{origin}"
        );
        let capacity = required_values(&pool, capacity_type_label);
        assert!(
            capacity.contains(&spot_value.as_str()) && capacity.contains(&on_demand_value.as_str()),
            "{NODEPOOL} must launch spot and on-demand nodes for {origin}: {capacity:?}"
        );
        assert_eq!(
            required_values(&pool, ARCH_LABEL),
            [architecture.as_str()],
            "{NODEPOOL} must offer {origin}'s architecture, only"
        );
        // Every taint of the pool is tolerated by the patch of either placement.
        assert!(
            toleration.is_some() && !taints.is_empty(),
            "{origin} and {NODEPOOL} must agree on a taint that keeps others off the pool"
        );
        for capacity in [CapacityType::Spot, CapacityType::OnDemand] {
            let patch: Value =
                serde_json::from_str(&scheduling_patch(&fleet.scheduling, capacity)).expect("JSON");
            let tolerations = &patch["spec"]["template"]["spec"]["tolerations"];
            for taint in &taints {
                assert!(
                    tolerations
                        .as_array()
                        .is_some_and(|ts| ts.iter().any(|t| tolerates(t, taint))),
                    "{origin} ({capacity:?}): {tolerations} does not tolerate {NODEPOOL}'s {taint}"
                );
            }
        }
    }
}

/// Every pod template of every rendered demo preview asks for the fleet's architecture and
/// tolerates the NodePool's taint: the spot previews and the on-demand one (`billing`) alike.
#[test]
fn demo_previews_pin_the_architecture_and_tolerate_the_pool_in_both_placements() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let pool = nodepool();
    let taints = pool["spec"]["template"]["spec"]["taints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let scheduling = preview_tower::demo::fleet().expect("demo fleet").scheduling;
    let architecture = scheduling.architecture;
    let node_pool = scheduling
        .node_pool
        .expect("the demo names the previews' pool");
    let mut placements = std::collections::BTreeSet::new();
    for preview in awake_demo_previews(&tools, "placement") {
        let capacity = preview.set["capacity_type"]
            .as_str()
            .expect("capacity_type");
        placements.insert(capacity.to_owned());
        let mut workloads = 0;
        for workload in preview.workloads() {
            workloads += 1;
            let what = format!(
                "{} ({capacity}): {} {}",
                preview.service, workload["kind"], workload["metadata"]["name"]
            );
            let spec = &workload["spec"]["template"]["spec"];
            assert_eq!(
                spec["nodeSelector"][ARCH_LABEL], architecture,
                "{what}: not pinned to {architecture}"
            );
            assert_eq!(
                spec["nodeSelector"][node_pool.label.as_str()],
                node_pool.value.as_str(),
                "{what}: not kept to the previews' pool"
            );
            let tolerations = spec["tolerations"].as_array().cloned().unwrap_or_default();
            for taint in &taints {
                assert!(
                    tolerations.iter().any(|t| tolerates(t, taint)),
                    "{what}: does not tolerate the previews' pool ({taint}): {tolerations:?}"
                );
            }
        }
        assert!(workloads > 0, "{}: no workload", preview.service);
    }
    assert_eq!(
        placements,
        ["on-demand", "spot"].map(str::to_owned).into(),
        "the demo must render both placements"
    );
}
