//! Who may open a preview, rendered with real kustomize: every demo preview's Ingress signs
//! visitors in unless the fleet opened its service, and the open patch removes the sign-in; the
//! guardrail expects exactly the sign-in the overlays write and lists exactly the services the
//! fleets open; a private preview whose Ingress lost its sign-in, or whose listeners clash with
//! the shared ALB's, is refused; a sleeping preview falls through to the anchor, which is its
//! group's last rule; the sign-in proxy and the Gateway API route render as documented.
//!
//! The guardrails' CEL (`argocd/guardrails/access.yaml`, `ingresses.yaml`, `retention.yaml`) is
//! evaluated with kube-cel ([`admission`]), on the rendered previews and mutations of them.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::admission::{self, Outcome, Param, Request};
use super::{application_sets, demo_sets, demo_sets_at, documents, is_matrix, root, scratch};
use super::{argo, gotemplate, previews, schemas, tools};
use preview_tower::fleet::{Access, Fleet};
use preview_tower::params::{self, ASLEEP_PATH, Mode, OPEN_ANNOTATIONS};

const ALB: &str = "alb.ingress.kubernetes.io/";

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn one<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name}"))
}

fn annotation<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc["metadata"]["annotations"][key].as_str()
}

/// The guardrails' parameters (`argocd/guardrails/parameters.yaml`).
fn guardrail_params() -> Map<String, Value> {
    documents(&read("argocd/guardrails/parameters.yaml"))
        .into_iter()
        .find(|d| d["kind"] == "ConfigMap")
        .and_then(|d| d["data"].as_object().cloned())
        .expect("the guardrails' ConfigMap")
}

fn param<'a>(params: &'a Map<String, Value>, key: &str) -> &'a str {
    params[key].as_str().unwrap_or_default()
}

fn list(text: &str) -> Vec<String> {
    let mut items: Vec<String> = text
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    items.sort();
    items
}

fn open_services(fleet: &Fleet) -> Vec<String> {
    let mut open: Vec<String> = fleet
        .services
        .iter()
        .filter(|s| s.policy.access == Access::Public)
        .map(|s| s.name.to_string())
        .collect();
    open.sort();
    open
}

/// The guardrails' ConfigMap, whole: the policies' `params`.
fn guardrail_config() -> Value {
    admission::guardrails("parameters.yaml")
        .into_iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("the guardrails' ConfigMap")
}

/// The guardrails' parameters for the demo fleet, whose previews live under another domain, on
/// a platform that also runs overlays/components/ingress-nginx (parameters.yaml: add `nginx`).
fn demo_config() -> Value {
    let mut config = guardrail_config();
    let demo = preview_tower::demo::fleet().expect("demo fleet");
    config["data"]["baseDomain"] = json!(demo.base_domain.to_string());
    let classes = param(&guardrail_params(), "ingressClasses").to_owned();
    config["data"]["ingressClasses"] = json!(format!("{classes}, nginx"));
    config
}

/// What the shipped policy `name` of `argocd/guardrails/<file>` says about creating `object` (a
/// `resource`) in `namespace`, with `config` as its parameters if it takes any.
fn review(
    (file, name): (&str, &str),
    resource: &str,
    namespace: &str,
    object: &Value,
    config: &Value,
) -> Outcome {
    let docs = admission::guardrails(file);
    let (policy, binding) = admission::policy(&docs, name);
    let request = Request {
        operation: "CREATE",
        resource,
        namespace,
        object,
        old_object: None,
    };
    admission::review(policy, binding, &request, Param::for_policy(policy, config))
}

const ACCESS: (&str, &str) = ("access.yaml", "preview-tower-access");
const ACCESS_SERVICES: (&str, &str) = ("access.yaml", "preview-tower-access-services");
const INGRESSES: (&str, &str) = ("ingresses.yaml", "preview-tower-ingresses");
const RETENTION: (&str, &str) = ("retention.yaml", "preview-tower-retention");

/// `access.yaml` on an Ingress in `namespace`.
fn access(ingress: &Value, namespace: &str, config: &Value) -> Outcome {
    review(ACCESS, "ingresses", namespace, ingress, config)
}

/// Every guardrail on a preview Ingress, in its own namespace: the denials, as
/// `<policy>: <message>`.
fn ingress_denials(ingress: &Value, namespace: &str, config: &Value) -> Vec<String> {
    [ACCESS, INGRESSES, RETENTION]
        .into_iter()
        .flat_map(|policy| {
            match review(policy, "ingresses", namespace, ingress, config) {
                Outcome::Denied(messages) => messages,
                _ => Vec::new(),
            }
            .into_iter()
            .map(move |m| format!("{}: {m}", policy.1))
        })
        .collect()
}

