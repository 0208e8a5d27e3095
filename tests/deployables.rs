//! Everything a platform team applies (`argocd/`, `manifests/`, `overlays/`) renders with real
//! kustomize and is valid against its schema; the ApplicationSets use only keys every demo
//! parameter set carries; and the Applications they make for the demo fleet render real
//! previews: everything in the preview's own namespace, databases before the migration before
//! the web rollout, runtime config from the parameters, spot with an on-demand fallback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "deployables/access.rs"]
mod access;
#[path = "deployables/admission.rs"]
mod admission;
#[path = "deployables/applicationsets.rs"]
mod applicationsets;
#[path = "deployables/argo.rs"]
mod argo;
#[path = "deployables/data.rs"]
mod data;
#[path = "deployables/fence.rs"]
mod fence;
#[path = "deployables/files.rs"]
mod files;
#[path = "deployables/fleets.rs"]
mod fleets;
#[path = "deployables/gotemplate.rs"]
mod gotemplate;
#[path = "deployables/guide.rs"]
mod guide;
#[path = "deployables/manifests.rs"]
mod manifests;
#[path = "deployables/placement.rs"]
mod placement;
#[path = "deployables/pods.rs"]
mod pods;
#[path = "deployables/previews.rs"]
mod previews;
#[path = "deployables/prices.rs"]
mod prices;
#[path = "deployables/rendered.rs"]
mod rendered;
#[path = "deployables/schemas.rs"]
mod schemas;
#[path = "deployables/shapes.rs"]
mod shapes;
#[path = "deployables/tools.rs"]
mod tools;
#[path = "deployables/workflows.rs"]
mod workflows;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use preview_tower::demo::{self, DemoSource};
use preview_tower::metrics::Metrics;
use preview_tower::params::{self, Mode};
use preview_tower::snapshot::{Snapshot, SnapshotStore};
use preview_tower::sync::Syncer;
use serde_json::{Map, Value};

/// Argo CD's sync-wave annotation.
const WAVE: &str = "argocd.argoproj.io/sync-wave";
/// Saturday 28 November 2026, noon in Paris: the demo's previews sleep (billing's, which opts
/// out, excepted).
const ASLEEP_AT: &str = "2026-11-28T11:00:00Z";

/// `value[key]` as text, or empty.
fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

/// A rendered container's `args`, as text.
fn container_args(container: &Value) -> Vec<&str> {
    container["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("deployables")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Every YAML document of `text`, nulls skipped.
fn documents(text: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(text).expect("valid YAML");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// The full sets `preview-tower plan --demo` prints, planned as of `at` (RFC 3339) or now.
fn demo_sets_at(at: Option<&str>) -> Vec<(String, Map<String, Value>)> {
    let mut args = vec!["plan", "--demo"];
    args.extend(at.map(|at| ["--at", at]).into_iter().flatten());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_preview-tower"))
        .args(&args)
        .output()
        .expect("run preview-tower plan --demo");
    assert!(output.status.success(), "plan --demo failed");
    let plan: Value = serde_json::from_slice(&output.stdout).expect("plan JSON");
    plan["output"]["parameters"]
        .as_array()
        .expect("parameter sets")
        .iter()
        .map(|set| {
            let set = set.as_object().expect("a set is an object").clone();
            (set["service"].as_str().expect("service").to_owned(), set)
        })
        .collect()
}

/// The demo's parameter sets, per mode: `(service, set)`. Full sets are what
/// `preview-tower plan --demo` prints, which is what Argo CD gets; matrix sets (not printed by
/// `plan`) come from the same renderer through the library.
fn demo_sets(mode: Mode) -> Vec<(String, Map<String, Value>)> {
    if mode == Mode::Full {
        return demo_sets_at(None);
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let fleet = Arc::new(demo::fleet().expect("demo fleet"));
        let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
            &fleet,
        ))));
        // The demo's Applications, as `plan --demo` reads them.
        let syncer = Syncer::new(
            Arc::clone(&fleet),
            Arc::new(DemoSource::new().expect("demo source")),
            Arc::clone(&store),
            Arc::new(Metrics::unregistered()),
        )
        .with_applications(demo::applications(&fleet));
        syncer.refresh_all().await.expect("demo sync");
        let snapshot = store.load();
        snapshot
            .plan()
            .previews
            .iter()
            .map(|p| (p.service.to_string(), params::render(p, &fleet, mode)))
            .collect()
    })
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// The ApplicationSets of `argocd/` with their template, by file name.
fn application_sets() -> Vec<(String, Value)> {
    let mut files = Vec::new();
    yaml_files(&root().join("argocd"), &mut files);
    let mut out = Vec::new();
    for file in files {
        for doc in documents(&std::fs::read_to_string(&file).expect("read")) {
            if doc["kind"] == "ApplicationSet" {
                let name = file
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_owned();
                out.push((name, doc));
            }
        }
    }
    assert!(
        out.len() >= 2,
        "the plugin ApplicationSet and its matrix variant"
    );
    out
}

/// Whether an ApplicationSet uses the plugin inside a matrix after the pullRequest generator.
fn is_matrix(appset: &Value) -> bool {
    appset["spec"]["generators"][0]["matrix"].is_object()
}

/// The parameter sets one ApplicationSet's template sees for the demo, per service.
fn template_inputs(appset: &Value) -> Vec<(String, Map<String, Value>)> {
    if !is_matrix(appset) {
        return demo_sets(Mode::Full);
    }
    // Matrix: the pullRequest generator's keys (goTemplate: first child wins) over the plugin's
    // matrix-mode set. The PR generator's values are those the full set carries.
    let full = demo_sets(Mode::Full);
    demo_sets(Mode::Matrix)
        .into_iter()
        .zip(full)
        .map(|((service, mut set), (_, full))| {
            for key in params::KEYS.iter().filter(|k| k.pull_request_generator) {
                set.insert(key.name.to_owned(), full[key.name].clone());
            }
            (service, set)
        })
        .collect()
}
