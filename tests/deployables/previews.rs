//! What a rendered preview must be, checked object by object against its parameter set.
//! A backend's and a frontend's own objects are checked in `workloads`, with the environment
//! expanded as the kubelet does (`env`).

#[path = "previews/env.rs"]
mod env;
#[path = "previews/workloads.rs"]
mod workloads;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::str_of;
use workloads::{assert_backend, assert_frontend};

/// The example overlay the demo service's app repo holds: `web` is the Vue app, `api` the
/// Django app, `billing` a second Django app.
pub fn example_overlay(root: &Path, set: &Map<String, Value>) -> PathBuf {
    let example = match set["service"].as_str() {
        Some("web") => "vue-app",
        Some("api") => "django-app",
        Some("billing") => "billing-app",
        other => panic!("no example overlay for service {other:?}"),
    };
    root.join("overlays/examples")
        .join(example)
        .join(set["overlay_path"].as_str().expect("overlay_path"))
}

/// The Application deletes everything it made, its namespace included, and syncs itself.
pub fn assert_application_owns_its_preview(app: &Value, set: &Map<String, Value>, origin: &str) {
    let finalizers = app["metadata"]["finalizers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        finalizers
            .iter()
            .any(|f| f == "resources-finalizer.argocd.argoproj.io"),
        "{origin}: no resources finalizer"
    );
    assert_eq!(
        app["spec"]["destination"]["namespace"], set["namespace"],
        "{origin}"
    );
    assert_eq!(app["spec"]["project"], "previews", "{origin}");
    let automated = &app["spec"]["syncPolicy"]["automated"];
    assert_eq!(automated["prune"], true, "{origin}");
    assert_eq!(automated["selfHeal"], true, "{origin}");
    let options = app["spec"]["syncPolicy"]["syncOptions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for option in ["PruneLast=true", "FailOnSharedResource=true"] {
        assert!(
            options.iter().any(|o| o == option),
            "{origin}: syncOptions lack {option}"
        );
    }
    assert!(
        !options.iter().any(|o| o == "CreateNamespace=true"),
        "{origin}: a namespace made by CreateNamespace outlives the Application"
    );
    let source = &app["spec"]["source"];
    assert_eq!(source["targetRevision"], set["revision"], "{origin}");
    assert_eq!(source["repoURL"], set["repo_url"], "{origin}");
}

fn pod_spec(doc: &Value) -> Option<&Value> {
    match str_of(doc, "kind") {
        "Deployment" | "StatefulSet" | "Job" => Some(&doc["spec"]["template"]["spec"]),
        _ => None,
    }
}

fn images(doc: &Value) -> Vec<String> {
    let Some(spec) = pod_spec(doc) else {
        return Vec::new();
    };
    ["initContainers", "containers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().cloned().unwrap_or_default())
        .map(|c| str_of(&c, "image").to_owned())
        .collect()
}

fn assert_scheduling(doc: &Value, set: &Map<String, Value>, what: &str) {
    let spec = pod_spec(doc).expect("a workload");
    let affinity = &spec["affinity"]["nodeAffinity"];
    let label = str_of(&Value::Object(set.clone()), "capacity_type_label").to_owned();
    if set["capacity_type"] == "spot" {
        // Preferred, not required: without spot capacity the pods land on on-demand nodes.
        let preferred = affinity["preferredDuringSchedulingIgnoredDuringExecution"].to_string();
        assert!(
            preferred.contains(&label) && preferred.contains("\"In\""),
            "{what}: {affinity}"
        );
        assert!(
            affinity["requiredDuringSchedulingIgnoredDuringExecution"].is_null(),
            "{what}: spot must not be required"
        );
        assert!(
            spec["tolerations"]
                .as_array()
                .is_some_and(|t| !t.is_empty()),
            "{what}"
        );
    } else {
        let required = affinity["requiredDuringSchedulingIgnoredDuringExecution"].to_string();
        assert!(
            required.contains(&label) && required.contains("NotIn"),
            "{what}: {affinity}"
        );
    }
}

/// One rendered preview against its parameter set.
pub fn assert_preview(docs: &[Value], set: &Map<String, Value>) {
    let namespace = set["namespace"].as_str().expect("namespace");
    let namespaces: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "Namespace").collect();
    assert_eq!(
        namespaces.len(),
        1,
        "{namespace}: the preview ships its own Namespace"
    );
    assert_eq!(namespaces[0]["metadata"]["name"], namespace);
    for doc in docs.iter().filter(|d| d["kind"] != "Namespace") {
        let what = format!(
            "{namespace}: {}/{}",
            str_of(doc, "kind"),
            str_of(&doc["metadata"], "name")
        );
        assert_eq!(
            doc["metadata"]["namespace"], namespace,
            "{what} is outside the preview namespace"
        );
        for image in images(doc) {
            assert!(
                !image.starts_with("preview-"),
                "{what}: image placeholder {image} left"
            );
        }
        if pod_spec(doc).is_some() {
            assert_scheduling(doc, set, &what);
        }
        let key = match doc["metadata"]["labels"]["preview-tower.io/replicas"].as_str() {
            Some("preview") => Some("replicas"),
            Some("database") => Some("database_replicas"),
            _ => None,
        };
        if let Some(key) = key {
            let expected = set[key].as_str().unwrap_or("");
            assert_eq!(
                doc["spec"]["replicas"].to_string(),
                expected,
                "{what}: {key}"
            );
        }
    }
    let env = docs
        .iter()
        .find(|d| {
            d["kind"] == "ConfigMap" && str_of(&d["metadata"], "name").starts_with("preview-env")
        })
        .expect("ConfigMap preview-env");
    assert_eq!(
        env["data"], set["env"],
        "{namespace}: the workloads' environment is the set's"
    );
    let ingress = docs
        .iter()
        .find(|d| d["kind"] == "Ingress" && d["metadata"]["name"] == "preview")
        .expect("Ingress preview");
    assert_eq!(
        ingress["spec"]["ingressClassName"], "alb-previews",
        "{namespace}: the platform's preview IngressClass, not annotations a PR could change"
    );
    assert_eq!(
        ingress["spec"]["rules"][0]["host"], set["host"],
        "{namespace}"
    );
    assert_internal_url_answers(docs, set);
    let app = docs
        .iter()
        .find(|d| {
            d["kind"] == "Deployment"
                && images(d)
                    .iter()
                    .any(|i| Some(i.as_str()) == set["image"].as_str())
        })
        .expect("the app Deployment runs the preview's image");
    let loads_env = app
        .to_string()
        .contains("\"configMapRef\":{\"name\":\"preview-env-");
    assert!(
        loads_env,
        "{namespace}: the app loads preview-env with envFrom"
    );
    match set["kind"].as_str() {
        Some("backend") => assert_backend(docs, set, app),
        _ => assert_frontend(docs, set),
    }
}