/// Denied by a validation that fails, with its own message: not by an expression that cannot
/// be evaluated (which would deny everything).
fn refused_with(outcome: &Outcome, message: &str) -> bool {
    matches!(outcome, Outcome::Denied(m)
        if m.iter().any(|m| m.starts_with(message)) && !m.iter().any(|m| m.contains("error")))
}

/// A change a PR could make to its Ingress's annotations.
type Mutation = Box<dyn Fn(&mut Map<String, Value>)>;

/// Renders the demo set's preview as Argo CD would, with `components` added to its overlay.
fn render(set: &Map<String, Value>, components: &[&str], dir: &Path) -> Vec<Value> {
    let tools = tools::Tools::find().expect("tools");
    let (_, appset) = application_sets()
        .into_iter()
        .find(|(_, a)| !is_matrix(a))
        .expect("the plugin ApplicationSet");
    let app = gotemplate::render(&appset["spec"]["template"], set).expect("render");
    let mut overlay = previews::example_overlay(&root(), set);
    if !components.is_empty() {
        let with = dir.join("overlay");
        std::fs::create_dir_all(&with).expect("dir");
        let components: Vec<PathBuf> = components
            .iter()
            .map(|c| argo::relative(&with, &root().join("overlays/components").join(c)))
            .collect();
        let kustomization = json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [argo::relative(&with, &overlay)],
            "components": components,
        });
        std::fs::write(with.join("kustomization.yaml"), kustomization.to_string()).expect("write");
        overlay = with;
    }
    let wrapper = argo::wrapper(&app, &overlay, &dir.join("app"));
    let docs = documents(&tools.kustomize(&wrapper).expect("kustomize"));
    let name = set["name"].as_str().unwrap_or("?");
    let problems = schemas::validate(&tools, &docs, name, dir);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    docs
}

fn public(set: &Map<String, Value>) -> Map<String, Value> {
    let mut set = set.clone();
    set.insert("access".into(), json!("public"));
    set.insert(
        "access_patch".into(),
        json!(params::access_patch(Access::Public)),
    );
    set
}

/// The sign-in the Ingress leaves: the ALB's `auth-type: none`, ingress-nginx's global sign-in
/// turned off.
fn is_open(ingress: &Value) -> bool {
    OPEN_ANNOTATIONS
        .iter()
        .all(|(key, value)| annotation(ingress, key) == Some(*value))
}

#[test]
fn the_demo_fleet_opens_one_service_and_the_guardrail_lists_the_same() {
    let params = guardrail_params();
    let listed = list(param(&params, "openServices"));
    let deployed = Fleet::from_yaml(&read("manifests/fleet.yaml")).expect("valid fleet");
    let demo = preview_tower::demo::fleet().expect("demo fleet");
    assert_eq!(
        open_services(&demo),
        ["web"],
        "the demo opens exactly one service"
    );
    for (origin, fleet) in [
        ("manifests/fleet.yaml", &deployed),
        ("the demo fleet", &demo),
    ] {
        assert_eq!(
            open_services(fleet),
            listed,
            "{origin} and argocd/guardrails/parameters.yaml `openServices` disagree"
        );
    }
    assert_eq!(
        param(&params, "namespacePrefix"),
        deployed.namespace_prefix,
        "the guardrails derive the service from the namespace"
    );
}

