//! The pod-template patch for spot placement with an on-demand fallback. Pure.

use serde_json::{Value, json};

use crate::fleet::Scheduling;
use crate::plan::CapacityType;

/// A strategic-merge patch (JSON text) for the pod template of Deployments, StatefulSets and
/// Jobs. Kustomize applies it to every target the AppSet selects, whatever the name in it.
///
/// - `spot`: nodes of the spot capacity type are *preferred* (weight 100), so pods fall back to
///   on-demand nodes when spot capacity is short or taken back; the spot taint is tolerated.
/// - `on-demand`: nodes of the spot capacity type are *excluded*; no toleration.
pub fn scheduling_patch(scheduling: &Scheduling, capacity: CapacityType) -> String {
    let term = |operator: &str| {
        json!({"matchExpressions": [{
            "key": scheduling.capacity_type_label,
            "operator": operator,
            "values": [scheduling.spot_value],
        }]})
    };
    let pod_spec = match capacity {
        CapacityType::Spot => {
            let tolerations: Vec<Value> = scheduling
                .spot_toleration
                .iter()
                .map(|t| match &t.value {
                    Some(value) => json!({"key": t.key, "operator": "Equal", "value": value, "effect": t.effect}),
                    None => json!({"key": t.key, "operator": "Exists", "effect": t.effect}),
                })
                .collect();
            json!({
                "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "preference": term("In")}
                ]}},
                "tolerations": tolerations,
            })
        }
        CapacityType::OnDemand => json!({
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [term("NotIn")]
            }}},
        }),
    };
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "preview-scheduling"},
        "spec": {"template": {"spec": pod_spec}},
    })
    .to_string()
}
