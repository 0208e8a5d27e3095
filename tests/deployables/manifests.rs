//! preview-tower's own manifests, rendered with real kustomize: the webhook reaches its port
//! and nothing else does. The Ingress publishes exactly the webhook path, on the Service's
//! webhook port, which the Deployment serves with `--webhook-listen`; the NetworkPolicy admits
//! the load balancer to that port only (from the load balancer's subnets, never a range wide
//! enough to hold the VPC's pods), and the plugin's port to Argo CD only. The load balancer
//! drops idle connections before preview-tower does. The previews board is published the same
//! way on its own port, behind the previews' sign-in.

use serde_json::Value;

use super::{documents, root, tools};
use preview_tower::http::WEBHOOK_PATH;

fn rendered() -> Option<Vec<Value>> {
    let tools = tools::Tools::find()?;
    let text = tools
        .kustomize(&root().join("manifests"))
        .expect("render manifests/");
    Some(documents(&text))
}

fn named<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("a {kind} {name}"))
}

fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = objects.iter().filter(|o| o["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

/// The numbers of the ports a NetworkPolicy ingress rule admits.
fn ports(rule: &Value) -> Vec<u64> {
    rule["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["port"].as_u64())
        .collect()
}

/// The port an Ingress backend reaches: the Service's port named by `backend` must target the
/// container port `name`, which the Deployment serves with `flag 0.0.0.0:<port>`. Returns that
/// port's number.
fn published_port(objects: &[Value], backend: &Value, name: &str, flag: &str) -> u64 {
    let service = one(objects, "Service");
    let port = service["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["name"] == backend["port"]["name"])
        .expect("the Ingress's port is the Service's");
    assert_eq!(port["targetPort"], name);
    let deployment = one(objects, "Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let number = container["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("a {name} container port"));
    let args = super::container_args(container);
    let listen = args
        .iter()
        .position(|a| *a == flag)
        .and_then(|i| args.get(i + 1))
        .unwrap_or_else(|| panic!("{flag}"));
    assert_eq!(*listen, format!("0.0.0.0:{number}"));
    number
}

#[test]
fn the_webhook_path_alone_reaches_the_webhook_port_alone() {
    let Some(objects) = rendered() else {
        return;
    };
    let ingress = named(&objects, "Ingress", "preview-tower-webhook");
    let rules = ingress["spec"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 1);
    let paths = rules[0]["http"]["paths"].as_array().expect("paths");
    assert_eq!(paths.len(), 1, "one path: {paths:?}");
    assert_eq!(paths[0]["path"], WEBHOOK_PATH);
    assert_eq!(paths[0]["pathType"], "Exact");
    // One label under the fleet's base domain: the previews' wildcard certificate covers it,
    // and it is no preview's host.
    let fleet_text =
        std::fs::read_to_string(root().join("manifests/fleet.yaml")).expect("manifests/fleet.yaml");
    let fleet = preview_tower::fleet::Fleet::from_yaml(&fleet_text).expect("a valid fleet");
    let host = rules[0]["host"].as_str().expect("a host");
    let label = host
        .strip_suffix(&format!(".{}", fleet.base_domain))
        .expect("the webhook host is under the fleet's base domain");
    assert!(!label.contains('.') && !label.contains("-pr-"), "{host}");
    let backend = &paths[0]["backend"]["service"];
    assert_eq!(backend["name"], "preview-tower");
    assert!(ingress["spec"]["defaultBackend"].is_null());

    let number = published_port(&objects, backend, "webhook", "--webhook-listen");
    let deployment = one(&objects, "Deployment");
    let args = super::container_args(&deployment["spec"]["template"]["spec"]["containers"][0]);
    assert!(args.contains(&"--webhook-secret-file"));

    let policy = one(&objects, "NetworkPolicy");
    let ingress_rules = policy["spec"]["ingress"].as_array().expect("ingress rules");
    let admitting = |port: u64| -> Vec<&Value> {
        ingress_rules
            .iter()
            .filter(|r| ports(r).contains(&port))
            .collect()
    };
    let webhook_rules = admitting(number);
    assert_eq!(webhook_rules.len(), 1);
    assert_eq!(
        ports(webhook_rules[0]),
        [number],
        "that rule opens no other port"
    );
    for peer in webhook_rules[0]["from"].as_array().expect("from") {
        if let Some(cidr) = peer["ipBlock"]["cidr"].as_str() {
            let prefix: u8 = cidr
                .split_once('/')
                .and_then(|(_, p)| p.parse().ok())
                .expect("a CIDR");
            assert!(
                prefix >= 20,
                "{cidr}: the load balancer's subnets, not a range that holds the pods' addresses"
            );
        }
    }
    let idle =
        ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/load-balancer-attributes"]
            .as_str()
            .and_then(|a| a.strip_prefix("idle_timeout.timeout_seconds="))
            .and_then(|s| s.parse::<u64>().ok())
            .expect("the ALB's idle timeout is set");
    assert!(
        idle < preview_tower::http::Limits::WEBHOOK
            .header_timeout
            .as_secs(),
        "the ALB must drop an idle connection before the pod closes it"
    );
    let plugin_rules = admitting(8080);
    assert_eq!(plugin_rules.len(), 1);
    assert_eq!(
        plugin_rules[0]["from"],
        serde_json::json!([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "argocd"}}}]),
        "the plugin's port is Argo CD's alone"
    );
}

#[test]
fn the_board_is_published_on_its_own_port_behind_the_previews_sign_in() {
    let Some(objects) = rendered() else {
        return;
    };
    let ingress = named(&objects, "Ingress", "preview-tower-board");
    let annotations = &ingress["metadata"]["annotations"];
    assert_eq!(annotations["alb.ingress.kubernetes.io/auth-type"], "oidc");
    assert_eq!(
        annotations["alb.ingress.kubernetes.io/auth-on-unauthenticated-request"], "authenticate",
        "never `allow`: nobody reaches the board without signing in"
    );
    let idp: Value = serde_json::from_str(
        annotations["alb.ingress.kubernetes.io/auth-idp-oidc"]
            .as_str()
            .expect("the identity provider"),
    )
    .expect("JSON");
    let secret = idp["secretName"].as_str().expect("the client's Secret");
    let external = named(&objects, "ExternalSecret", secret);
    assert_eq!(external["metadata"]["namespace"], "preview-tower");
    // The same provider as the previews' sign-in.
    let base = std::fs::read_to_string(root().join("overlays/bases/common/ingress.yaml"))
        .expect("the previews' Ingress");
    assert!(
        base.contains(
            annotations["alb.ingress.kubernetes.io/auth-idp-oidc"]
                .as_str()
                .unwrap_or("-")
        ),
        "the board signs people in as the previews do"
    );
    let backend = &ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"];
    let number = published_port(&objects, backend, "board", "--board-listen");
    let policy = one(&objects, "NetworkPolicy");
    let rules: Vec<&Value> = policy["spec"]["ingress"]
        .as_array()
        .expect("ingress rules")
        .iter()
        .filter(|r| ports(r).contains(&number))
        .collect();
    assert_eq!(rules.len(), 1);
    assert_eq!(ports(rules[0]), [number], "that rule opens no other port");
    assert!(rules[0]["from"].as_array().expect("from").iter().all(
        |peer| peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] != "argocd"
    ),);
}