#[test]
fn every_demo_preview_signs_in_unless_the_fleet_opened_it() {
    if tools::Tools::find().is_none() {
        return;
    }
    let scratch = scratch("access-demo");
    let config = demo_config();
    let mut seen = [0, 0];
    for (_, set) in demo_sets(Mode::Full) {
        let name = set["name"].as_str().expect("name").to_owned();
        let docs = render(&set, &[], &scratch.join(&name));
        let ingress = one(&docs, "Ingress", "preview");
        let access = set["access"].as_str().expect("access");
        assert_eq!(
            ingress["metadata"]["labels"][params::ACCESS_LABEL],
            access,
            "{name}"
        );
        if access == "public" {
            seen[1] += 1;
            assert!(is_open(ingress), "{name}");
        } else {
            seen[0] += 1;
            assert!(!is_open(ingress), "{name}");
            assert_eq!(
                annotation(ingress, &format!("{ALB}auth-type")),
                Some("oidc")
            );
            let secret = one(&docs, "ExternalSecret", "preview-oidc");
            assert_eq!(secret["spec"]["target"]["name"], "preview-oidc");
            let idp: Value = serde_json::from_str(
                annotation(ingress, &format!("{ALB}auth-idp-oidc")).expect("auth-idp-oidc"),
            )
            .expect("JSON");
            assert_eq!(idp["secretName"], "preview-oidc", "{name}");
        }
        // Every Ingress guardrail, in the preview's own namespace; its Services too.
        let namespace = set["namespace"].as_str().expect("namespace");
        let denials = ingress_denials(ingress, namespace, &config);
        assert!(denials.is_empty(), "{name}: {denials:#?}");
        for service in docs.iter().filter(|d| d["kind"] == "Service") {
            let outcome = review(ACCESS_SERVICES, "services", namespace, service, &config);
            assert_eq!(
                outcome,
                Outcome::Admitted,
                "{name}: {}",
                service["metadata"]["name"]
            );
        }
    }
    assert!(
        seen[0] > 0 && seen[1] > 0,
        "private and public previews: {seen:?}"
    );
}

#[test]
fn the_open_patch_removes_the_sign_in_on_either_controller() {
    if tools::Tools::find().is_none() {
        return;
    }
    let scratch = scratch("access-open");
    let (_, api) = demo_sets(Mode::Full)
        .into_iter()
        .find(|(s, set)| s == "api" && set["access"] == "private")
        .expect("a private api preview");
    let config = demo_config();
    let namespace = api["namespace"].as_str().expect("namespace");
    for components in [&[][..], &["ingress-nginx"][..]] {
        let dir = scratch.join(format!("with-{}", components.len()));
        let private = render(&api, components, &dir.join("private"));
        let ingress = one(&private, "Ingress", "preview");
        assert!(!is_open(ingress), "{components:?}");
        let denials = ingress_denials(ingress, namespace, &config);
        assert!(denials.is_empty(), "{components:?}: {denials:#?}");
        let opened = render(&public(&api), components, &dir.join("public"));
        let ingress = one(&opened, "Ingress", "preview");
        assert!(is_open(ingress), "{components:?}");
        // No annotation written as the text "null" (what Kustomize makes of a null).
        let annotations = ingress["metadata"]["annotations"].to_string();
        assert!(!annotations.contains("\"null\""), "{annotations}");
        // The very Ingress, in a namespace of a service the fleet did not open: refused.
        assert!(
            refused_with(&access(ingress, namespace, &config), PRIVATE_API),
            "{components:?}: an opened Ingress of a private service"
        );
        // In the namespace of the service the fleet opened, it passes every guardrail.
        let web = namespace.replacen("-api-", "-web-", 1);
        let mut web_ingress = ingress.clone();
        web_ingress["spec"]["rules"][0]["host"] = json!(
            ingress["spec"]["rules"][0]["host"]
                .as_str()
                .expect("host")
                .replacen("api-", "web-", 1)
        );
        let denials = ingress_denials(&web_ingress, &web, &config);
        assert!(denials.is_empty(), "{components:?}: {denials:#?}");
    }
}

/// The access guardrail's refusal for the private service `api`.
const PRIVATE_API: &str =
    "previews of api are private (the fleet did not open them with access: public)";
/// The Ingress guardrail's refusal of other listeners.
const LISTENERS: &str = "the listeners are the whole previews ALB's";

