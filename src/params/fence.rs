//! The fence patches: the ResourceQuota and LimitRange `preview` from the fleet's `fence`, and
//! the NetworkPolicy `preview-routes`, which admits the load balancer and the preview's
//! dependants to its port and lets it call the namespaces of its dependencies. Pure.

use serde_json::{Value, json};

use crate::fleet::{Fence, Fleet, Resources};
use crate::naming;
use crate::plan::{DependencyRoute, Preview};

/// Label every namespace carries with its own name (Kubernetes sets it).
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A strategic-merge patch (JSON text) for the ResourceQuota `preview`: the fleet's quota, with
/// no LoadBalancer and no NodePort Service.
pub fn quota_patch(fence: &Fence) -> String {
    let q = &fence.quota;
    json!({
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "preview"},
        "spec": {"hard": {
            "requests.cpu": q.requests_cpu.as_str(),
            "requests.memory": q.requests_memory.as_str(),
            "limits.cpu": q.limits_cpu.as_str(),
            "limits.memory": q.limits_memory.as_str(),
            "requests.storage": q.requests_storage.as_str(),
            "persistentvolumeclaims": q.persistentvolumeclaims.to_string(),
            "pods": q.pods.to_string(),
            "services": q.services.to_string(),
            "services.loadbalancers": "0",
            "services.nodeports": "0",
        }},
    })
    .to_string()
}

/// A strategic-merge patch (JSON text) for the LimitRange `preview`: the fleet's container
/// defaults and maximum, as its only item.
pub fn limit_range_patch(fence: &Fence) -> String {
    let resources = |r: &Resources| json!({"cpu": r.cpu.as_str(), "memory": r.memory.as_str()});
    let c = &fence.container;
    json!({
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "preview"},
        "spec": {"limits": [{
            "type": "Container",
            "defaultRequest": resources(&c.default_request),
            "default": resources(&c.default),
            "max": resources(&c.max),
        }]},
    })
    .to_string()
}

/// A strategic-merge patch (JSON text) for the NetworkPolicy `preview-routes`. Its lists have
/// no merge key, so they replace the base's.
///
/// - ingress to the port named `http`: from the fleet's load balancer address blocks, and from
///   the namespaces of the previews that depend on this one;
/// - egress to the namespace of each dependency: `<prefix>-<service>-pr-<N>` for a preview,
///   the namespace of the fleet's `staging_internal_url` when it is an in-cluster name
///   (`<service>.<namespace>.svc...`); a staging reached by a public URL goes through the
///   base's internet rule instead.
pub fn network_patch(preview: &Preview, fleet: &Fleet) -> String {
    let http = json!([{"port": "http", "protocol": "TCP"}]);
    let balancers: Vec<Value> = fleet
        .fence
        .load_balancer_cidrs
        .iter()
        .map(|cidr| json!({"ipBlock": {"cidr": cidr}}))
        .collect();
    let mut ingress = vec![json!({"from": balancers, "ports": http})];
    if !preview.dependants.is_empty() {
        let from: Vec<Value> = preview.dependants.iter().map(|n| namespace(n)).collect();
        ingress.push(json!({"from": from, "ports": http}));
    }
    let egress: Vec<Value> = dependency_namespaces(preview, fleet)
        .iter()
        .map(|n| json!({"to": [namespace(n)]}))
        .collect();
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "preview-routes"},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    })
    .to_string()
}

fn namespace(name: &str) -> Value {
    json!({"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: name}}})
}

/// The namespaces the preview's dependencies live in, once each, in dependency order.
fn dependency_namespaces(preview: &Preview, fleet: &Fleet) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for dependency in &preview.dependencies {
        let name = match dependency.route {
            DependencyRoute::Preview { number } => Some(naming::preview_name(
                &fleet.namespace_prefix,
                &dependency.service,
                number,
            )),
            DependencyRoute::Staging => {
                in_cluster_namespace(&dependency.internal_url).map(str::to_owned)
            }
        };
        if let Some(name) = name.filter(|n| !out.contains(n)) {
            out.push(name);
        }
    }
    out
}

/// The namespace of an in-cluster URL (`http://<service>.<namespace>.svc[.<cluster domain>]`),
/// `None` for any other URL.
pub fn in_cluster_namespace(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or_default();
    let mut labels = host.split('.');
    let (_service, namespace, svc) = (labels.next()?, labels.next()?, labels.next()?);
    (svc == "svc" && naming::is_dns_label(namespace)).then_some(namespace)
}

#[cfg(test)]
mod tests {
    use super::in_cluster_namespace;

    #[test]
    fn in_cluster_urls_name_their_namespace() {
        let ns = in_cluster_namespace;
        assert_eq!(
            ns("http://api.staging.svc.cluster.local:8000"),
            Some("staging")
        );
        assert_eq!(ns("http://api.staging.svc"), Some("staging"));
        assert_eq!(
            ns("http://api.staging.svc.cluster.local/v1?x=y"),
            Some("staging")
        );
        assert_eq!(ns("https://api.staging.example.com"), None);
        assert_eq!(ns("http://api.staging"), None);
        assert_eq!(ns("http://api.Staging_x.svc"), None);
    }
}
