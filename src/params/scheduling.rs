//! The pod-template patch for spot placement with an on-demand fallback. Pure.

use serde_json::{Value, json};

use crate::fleet::Scheduling;
use crate::plan::CapacityType;

/// The node label of the CPU architecture (well-known, set by the kubelet).
const ARCH_LABEL: &str = "kubernetes.io/arch";

/// A strategic-merge patch (JSON text) for the pod template of Deployments, StatefulSets and
/// Jobs. Kustomize applies it to every target the AppSet selects, whatever the name in it.
///
/// Both placements pin the pods to the fleet's `architecture` (the images are built for one)
/// and tolerate the taint of the previews' nodes: one pool holds spot and on-demand nodes
/// alike, so a preview kept off spot must tolerate it as much as one that prefers spot.
///
/// - `spot`: nodes of the spot capacity type are *preferred* (weight 100), so pods fall back to
///   on-demand nodes when spot capacity is short or taken back.
/// - `on-demand`: nodes of the spot capacity type are *excluded*.
///
/// With the fleet's `node_pool`, both placements *require* the previews' nodes by their label
/// too (a `nodeSelector`, beside the architecture): a toleration alone lets a preview land on
/// any untainted node, where the pool's limits do not count it.
pub fn scheduling_patch(scheduling: &Scheduling, capacity: CapacityType) -> String {
    let term = |operator: &str| {
        json!({"matchExpressions": [{
            "key": scheduling.capacity_type_label,
            "operator": operator,
            "values": [scheduling.spot_value],
        }]})
    };
    let affinity = match capacity {
        CapacityType::Spot => json!({"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "preference": term("In")}
        ]}),
        CapacityType::OnDemand => json!({"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [term("NotIn")]
        }}),
    };
    let tolerations: Vec<Value> = scheduling
        .toleration
        .iter()
        .map(|t| match &t.value {
            Some(value) => {
                json!({"key": t.key, "operator": "Equal", "value": value, "effect": t.effect})
            }
            None => json!({"key": t.key, "operator": "Exists", "effect": t.effect}),
        })
        .collect();
    let mut node_selector = json!({ARCH_LABEL: scheduling.architecture});
    if let Some(pool) = &scheduling.node_pool {
        node_selector[pool.label.as_str()] = json!(pool.value);
    }
    let mut pod_spec = json!({
        "affinity": {"nodeAffinity": affinity},
        "nodeSelector": node_selector,
    });
    if !tolerations.is_empty() {
        pod_spec["tolerations"] = Value::Array(tolerations);
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "preview-scheduling"},
        "spec": {"template": {"spec": pod_spec}},
    })
    .to_string()
}