/// What a PR could do to its Ingress, each refused by the guardrails' own CEL with the policy's
/// message, in the private service's namespace; the sign-in ones pass for the opened service.
#[test]
fn the_guardrail_refuses_a_private_preview_that_lost_its_sign_in() {
    if tools::Tools::find().is_none() {
        return;
    }
    let scratch = scratch("access-mutations");
    let config = demo_config();
    let (_, api) = demo_sets(Mode::Full)
        .into_iter()
        .find(|(s, set)| s == "api" && set["access"] == "private")
        .expect("a private api preview");
    let namespace = api["namespace"].as_str().expect("namespace").to_owned();
    let docs = render(&api, &[], &scratch.join("alb"));
    let ingress = one(&docs, "Ingress", "preview").clone();
    let denials = ingress_denials(&ingress, &namespace, &config);
    assert!(
        denials.is_empty(),
        "the overlay's own Ingress: {denials:#?}"
    );
    let key = |k: &str| format!("{ALB}{k}");
    let documented_jwt = documented_jwt_validation();
    #[rustfmt::skip]
    let sign_in: Vec<(&str, Mutation)> = vec![
        ("no sign-in at all", Box::new(|a| { a.retain(|k, _| !k.contains("/auth-")); })),
        ("auth-type none", Box::new(move |a| { a.insert(key("auth-type"), json!("none")); })),
        ("unauthenticated allowed", Box::new(move |a| { a.insert(key("auth-on-unauthenticated-request"), json!("allow")); })),
        ("another provider", Box::new(move |a| { a.insert(key("auth-idp-oidc"), json!(r#"{"issuer":"https://evil.example"}"#)); })),
        ("a JWT from anyone", Box::new(move |a| { a.insert(key("auth-type"), json!("none")); a.insert(key("jwt-validation"), json!(r#"{"issuer":"https://token.actions.githubusercontent.com"}"#)); })),
        // The CI's Ingress, while the platform has not turned JWT validation on.
        ("the documented JWT, not turned on", Box::new(move |a| { a.retain(|k, _| !k.contains("/auth-")); a.insert(key("jwt-validation"), json!(documented_jwt)); })),
    ];
    for (what, mutate) in &sign_in {
        let mut mutated = ingress.clone();
        mutate(annotations_of(&mut mutated));
        assert!(
            refused_with(&access(&mutated, &namespace, &config), PRIVATE_API),
            "{what}: {:?}",
            access(&mutated, &namespace, &config)
        );
        // The same Ingress in the opened service's namespace is the fleet's choice.
        assert_eq!(
            access(&mutated, "preview-web-pr-1", &config),
            Outcome::Admitted,
            "{what}: web is open"
        );
    }
    // Listeners of the shared ALB: refused for every preview, the opened ones too.
    #[rustfmt::skip]
    let listeners: Vec<(&str, Mutation)> = vec![
        ("HTTP on 443", Box::new(move |a| { a.insert(key("listen-ports"), json!(r#"[{"HTTP": 443}]"#)); })),
        ("another port", Box::new(move |a| { a.insert(key("listen-ports"), json!(r#"[{"HTTP": 80}, {"HTTPS": 443}, {"HTTPS": 8443}]"#)); })),
        ("redirect to 8443", Box::new(move |a| { a.insert(key("ssl-redirect"), json!("8443")); })),
        ("no listen-ports", Box::new(move |a| { a.remove(&key("listen-ports")); })),
        ("no redirect", Box::new(move |a| { a.remove(&key("ssl-redirect")); })),
    ];
    let web_namespace = namespace.replacen("-api-", "-web-", 1);
    let opened = {
        let mut opened = ingress.clone();
        annotations_of(&mut opened).insert(key("auth-type"), json!("none"));
        let host = ingress["spec"]["rules"][0]["host"].as_str().expect("host");
        opened["spec"]["rules"][0]["host"] = json!(host.replacen("api-", "web-", 1));
        opened
    };
    assert!(ingress_denials(&opened, &web_namespace, &config).is_empty());
    for (what, mutate) in &listeners {
        for (base, namespace) in [(&ingress, &namespace), (&opened, &web_namespace)] {
            let mut mutated = base.clone();
            mutate(annotations_of(&mut mutated));
            let outcome = review(INGRESSES, "ingresses", namespace, &mutated, &config);
            assert!(
                refused_with(&outcome, LISTENERS),
                "{what} in {namespace}: {outcome:?}"
            );
        }
    }
    // The CI's Ingress with exactly the platform's JWT validation is a sign-in, once turned on.
    let mut ci = ingress.clone();
    let a = annotations_of(&mut ci);
    a.retain(|k, _| !k.contains("/auth-"));
    a.insert(key("jwt-validation"), json!(documented_jwt_validation()));
    let mut turned_on = config.clone();
    turned_on["data"]["albJwtValidation"] = json!(documented_jwt_validation());
    assert_eq!(
        access(&ci, &namespace, &turned_on),
        Outcome::Admitted,
        "the CI's Ingress"
    );
    assert!(refused_with(&access(&ci, &namespace, &config), PRIVATE_API));
    // A Service's sign-in annotations win over the Ingress's: none on a preview Service.
    let service = docs
        .iter()
        .find(|d| d["kind"] == "Service")
        .expect("a Service")
        .clone();
    let services_refusal =
        "a preview Service may not carry sign-in annotations (they override the Ingress's): ";
    for (annotation, value) in [
        ("auth-type", "none"),
        ("auth-on-unauthenticated-request", "allow"),
        (
            "jwt-validation",
            r#"{"issuer":"https://token.actions.githubusercontent.com"}"#,
        ),
    ] {
        let mut mutated = service.clone();
        mutated["metadata"]["annotations"][key(annotation)] = json!(value);
        let outcome = review(ACCESS_SERVICES, "services", &namespace, &mutated, &config);
        assert!(
            refused_with(&outcome, &format!("{services_refusal}{}", key(annotation))),
            "{annotation} on a Service: {outcome:?}"
        );
    }
    // Kept after the PR closes: refused on the Ingress too (retention.yaml).
    let mut kept = ingress.clone();
    annotations_of(&mut kept).insert(
        "argocd.argoproj.io/sync-options".into(),
        json!("ServerSideApply=true, Delete=false"),
    );
    let outcome = review(RETENTION, "ingresses", &namespace, &kept, &config);
    assert!(
        refused_with(
            &outcome,
            "a preview goes with its pull request: Ingress preview may not carry the sync option Delete=false"
        ),
        "{outcome:?}"
    );
    // Another preview's host, through a condition the controller adds to the rule's host
    // (plainly, or spelt with a JSON escape): refused (ingresses.yaml).
    for value in [
        r#"[{"field":"host-header","hostHeaderConfig":{"values":["*.preview.example.com"]}}]"#,
        r#"[{"field":"host\u002dheader","hostHeaderConfig":{"values":["web-pr-1.preview.example.com"]}}]"#,
    ] {
        let mut hijack = ingress.clone();
        annotations_of(&mut hijack).insert(key("conditions.api"), json!(value));
        let outcome = review(INGRESSES, "ingresses", &namespace, &hijack, &config);
        assert!(
            refused_with(
                &outcome,
                "a preview Ingress's conditions may not match hosts (host-header)"
            ),
            "{value}: {outcome:?}"
        );
    }
    // ingress-nginx: the controller signs in, unless the Ingress leaves it.
    let docs = render(&api, &["ingress-nginx"], &scratch.join("nginx"));
    let nginx = one(&docs, "Ingress", "preview").clone();
    let denials = ingress_denials(&nginx, &namespace, &config);
    assert!(denials.is_empty(), "the controller's sign-in: {denials:#?}");
    let mut left = nginx.clone();
    left["metadata"]["annotations"]["nginx.ingress.kubernetes.io/enable-global-auth"] = json!("0");
    assert!(
        refused_with(&access(&left, &namespace, &config), PRIVATE_API),
        "global sign-in left"
    );
    let mut elsewhere = nginx;
    elsewhere["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-url"] =
        json!("http://always-yes.preview-api-pr-1.svc.cluster.local/");
    assert!(
        refused_with(&access(&elsewhere, &namespace, &config), PRIVATE_API),
        "a proxy of the PR's"
    );
}

fn annotations_of(object: &mut Value) -> &mut Map<String, Value> {
    object["metadata"]["annotations"]
        .as_object_mut()
        .expect("annotations")
}

/// The example `albJwtValidation` of docs/security.md ("CI end-to-end tests").
fn documented_jwt_validation() -> String {
    let docs = read("docs/security.md");
    let line = docs
        .lines()
        .find_map(|l| l.strip_prefix("albJwtValidation: '"))
        .expect("docs/security.md shows an albJwtValidation");
    line.strip_suffix('\'').expect("quoted").to_owned()
}

/// Every preview Ingress and Service is checked, with the parameters or not at all.
#[test]
fn every_preview_ingress_service_and_route_is_checked() {
    let docs = documents(&read("argocd/guardrails/access.yaml"));
    for (name, param_ref) in [
        ("preview-tower-access", true),
        ("preview-tower-access-services", false),
        ("preview-tower-access-routes", true),
    ] {
        let binding = one(&docs, "ValidatingAdmissionPolicyBinding", name);
        assert_eq!(binding["spec"]["validationActions"], json!(["Deny"]));
        assert_eq!(
            binding["spec"]["matchResources"]["namespaceSelector"]["matchLabels"]["preview-tower.io/preview"],
            "true"
        );
        if param_ref {
            assert_eq!(
                binding["spec"]["paramRef"]["name"],
                "preview-tower-guardrails"
            );
            assert_eq!(
                binding["spec"]["paramRef"]["parameterNotFoundAction"],
                "Deny"
            );
        }
    }
    let routes = one(
        &docs,
        "ValidatingAdmissionPolicy",
        "preview-tower-access-routes",
    );
    let text = routes["spec"].to_string();
    for needle in [
        "params.data.privateGateway",
        "params.data.publicGateway",
        "h in variables.ownHosts",
        "has(p.namespace)",
    ] {
        assert!(text.contains(needle), "routes lack {needle}");
    }
}

/// The guardrail's parameters are the sign-in the overlays write, character for character.
#[test]
fn the_guardrail_expects_the_sign_in_the_overlays_write() {
    let params = guardrail_params();
    let base = documents(&read("overlays/bases/common/ingress.yaml"));
    let ingress = one(&base, "Ingress", "preview");
    assert_eq!(
        annotation(ingress, &format!("{ALB}auth-idp-oidc")),
        Some(param(&params, "albAuthIdpOidc"))
    );
    let route = documents(&read("overlays/components/gateway-api/httproute.yaml"));
    let parent = &one(&route, "HTTPRoute", "preview")["spec"]["parentRefs"][0];
    let private = format!(
        "{}/{}",
        parent["namespace"].as_str().unwrap_or(""),
        parent["name"].as_str().unwrap_or("")
    );
    assert_eq!(private, param(&params, "privateGateway"));
    assert_eq!(
        param(&params, "publicGateway"),
        private.replace("-private", "-public"),
        "the ApplicationSets pick previews-<access>"
    );
    // JWT validation is off until the platform turns it on: controllers before 2.15, and EKS
    // Auto Mode's, ignore `jwt-validation` and would leave the CI's Ingress open.
    assert_eq!(param(&params, "albJwtValidation"), "");
    // The ALB checks the CI's JWT: GitHub's issuer is every repository's on GitHub, so a
    // claim must name the organisation.
    let jwt: Value = serde_json::from_str(&documented_jwt_validation()).expect("JSON");
    let claims = jwt["additionalClaims"].to_string();
    assert!(
        claims.contains("repository_owner_id") && claims.contains("\"aud\""),
        "{claims}"
    );
}

#[test]
fn a_sleeping_preview_falls_through_to_the_anchor() {
    if tools::Tools::find().is_none() {
        return;
    }
    let scratch = scratch("access-asleep");
    let mut slept = 0;
    // Saturday noon in Paris: the demo previews sleep, but billing's PR opts out.
    for (service, set) in demo_sets_at(Some(super::ASLEEP_AT)) {
        let name = set["name"].as_str().expect("name").to_owned();
        let docs = render(&set, &[], &scratch.join(&name));
        let path = &one(&docs, "Ingress", "preview")["spec"]["rules"][0]["http"]["paths"][0];
        let asleep = set["replicas"] == "0";
        slept += usize::from(asleep);
        let expected = if asleep { ASLEEP_PATH } else { "/" };
        assert_eq!(path["path"], expected, "{service}");
        let docs = render(
            &set,
            &["gateway-api"],
            &scratch.join(format!("{name}-route")),
        );
        let route = one(&docs, "HTTPRoute", "preview");
        assert_eq!(
            route["spec"]["rules"][0]["matches"][0]["path"]["value"],
            expected
        );
    }
    assert!(slept > 0, "nothing slept on Saturday");
}

#[test]
fn the_anchor_is_the_last_rule_of_the_previews_group() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let docs = documents(&tools.kustomize(&root().join("platform")).expect("platform"));
    let fleet = Fleet::from_yaml(&read("manifests/fleet.yaml")).expect("fleet");
    let wildcard = format!("*.{}", fleet.base_domain);
    let anchor = one(&docs, "Ingress", "anchor");
    let namespace = anchor["metadata"]["namespace"].as_str().expect("namespace");
    let ns = one(&docs, "Namespace", namespace);
    assert!(
        ns["metadata"]["labels"]["preview-tower.io/preview"].is_null()
            && !namespace.contains("-pr-"),
        "the anchor's namespace is no preview's: the preview guardrails would refuse it"
    );
    let class = anchor["spec"]["ingressClassName"].as_str().expect("class");
    let params = one(&docs, "IngressClassParams", class);
    assert_eq!(params["spec"]["group"]["name"], "previews");
    assert_eq!(
        params["spec"]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        namespace
    );
    assert_eq!(
        one(&docs, "IngressClass", class)["spec"]["parameters"]["name"],
        class
    );
    // What the whole ALB shares must be the previews' class's (docs/overlays.md).
    let documented = read("docs/overlays.md");
    for field in ["scheme", "sslPolicy"] {
        let value = params["spec"][field].as_str().expect(field);
        assert!(
            documented.contains(&format!("{field}: {value}")),
            "{field}: {value}"
        );
    }
    let arn = params["spec"]["certificateArn"][0]
        .as_str()
        .expect("certificate");
    assert!(documented.contains(arn), "{arn}");
    // Last: the highest order, a rule for every host of the domain, a page that says why.
    assert_eq!(
        annotation(anchor, &format!("{ALB}group.order")),
        Some("1000")
    );
    let rule = &anchor["spec"]["rules"][0];
    assert_eq!(rule["host"], wildcard.as_str());
    let path = &rule["http"]["paths"][0];
    assert_eq!(
        (path["path"].as_str(), path["pathType"].as_str()),
        (Some("/"), Some("Prefix"))
    );
    let action_name = path["backend"]["service"]["name"].as_str().expect("action");
    assert_eq!(path["backend"]["service"]["port"]["name"], "use-annotation");
    let action: Value = serde_json::from_str(
        annotation(anchor, &format!("{ALB}actions.{action_name}")).expect("the action"),
    )
    .expect("JSON");
    let response = &action["fixedResponseConfig"];
    assert_eq!(action["type"], "fixed-response");
    assert_eq!(response["contentType"], "text/html");
    let page = response["messageBody"].as_str().expect("page");
    assert!(page.len() <= 1024, "the ALB allows 1 KiB: {}", page.len());
    assert!(
        page.contains("/preview wake") && page.contains("noindex"),
        "{page}"
    );
    // A preview may not reorder itself after the anchor: group.order is not on the allow-list.
    let ingresses = read("argocd/guardrails/ingresses.yaml");
    assert!(!ingresses.contains("'group.order'"));
    assert!(ASLEEP_PATH != "/" && ASLEEP_PATH.starts_with('/'));
    // robots.txt before every preview's rule.
    let robots = one(&docs, "Ingress", "robots");
    assert_eq!(
        annotation(robots, &format!("{ALB}group.order")),
        Some("-1000")
    );
    let path = &robots["spec"]["rules"][0]["http"]["paths"][0];
    assert_eq!(
        (path["path"].as_str(), path["pathType"].as_str()),
        (Some("/robots.txt"), Some("Exact"))
    );
    assert_eq!(robots["spec"]["rules"][0]["host"], wildcard.as_str());
}

/// The restricted Pod Security profile, as the API server checks it, plus our own bar
/// (read-only root filesystem, no service account token).
fn assert_restricted(pod: &Value, what: &str) {
    let context = &pod["securityContext"];
    assert_eq!(context["runAsNonRoot"], true, "{what}");
    assert_eq!(
        context["seccompProfile"]["type"], "RuntimeDefault",
        "{what}"
    );
    assert_eq!(pod["automountServiceAccountToken"], false, "{what}");
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        assert_ne!(pod[key], true, "{what}: {key}");
    }
    let containers = ["initContainers", "containers"]
        .iter()
        .flat_map(|k| pod[*k].as_array().cloned().unwrap_or_default());
    for container in containers {
        let security = &container["securityContext"];
        assert_eq!(security["allowPrivilegeEscalation"], false, "{what}");
        assert_eq!(security["capabilities"]["drop"], json!(["ALL"]), "{what}");
        assert_eq!(security["readOnlyRootFilesystem"], true, "{what}");
        assert_ne!(security["privileged"], true, "{what}");
        assert!(
            container["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|p| p["hostPort"].is_null())
        );
        assert!(
            container["resources"]["limits"]["memory"].is_string(),
            "{what}: a memory limit"
        );
    }
}

#[test]
fn the_sign_in_proxy_is_the_platforms_and_restricted() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let docs = documents(
        &tools
            .kustomize(&root().join("platform/oauth2-proxy"))
            .expect("render"),
    );
    let fleet = Fleet::from_yaml(&read("manifests/fleet.yaml")).expect("fleet");
    let namespace = one(&docs, "Namespace", "preview-auth");
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    let deployment = one(&docs, "Deployment", "oauth2-proxy");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_restricted(pod, "oauth2-proxy");
    let container = &pod["containers"][0];
    let args = super::container_args(container);
    let arg = |name: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(&format!("--{name}=")))
            .unwrap_or_else(|| panic!("--{name}"))
    };
    assert!(!arg("github-org").is_empty());
    assert_eq!(arg("cookie-domain"), format!(".{}", fleet.base_domain));
    assert_eq!(arg("whitelist-domain"), format!(".{}", fleet.base_domain));
    assert_eq!(
        arg("redirect-url"),
        format!("https://auth.{}/oauth2/callback", fleet.base_domain)
    );
    assert!(
        args.iter().all(|a| !a.contains("secret")),
        "secrets come from the ExternalSecret, never from the arguments: {args:?}"
    );
    let env = container["env"].to_string();
    for variable in ["OAUTH2_PROXY_CLIENT_SECRET", "OAUTH2_PROXY_COOKIE_SECRET"] {
        assert!(
            env.contains(variable) && env.contains("secretKeyRef"),
            "{variable}"
        );
    }
    let secret = one(&docs, "ExternalSecret", "oauth2-proxy");
    assert_eq!(secret["spec"]["target"]["name"], "oauth2-proxy");
    // The controller asks this very Service, on its port.
    let service = one(&docs, "Service", "oauth2-proxy");
    let port = service["spec"]["ports"][0]["port"].as_u64().expect("port");
    let expected = format!("http://oauth2-proxy.preview-auth.svc.cluster.local:{port}/oauth2/auth");
    assert_eq!(param(&guardrail_params(), "nginxAuthUrl"), expected);
    let ingress = one(&docs, "Ingress", "oauth2-proxy");
    assert_eq!(
        ingress["spec"]["rules"][0]["host"],
        format!("auth.{}", fleet.base_domain)
    );
    // The sign-in pages are not behind the sign-in, and no preview has a proxy of its own.
    assert_eq!(
        annotation(ingress, "nginx.ingress.kubernetes.io/enable-global-auth"),
        Some("false")
    );
    assert!(!root().join("overlays/components/oauth2-proxy").exists());
}

#[test]
fn the_gateway_route_serves_every_demo_preview_without_an_ingress() {
    if tools::Tools::find().is_none() {
        return;
    }
    let scratch = scratch("access-routes");
    let project = documents(&read("argocd/appproject.yaml"))
        .into_iter()
        .find(|d| d["kind"] == "AppProject")
        .expect("the previews AppProject");
    for (service, set) in demo_sets(Mode::Full) {
        let name = set["name"].as_str().expect("name").to_owned();
        let docs = render(&set, &["gateway-api"], &scratch.join(&name));
        assert!(
            docs.iter().all(|d| d["kind"] != "Ingress"),
            "{name}: the route replaces the Ingress"
        );
        assert!(
            docs.iter().all(|d| d["metadata"]["name"] != "preview-oidc"),
            "{name}"
        );
        previews::assert_project_admits(&project, &docs, &set);
        let route = one(&docs, "HTTPRoute", "preview");
        assert_eq!(route["spec"]["hostnames"], json!([set["host"]]), "{name}");
        let parent = &route["spec"]["parentRefs"][0];
        assert_eq!(
            parent["name"],
            format!("previews-{}", set["access"].as_str().unwrap_or(""))
        );
        assert_eq!(parent["namespace"], "preview-gateways");
        let backend = &route["spec"]["rules"][0]["backendRefs"][0];
        assert_eq!(backend["name"], service, "{name}: the renamed Service");
        let header = &route["spec"]["rules"][0]["filters"][0];
        assert_eq!(header["type"], "ResponseHeaderModifier");
        assert_eq!(
            header["responseHeaderModifier"]["set"][0]["name"],
            "X-Robots-Tag"
        );
        assert!(
            header["responseHeaderModifier"]["set"][0]["value"]
                .as_str()
                .is_some_and(|v| v.contains("noindex"))
        );
    }
}

/// nginx drops the server's `add_header` in a location that has its own: each must repeat it.
#[test]
fn every_vue_spa_response_says_noindex() {
    let conf = read("overlays/bases/vue-spa/nginx/default.conf");
    let mut depth = 0;
    let mut blocks: Vec<(bool, bool)> = Vec::new(); // (adds headers, adds X-Robots-Tag)
    for line in conf.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        if line.ends_with('{') {
            depth += 1;
            blocks.push((false, false));
        }
        if let Some(block) = blocks.last_mut()
            && line.starts_with("add_header")
        {
            block.0 = true;
            block.1 |= line.contains("X-Robots-Tag") && line.contains("noindex");
        }
        if line.ends_with('}') {
            depth -= 1;
            let (adds, robots) = blocks.pop().expect("a block");
            assert!(
                !adds || robots,
                "a block of default.conf adds headers without X-Robots-Tag"
            );
            if depth == 0 {
                assert!(robots, "the server block sends X-Robots-Tag");
            }
        }
    }
}
