//! The fence each demo preview renders with, read from its parameters: a ResourceQuota and a
//! LimitRange, a default-deny NetworkPolicy, DNS, its own namespace, the internet on 80 and 443
//! but never a private or link-local address (the node's metadata endpoint), egress to exactly
//! the namespaces its dependencies name, its port open to the load balancer and its dependants.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Set, find, patch_of, render, sets, wave};
use crate::{documents, previews, root, str_of};

const METADATA_ENDPOINT: &str = "169.254.169.254";

/// An IPv4 block as (network, prefix length).
fn ipv4_block(cidr: &str) -> Option<(u32, u32)> {
    let (address, prefix) = cidr.split_once('/')?;
    let address: std::net::Ipv4Addr = address.parse().ok()?;
    Some((u32::from(address), prefix.parse().ok()?))
}

fn block_contains(cidr: &str, ip: &str) -> bool {
    let (Some((net, prefix)), Ok(ip)) = (ipv4_block(cidr), ip.parse::<std::net::Ipv4Addr>()) else {
        // An IPv6 block never holds an IPv4 address.
        return false;
    };
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    (u32::from(ip) & mask) == (net & mask)
}

fn network_policies(docs: &[Value]) -> Vec<&Value> {
    docs.iter()
        .filter(|d| d["kind"] == "NetworkPolicy")
        .collect()
}

fn egress_rules(docs: &[Value]) -> Vec<&Value> {
    network_policies(docs)
        .into_iter()
        .flat_map(|p| p["spec"]["egress"].as_array().into_iter().flatten())
        .collect()
}

/// The namespaces the preview's NetworkPolicies open egress to, DNS aside.
fn egress_namespaces(docs: &[Value]) -> BTreeSet<String> {
    egress_rules(docs)
        .into_iter()
        .flat_map(|r| r["to"].as_array().into_iter().flatten())
        .filter_map(|p| {
            p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as_str()
        })
        .filter(|n| *n != "kube-system")
        .map(str::to_owned)
        .collect()
}

/// The namespaces the set's dependencies live in: the namespace of each in-cluster
/// `internal_url` (`http://<service>.<namespace>.svc...`).
fn dependency_namespaces(set: &Set) -> BTreeSet<String> {
    set["dependencies"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, d)| {
            let url = url::Url::parse(d["internal_url"].as_str()?).ok()?;
            let labels: Vec<String> = url.host_str()?.split('.').map(str::to_owned).collect();
            (labels.len() >= 3 && labels[2] == "svc").then(|| labels[1].clone())
        })
        .collect()
}