/// Go's `filepath.Match` for the patterns the AppProject uses: `*` matches any run of
/// characters without `/`.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.starts_with(head)
                && (head.len()..=text.len())
                    .any(|i| !text[head.len()..i].contains('/') && glob(tail, &text[i..]))
        }
    }
}

/// The AppProject admits everything a preview renders: its kinds, its namespace.
pub fn assert_project_admits(project: &Value, docs: &[Value], set: &Map<String, Value>) {
    let namespace = set["namespace"].as_str().unwrap_or_default();
    let spec = &project["spec"];
    let destinations = spec["destinations"].as_array().cloned().unwrap_or_default();
    assert!(
        destinations
            .iter()
            .any(|d| glob(str_of(d, "namespace"), namespace)),
        "{namespace}: no AppProject destination admits it"
    );
    let listed = |list: &str, group: &str, kind: &str, name: &str| {
        spec[list].as_array().into_iter().flatten().any(|entry| {
            str_of(entry, "group") == group
                && str_of(entry, "kind") == kind
                && entry
                    .get("name")
                    .and_then(Value::as_str)
                    .is_none_or(|p| glob(p, name))
        })
    };
    for doc in docs {
        let api_version = str_of(doc, "apiVersion");
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let kind = str_of(doc, "kind");
        let name = str_of(&doc["metadata"], "name");
        let admitted = if kind == "Namespace" {
            listed("clusterResourceWhitelist", group, kind, name)
        } else {
            listed("namespaceResourceWhitelist", group, kind, name)
        };
        assert!(
            admitted,
            "{namespace}: the AppProject refuses {kind}/{name} ({api_version})"
        );
    }
}

#[test]
fn globs_match_like_go() {
    assert!(glob("preview-*-pr-*", "preview-web-pr-42"));
    assert!(!glob("preview-*-pr-*", "preview-tower"));
    assert!(glob("*", "anything"));
    assert!(!glob("a*", "b"));
}

/// `internal_url` (`http://<service>.<namespace>.svc.cluster.local[:<port>]`) reaches a Service
/// of the preview on that port.
fn assert_internal_url_answers(docs: &[Value], set: &Map<String, Value>) {
    let url = url::Url::parse(set["internal_url"].as_str().expect("internal_url")).expect("URL");
    let host = url.host_str().unwrap_or_default();
    let (service, namespace) = host.split_once('.').expect("service.namespace...");
    assert!(
        namespace.starts_with(set["namespace"].as_str().unwrap_or("?")),
        "{host}"
    );
    let port = url.port_or_known_default().expect("a port");
    let found = docs
        .iter()
        .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == service)
        .unwrap_or_else(|| panic!("{host}: no Service `{service}` in the preview"));
    let ports: Vec<u64> = found["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["port"].as_u64())
        .collect();
    assert!(
        ports.contains(&u64::from(port)),
        "{host}: Service `{service}` listens on {ports:?}, not {port}"
    );
}
