//! Data that lives as long as the preview: the demo previews, rendered with real kustomize
//! through both ApplicationSets, keep PostgreSQL's and MongoDB's data on PersistentVolumeClaims
//! of the fleet's size (asleep too), never in an emptyDir; their databases are not disrupted by
//! Karpenter and declare the local disk they use; the web pods wait for the schema they expect.
//! The scripts behind it (seed once, start an unfinished seed over, wait for `migrate --check`)
//! are run here against stand-ins for PostgreSQL's entrypoint and Django.
//!
//! Here: the demo previews rendered through both ApplicationSets, their database workloads and
//! readers of their pods, which the parts share.

#[path = "data/claims.rs"]
mod claims;
#[path = "data/scripts.rs"]
mod scripts;
#[path = "data/startup.rs"]
mod startup;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{
    application_sets, argo, demo_sets_at, documents, gotemplate, is_matrix, previews, root,
    scratch, str_of, template_inputs, tools,
};

const STORAGE_LABEL: &str = "preview-tower.io/storage";
const REPLICAS_LABEL: &str = "preview-tower.io/replicas";
const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";

type Set = Map<String, Value>;

fn name(doc: &Value) -> &str {
    str_of(&doc["metadata"], "name")
}

/// The preview of `set` as Argo CD renders it with `appset`'s template.
fn render(tools: &tools::Tools, appset: &Value, set: &Set, dir: &Path) -> Vec<Value> {
    let app = gotemplate::render(&appset["spec"]["template"], set).expect("render");
    let overlay = previews::example_overlay(&root(), set);
    let dir = argo::wrapper(&app, &overlay, dir);
    documents(&tools.kustomize(&dir).expect("kustomize"))
}

/// The demo's backend sets as planned at `at`, rendered through every ApplicationSet of
/// `argocd/` (the matrix one with the keys its pullRequest generator adds), with where they
/// came from.
fn rendered_backends(tools: &tools::Tools, at: &str) -> Vec<(String, Set, Vec<Value>)> {
    let scratch = scratch(&format!("data-{}", at.replace(':', "")));
    let mut out = Vec::new();
    for (file, appset) in application_sets() {
        // The matrix inputs come from the library, planned now.
        let (sets, when) = if is_matrix(&appset) {
            (template_inputs(&appset), "now")
        } else {
            (demo_sets_at(Some(at)), at)
        };
        for (service, set) in sets.into_iter().filter(|(_, s)| s["kind"] == "backend") {
            let dir = scratch.join(format!("{file}-{service}"));
            let docs = render(tools, &appset, &set, &dir);
            out.push((format!("{file} {service} at {when}"), set, docs));
        }
    }
    assert!(out.len() >= 4, "two backends through two ApplicationSets");
    out
}

fn pod_spec(workload: &Value) -> &Value {
    &workload["spec"]["template"]["spec"]
}

fn containers(workload: &Value) -> Vec<&Value> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|k| pod_spec(workload)[*k].as_array().into_iter().flatten())
        .collect()
}

/// The volume of `workload` named `volume`.
fn volume<'a>(workload: &'a Value, volume: &str) -> &'a Value {
    pod_spec(workload)["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == volume)
        .unwrap_or(&Value::Null)
}

/// The volume `container` mounts at `path`.
fn mounted_at<'a>(workload: &'a Value, container: &Value, path: &str) -> Option<&'a Value> {
    container["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["mountPath"] == path)
        .map(|m| volume(workload, str_of(m, "name")))
}

/// The databases of a backend set, with the workload of each (by its main container's image).
fn database_workloads<'a>(
    docs: &'a [Value],
    set: &'a Set,
    what: &str,
) -> Vec<(&'a str, &'a Value)> {
    let postgres_image = set["postgres_image"].as_str().expect("postgres_image");
    let databases = set["databases"].as_str().unwrap_or_default();
    databases
        .split(',')
        .filter(|d| !d.is_empty())
        .map(|database| {
            let matches = |image: &str| match database {
                "postgres" => image == postgres_image,
                "redis" => image.contains("redis"),
                "mongodb" => image.contains("mongo"),
                other => panic!("unknown database {other}"),
            };
            let workload = docs
                .iter()
                .filter(|d| d["kind"] == "Deployment")
                .find(|d| {
                    pod_spec(d)["containers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|c| matches(str_of(c, "image")))
                })
                .unwrap_or_else(|| panic!("{what}: no {database} workload"));
            (database, workload)
        })
        .collect()
}

fn script(name: &str) -> PathBuf {
    root().join("overlays/bases/django/scripts").join(name)
}