/// What is wrong with the fence of one rendered preview, as lines (empty: fenced).
pub(super) fn fence_problems(docs: &[Value], set: &Set) -> Vec<String> {
    let mut problems = Vec::new();
    let namespace = set["namespace"].as_str().unwrap_or_default();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            problems.push(format!("{namespace}: {what}"));
        }
    };
    for (kind, name, key) in [
        ("ResourceQuota", "preview", "quota_patch"),
        ("LimitRange", "preview", "limit_range_patch"),
        ("NetworkPolicy", "preview-routes", "network_patch"),
    ] {
        let found = find(docs, kind, name);
        expect(found.is_some(), format!("no {kind} {name}"));
        if let Some(found) = found {
            let wanted = patch_of(set, key)["spec"].clone();
            expect(
                found["spec"] == wanted,
                format!("{kind} {name} is not `{key}`: {}", found["spec"]),
            );
        }
    }
    let deny = find(docs, "NetworkPolicy", "default-deny");
    expect(
        deny.is_some_and(|d| {
            d["spec"]["podSelector"] == json!({})
                && d["spec"]["policyTypes"] == json!(["Ingress", "Egress"])
                && d["spec"]["ingress"].is_null()
                && d["spec"]["egress"].is_null()
        }),
        "no NetworkPolicy default-deny shutting every pod in and out".into(),
    );
    for rule in egress_rules(docs) {
        let to = rule["to"].as_array().cloned().unwrap_or_default();
        expect(
            !to.is_empty(),
            format!("an egress rule to everywhere: {rule}"),
        );
        for block in to.iter().filter(|p| p["ipBlock"].is_object()) {
            let cidr = str_of(&block["ipBlock"], "cidr");
            let excepted = block["ipBlock"]["except"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| block_contains(e.as_str().unwrap_or_default(), METADATA_ENDPOINT));
            expect(
                !block_contains(cidr, METADATA_ENDPOINT) || excepted,
                format!("egress to the metadata endpoint through {cidr}"),
            );
        }
    }
    let opened = egress_namespaces(docs);
    let wanted = dependency_namespaces(set);
    expect(
        opened == wanted,
        format!("egress to {opened:?}, the dependencies are in {wanted:?}"),
    );
    let namespace_wave = docs
        .iter()
        .find(|d| d["kind"] == "Namespace")
        .map_or(0, wave);
    let first_pod_wave = docs
        .iter()
        .filter(|d| matches!(str_of(d, "kind"), "Deployment" | "StatefulSet" | "Job"))
        .map(wave)
        .min()
        .unwrap_or(i64::MAX);
    for doc in docs.iter().filter(|d| {
        matches!(
            str_of(d, "kind"),
            "ResourceQuota" | "LimitRange" | "NetworkPolicy"
        )
    }) {
        expect(
            namespace_wave < wave(doc) && wave(doc) < first_pod_wave,
            format!(
                "{} {} is not between the Namespace and the first pod",
                doc["kind"], doc["metadata"]["name"]
            ),
        );
    }
    problems
}

#[test]
fn every_demo_preview_is_fenced_from_its_parameters() {
    let (appset, sets) = sets();
    let project =
        documents(&std::fs::read_to_string(root().join("argocd/appproject.yaml")).expect("read"))
            .into_iter()
            .find(|d| d["kind"] == "AppProject")
            .expect("AppProject");
    let mut rendered = Vec::new();
    for set in &sets {
        let Some(docs) = render(&appset, set, "demo", None) else {
            return;
        };
        let problems = fence_problems(&docs, set);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        previews::assert_project_admits(&project, &docs, set);
        rendered.push(docs);
    }
    // A dependency on another preview opens both ends: the caller's egress (above) and the
    // callee's port, to the caller's namespace alone.
    let mut routes = 0;
    for set in &sets {
        for (service, dependency) in set["dependencies"].as_object().into_iter().flatten() {
            let Some(number) = dependency["route"]
                .as_str()
                .and_then(|r| r.strip_prefix("pr-"))
            else {
                continue;
            };
            let (callee, docs) = sets
                .iter()
                .zip(&rendered)
                .find(|(s, _)| s["service"] == service.as_str() && s["number"] == number)
                .expect("the dependency's preview is in the demo");
            let routes_policy = find(docs, "NetworkPolicy", "preview-routes").expect("routes");
            let caller = set["namespace"].as_str().expect("namespace");
            assert!(
                routes_policy["spec"]["ingress"]
                    .to_string()
                    .contains(&format!("\"{caller}\"")),
                "{} does not admit its dependant {caller}",
                callee["namespace"]
            );
            routes += 1;
        }
    }
    assert!(routes > 0, "the demo has a preview depending on another");
}

#[test]
fn blocks_hold_addresses_like_the_cni() {
    assert!(block_contains("0.0.0.0/0", METADATA_ENDPOINT));
    assert!(block_contains("169.254.0.0/16", METADATA_ENDPOINT));
    assert!(!block_contains("10.0.0.0/8", METADATA_ENDPOINT));
    assert!(block_contains("169.254.169.254/32", METADATA_ENDPOINT));
    assert!(!block_contains("::/0", METADATA_ENDPOINT));
}
