//! The quota leaves room for each demo preview at the peak of a rollout.

use serde_json::Value;

use super::{find, render, sets};
use crate::str_of;

/// Requests and limits of one pod as the quota counts them: the larger of its containers' sum
/// and its largest init container, per resource (millicores, MiB).
fn pod_usage(spec: &Value, what: &str) -> (f64, f64) {
    let amount = |c: &Value, resource: &str| {
        quantity(c["resources"][what][resource].as_str().unwrap_or("0"))
    };
    let sum = |key: &str, resource: &str| -> f64 {
        spec[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| amount(c, resource))
            .sum()
    };
    let max = |key: &str, resource: &str| -> f64 {
        spec[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| amount(c, resource))
            .fold(0.0, f64::max)
    };
    (
        sum("containers", "cpu").max(max("initContainers", "cpu")),
        sum("containers", "memory").max(max("initContainers", "memory")),
    )
}

/// A quantity in base units (cores, bytes).
fn quantity(text: &str) -> f64 {
    let suffixes = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("m", 0.001),
    ];
    let (number, factor) = suffixes
        .iter()
        .find_map(|(s, f)| text.strip_suffix(s).map(|n| (n, *f)))
        .unwrap_or((text, 1.0));
    number.parse::<f64>().expect("a quantity") * factor
}

/// The quota leaves room for the preview at the peak of a rollout with the most replicas the
/// fleet allows: every app pod and one more (a rolling update's surge), each database, the
/// migration Job.
#[test]
fn the_quota_fits_every_demo_preview_at_its_peak() {
    let (appset, sets) = sets();
    let max_replicas = f64::from(
        preview_tower::demo::fleet()
            .expect("demo fleet")
            .fence
            .max_replicas,
    );
    for set in &sets {
        let Some(docs) = render(&appset, set, "peak", None) else {
            return;
        };
        let hard = &find(&docs, "ResourceQuota", "preview").expect("quota")["spec"]["hard"];
        let mut used = [0.0_f64; 5];
        for doc in docs
            .iter()
            .filter(|d| matches!(str_of(d, "kind"), "Deployment" | "StatefulSet" | "Job"))
        {
            let copies = match doc["metadata"]["labels"]["preview-tower.io/replicas"].as_str() {
                Some("preview") => max_replicas + 1.0,
                _ => 1.0,
            };
            let spec = &doc["spec"]["template"]["spec"];
            let (request_cpu, request_memory) = pod_usage(spec, "requests");
            let (limit_cpu, limit_memory) = pod_usage(spec, "limits");
            for (slot, value) in [request_cpu, request_memory, limit_cpu, limit_memory, 1.0]
                .into_iter()
                .enumerate()
            {
                used[slot] += value * copies;
            }
        }
        let names = [
            "requests.cpu",
            "requests.memory",
            "limits.cpu",
            "limits.memory",
            "pods",
        ];
        for (name, used) in names.iter().zip(used) {
            let cap = quantity(hard[*name].as_str().expect("capped"));
            assert!(
                used <= cap,
                "{}: {name} {used} over the quota's {cap}",
                set["namespace"]
            );
        }
    }
}
