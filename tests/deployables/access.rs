//! Who may open a preview, rendered with real kustomize: every demo preview's Ingress signs
//! visitors in unless the fleet opened its service, and the open patch removes the sign-in; the
//! guardrail expects exactly the sign-in the overlays write and lists exactly the services the
//! fleets open; a private preview whose Ingress lost its sign-in, or whose listeners clash with
//! the shared ALB's, is refused; a sleeping preview falls through to the anchor, which is its
//! group's last rule; the sign-in proxy and the Gateway API route render as documented.
//!
//! The guardrails' CEL (`argocd/guardrails/access.yaml`, `ingresses.yaml`, `retention.yaml`) is
//! evaluated with kube-cel ([`admission`]), on the rendered previews and mutations of them.
//!
//! Here: the guardrails and the demo previews read and rendered, and the guardrails' review,
//! which the parts share.

#[path = "access/anchor.rs"]
mod anchor;
#[path = "access/mutations.rs"]
mod mutations;
#[path = "access/proxy.rs"]
mod proxy;
#[path = "access/serving.rs"]
mod serving;
#[path = "access/sign_in.rs"]
mod sign_in;

use std::path::{Path, PathBuf};

use preview_tower::fleet::{Access, Fleet};
use preview_tower::params::{self, OPEN_ANNOTATIONS};
use serde_json::{Map, Value, json};

use super::admission::{self, Outcome, Param, Request};
use super::{
    application_sets, argo, documents, gotemplate, is_matrix, previews, root, schemas, tools,
};

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

/// The access guardrail's refusal for the private service `api`.
const PRIVATE_API: &str =
    "previews of api are private (the fleet did not open them with access: public)";

/// The example `albJwtValidation` of docs/security.md ("CI end-to-end tests").
fn documented_jwt_validation() -> String {
    let docs = read("docs/security.md");
    let line = docs
        .lines()
        .find_map(|l| l.strip_prefix("albJwtValidation: '"))
        .expect("docs/security.md shows an albJwtValidation");
    line.strip_suffix('\'').expect("quoted").to_owned()
}
