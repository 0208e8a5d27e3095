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

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::admission::{self, Outcome, Param, Request};
use super::rendered::AWAKE;
use super::{WAVE, demo_sets_at, str_of, tools};
use super::{application_sets, argo, documents, gotemplate, is_matrix, previews, root, scratch};

const METADATA_ENDPOINT: &str = "169.254.169.254";

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
fn fence_problems(docs: &[Value], set: &Set) -> Vec<String> {
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

/// The tracking annotation Argo CD writes on what it applies for `application`.
fn tracked(mut object: Value, application: &str) -> Value {
    let name = object["metadata"]["name"]
        .as_str()
        .expect("name")
        .to_owned();
    object["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] =
        json!(format!("{application}:/Namespace:/{name}"));
    object
}

fn review_namespace(object: &Value, old: Option<&Value>) -> Vec<(String, Outcome)> {
    let docs = admission::guardrails("namespaces.yaml");
    ["preview-tower-namespaces", "preview-tower-namespace-owners"]
        .iter()
        .map(|name| {
            let (policy, binding) = admission::policy(&docs, name);
            let request = Request {
                operation: if old.is_some() { "UPDATE" } else { "CREATE" },
                resource: "namespaces",
                namespace: "",
                object,
                old_object: old,
            };
            (
                (*name).to_owned(),
                admission::review(policy, binding, &request, Param::Unused),
            )
        })
        .collect()
}

/// On Argo CD before 3.2 nothing in the AppProject stops a preview from shipping `Namespace
/// production`: an overlay whose transformer renames its Namespace after Argo CD's namespace
/// override. The namespace guard refuses it, created or taken over, on every Argo CD.
#[test]
fn a_preview_cannot_own_a_namespace_but_its_own() {
    let (appset, sets) = sets();
    let set = sets.iter().find(|s| s["service"] == "api").expect("api");
    let application = set["name"].as_str().expect("name");
    let rename = json!([{"target": {"kind": "Namespace"}, "patch": r#"[{"op":"replace","path":"/metadata/name","value":"production"}]"#}]);
    let Some(docs) = render(&appset, set, "rename", Some(rename)) else {
        return;
    };
    let namespace = docs
        .iter()
        .find(|d| d["kind"] == "Namespace")
        .expect("a Namespace");
    assert_eq!(
        namespace["metadata"]["name"], "production",
        "the overlay renamed it"
    );
    let renamed = tracked(namespace.clone(), application);
    let outcomes = review_namespace(&renamed, None);
    let refusal = format!("namespace production is not the namespace of the preview {application}");
    let refused = |outcomes: &[(String, Outcome)]| {
        outcomes.iter().any(|(name, o)| {
            name == "preview-tower-namespace-owners"
                && matches!(o, Outcome::Denied(m) if m.iter().any(|m| m.starts_with(&refusal)))
        })
    };
    assert!(refused(&outcomes), "created: {outcomes:?}");
    // Taken over: `production` exists, untracked; Argo CD's apply adds its tracking.
    let existing =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "production"}});
    let takeover = tracked(existing.clone(), application);
    let outcomes = review_namespace(&takeover, Some(&existing));
    assert!(refused(&outcomes), "taken over: {outcomes:?}");
    // The label of label tracking says the same.
    for key in ["app.kubernetes.io/instance", "argocd.argoproj.io/instance"] {
        let mut labelled = existing.clone();
        labelled["metadata"]["labels"] = json!({key: application});
        assert!(
            refused(&review_namespace(&labelled, Some(&existing))),
            "label tracking under {key}"
        );
    }

    // The preview's own namespace, as rendered, and namespaces other Applications track, pass.
    let Some(docs) = render(&appset, set, "own", None) else {
        return;
    };
    let own = tracked(
        docs.iter()
            .find(|d| d["kind"] == "Namespace")
            .expect("ns")
            .clone(),
        application,
    );
    for (name, outcome) in review_namespace(&own, None) {
        assert!(
            !outcome.denied(),
            "{name} refuses the preview's own namespace: {outcome:?}"
        );
    }
    let staging = tracked(existing, "platform-staging");
    for (name, outcome) in review_namespace(&staging, None) {
        assert!(
            !outcome.denied(),
            "{name} refuses a namespace of another Application: {outcome:?}"
        );
    }
}

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

#[test]
fn blocks_hold_addresses_like_the_cni() {
    assert!(block_contains("0.0.0.0/0", METADATA_ENDPOINT));
    assert!(block_contains("169.254.0.0/16", METADATA_ENDPOINT));
    assert!(!block_contains("10.0.0.0/8", METADATA_ENDPOINT));
    assert!(block_contains("169.254.169.254/32", METADATA_ENDPOINT));
    assert!(!block_contains("::/0", METADATA_ENDPOINT));
}
