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
#[path = "deployables/argo.rs"]
mod argo;
#[path = "deployables/data.rs"]
mod data;
#[path = "deployables/fence.rs"]
mod fence;
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

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use preview_tower::demo::{self, DemoSource};
use preview_tower::metrics::Metrics;
use preview_tower::params::{self, Mode};
use preview_tower::snapshot::{Snapshot, SnapshotStore};
use preview_tower::sync::Syncer;

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
        let syncer = Syncer::new(
            Arc::clone(&fleet),
            Arc::new(DemoSource::new().expect("demo source")),
            Arc::clone(&store),
            Arc::new(Metrics::unregistered()),
        );
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

/// The files a kustomization reads, so that they are checked through its render.
fn referenced_files(kustomization: &Path) -> Vec<PathBuf> {
    let dir = kustomization.parent().expect("parent");
    let doc = documents(&std::fs::read_to_string(kustomization).expect("read"))
        .pop()
        .unwrap_or(Value::Null);
    let mut out = Vec::new();
    let mut add = |value: &Value| {
        if let Some(path) = value.as_str() {
            let path = path.rsplit_once('=').map_or(path, |(_, p)| p);
            out.push(dir.join(path));
        }
    };
    for key in [
        "resources",
        "components",
        "patchesStrategicMerge",
        "configurations",
    ] {
        doc[key].as_array().into_iter().flatten().for_each(&mut add);
    }
    doc["patches"]
        .as_array()
        .into_iter()
        .flatten()
        .for_each(|p| add(&p["path"]));
    for generator in ["configMapGenerator", "secretGenerator"] {
        for g in doc[generator].as_array().into_iter().flatten() {
            g["files"]
                .as_array()
                .into_iter()
                .flatten()
                .for_each(&mut add);
        }
    }
    out
}

#[test]
fn every_yaml_file_we_ship_renders_and_is_valid() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let scratch = scratch("files");
    let mut files = Vec::new();
    for dir in ["argocd", "manifests", "overlays", "platform"] {
        yaml_files(&root().join(dir), &mut files);
    }
    assert!(!files.is_empty(), "nothing to check");
    let kustomizations: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "kustomization.yaml"))
        .collect();
    let covered: BTreeSet<PathBuf> = kustomizations
        .iter()
        .flat_map(|k| referenced_files(k))
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let mut problems = Vec::new();
    for kustomization in &kustomizations {
        let dir = kustomization.parent().expect("parent");
        let origin = dir
            .strip_prefix(root())
            .unwrap_or(dir)
            .display()
            .to_string();
        let is_component = documents(&std::fs::read_to_string(kustomization).expect("read"))
            .first()
            .is_some_and(|d| d["kind"] == "Component");
        let dir = if is_component {
            // A component renders only inside a kustomization: over each example app.
            component_wrapper(dir, &scratch.join(origin.replace('/', "_")))
        } else {
            dir.to_path_buf()
        };
        match tools.kustomize(&dir) {
            Ok(text) => problems.extend(schemas::validate(
                &tools,
                &documents(&text),
                &origin,
                &scratch,
            )),
            Err(error) => problems.push(error),
        }
    }
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let canonical = file.canonicalize().expect("canonical");
        let origin = file
            .strip_prefix(root())
            .unwrap_or(file)
            .display()
            .to_string();
        if name == "kustomization.yaml" || covered.contains(&canonical) && name != "fleet.yaml" {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read");
        if name == "fleet.yaml" {
            if let Err(errors) = preview_tower::fleet::Fleet::from_yaml(&text) {
                problems.push(format!("{origin}: invalid fleet: {errors:?}"));
            }
            continue;
        }
        problems.extend(schemas::validate(
            &tools,
            &documents(&text),
            &origin,
            &scratch,
        ));
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A kustomization applying the component in `component` to the Django base (which uses none).
fn component_wrapper(component: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("scratch dir");
    let example = root().join("overlays/bases/django");
    let kustomization = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [argo::relative(dir, &example).to_string_lossy()],
        "components": [argo::relative(dir, component).to_string_lossy()],
    });
    std::fs::write(dir.join("kustomization.yaml"), kustomization.to_string()).expect("write");
    dir.to_path_buf()
}

#[test]
fn the_deployed_fleet_is_the_documented_example() {
    let deployed = std::fs::read_to_string(root().join("manifests/fleet.yaml")).expect("read");
    let documented =
        std::fs::read_to_string(root().join("docs/examples/fleet.yaml")).expect("read");
    assert_eq!(
        deployed, documented,
        "manifests/fleet.yaml drifted from docs/examples/fleet.yaml"
    );
}

#[test]
fn the_role_may_patch_every_applicationset_the_deployed_fleet_refreshes() {
    let text = std::fs::read_to_string(root().join("manifests/fleet.yaml")).expect("read");
    let fleet = preview_tower::fleet::Fleet::from_yaml(&text).expect("valid fleet");
    let wanted: BTreeSet<&str> = fleet
        .services
        .iter()
        .flat_map(|s| s.applicationsets.iter().map(String::as_str))
        .collect();
    let rbac = std::fs::read_to_string(root().join("manifests/rbac.yaml")).expect("read");
    let role = documents(&rbac)
        .into_iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["namespace"] == "argocd")
        .expect("the Role in argocd");
    let rules = role["rules"].as_array().expect("rules");
    let rule = rules
        .iter()
        .find(|r| r["resources"] == serde_json::json!(["applicationsets"]))
        .expect("a rule on applicationsets");
    let granted: BTreeSet<&str> = rule["resourceNames"]
        .as_array()
        .expect("resourceNames")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        wanted.is_subset(&granted),
        "manifests/rbac.yaml grants patch on {granted:?}, the fleet refreshes {wanted:?}"
    );
    assert!(
        rule["verbs"]
            .as_array()
            .expect("verbs")
            .contains(&"patch".into())
    );
    let shipped: BTreeSet<String> = application_sets()
        .iter()
        .filter_map(|(_, a)| a["metadata"]["name"].as_str().map(str::to_owned))
        .collect();
    assert!(
        wanted.iter().all(|n| shipped.contains(*n)),
        "{wanted:?} not all in argocd/: {shipped:?}"
    );
}

/// The plugin answers only the ApplicationSets its fleet names: every ApplicationSet shipped in
/// `argocd/` must be named by the deployed fleet and by the demo's, or Argo CD gets a 400.
#[test]
fn every_shipped_applicationset_is_answered_by_the_shipped_fleets() {
    let text = std::fs::read_to_string(root().join("manifests/fleet.yaml")).expect("read");
    let deployed = preview_tower::fleet::Fleet::from_yaml(&text).expect("valid fleet");
    let demo = preview_tower::demo::fleet().expect("demo fleet");
    for (origin, fleet) in [("manifests/fleet.yaml", deployed), ("the demo fleet", demo)] {
        let named: BTreeSet<&str> = fleet
            .applicationsets
            .iter()
            .chain(fleet.services.iter().flat_map(|s| &s.applicationsets))
            .map(String::as_str)
            .collect();
        for (file, appset) in application_sets() {
            let name = appset["metadata"]["name"].as_str().expect("a name");
            assert!(
                named.contains(name),
                "{origin} does not name `{name}` of argocd/{file}: {named:?}"
            );
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

#[test]
fn application_sets_use_only_keys_every_demo_set_carries() {
    for (file, appset) in application_sets() {
        assert_eq!(appset["spec"]["goTemplate"], true, "{file}");
        let options: Vec<&str> = appset["spec"]["goTemplateOptions"]
            .as_array()
            .map(|o| o.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert!(options.contains(&"missingkey=error"), "{file}");
        // Applications whose PR is gone must be deleted, with everything they made.
        let policy = &appset["spec"]["syncPolicy"];
        let sync = policy["applicationsSync"].as_str().unwrap_or("sync");
        assert!(
            matches!(sync, "sync" | "create-delete"),
            "{file}: applicationsSync {sync}"
        );
        assert_ne!(policy["preserveResourcesOnDeletion"], true, "{file}");
        let keys =
            gotemplate::keys(&appset["spec"]["template"]).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!keys.is_empty(), "{file}: the template uses no parameter");
        for (service, set) in template_inputs(&appset) {
            for key in &keys {
                assert!(
                    set.contains_key(key),
                    "{file}: `{key}` is missing from {service}'s set"
                );
            }
        }
    }
}

#[test]
fn rendered_applications_are_valid_and_own_their_namespace() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let scratch = scratch("applications");
    for (file, appset) in application_sets() {
        for (service, set) in template_inputs(&appset) {
            let mut app = gotemplate::render(&appset["spec"]["template"], &set)
                .unwrap_or_else(|e| panic!("{file} for {service}: {e}"));
            app["apiVersion"] = "argoproj.io/v1alpha1".into();
            app["kind"] = "Application".into();
            let origin = format!("{file} {service}");
            let problems = schemas::validate(&tools, &[app.clone()], &origin, &scratch);
            assert!(problems.is_empty(), "{}", problems.join("\n"));
            previews::assert_application_owns_its_preview(&app, &set, &origin);
        }
    }
}

#[test]
fn demo_previews_render_into_their_own_namespace() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let (file, appset) = application_sets()
        .into_iter()
        .find(|(_, a)| !is_matrix(a))
        .expect("the plugin ApplicationSet");
    let scratch = scratch("previews");
    let project =
        documents(&std::fs::read_to_string(root().join("argocd/appproject.yaml")).expect("read"))
            .into_iter()
            .find(|d| d["kind"] == "AppProject")
            .expect("the previews AppProject");
    for (service, set) in demo_sets(Mode::Full) {
        let app = gotemplate::render(&appset["spec"]["template"], &set).expect("render");
        let overlay = previews::example_overlay(&root(), &set);
        let name = set["name"].as_str().expect("name");
        let dir = argo::wrapper(&app, &overlay, &scratch.join(name));
        let text = tools
            .kustomize(&dir)
            .unwrap_or_else(|e| panic!("{file} {service}: {e}"));
        let docs = documents(&text);
        let problems = schemas::validate(&tools, &docs, name, &scratch);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        previews::assert_preview(&docs, &set);
        previews::assert_project_admits(&project, &docs, &set);
    }
}

/// Outside working hours every workload of a sleeping preview renders with 0 replicas, its
/// databases included; inside them every one runs. The demo fleet works Monday to Friday,
/// 08:00–20:00 in Paris.
#[test]
fn sleeping_previews_render_every_workload_at_zero_replicas() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let (_, appset) = application_sets()
        .into_iter()
        .find(|(_, a)| !is_matrix(a))
        .expect("the plugin ApplicationSet");
    let scratch = scratch("sleeping");
    // Saturday noon, then Wednesday 11:00 in Paris.
    let mut slept = 0;
    for (at, asleep) in [(ASLEEP_AT, true), (rendered::AWAKE, false)] {
        let sets = demo_sets_at(Some(at));
        assert!(!sets.is_empty(), "the demo has previews");
        for (service, set) in sets {
            // The demo's billing PR opts out with `sleep: false` in its `.preview.yaml`.
            let opted_out = set["capacity_type"] == "on-demand" && service == "billing";
            let asleep = asleep && !opted_out;
            let expected = if asleep { "0" } else { "1" };
            assert_eq!(set["replicas"], expected, "{service} at {at}");
            assert_eq!(set["database_replicas"], expected, "{service} at {at}");
            let app = gotemplate::render(&appset["spec"]["template"], &set).expect("render");
            let overlay = previews::example_overlay(&root(), &set);
            let name = set["name"].as_str().expect("name");
            let dir = argo::wrapper(&app, &overlay, &scratch.join(format!("{name}-{asleep}")));
            let docs = documents(&tools.kustomize(&dir).expect("kustomize"));
            let problems = schemas::validate(&tools, &docs, name, &scratch);
            assert!(problems.is_empty(), "{}", problems.join("\n"));
            previews::assert_preview(&docs, &set);
            let workloads: Vec<&Value> = docs
                .iter()
                .filter(|d| matches!(d["kind"].as_str(), Some("Deployment" | "StatefulSet")))
                .collect();
            assert!(!workloads.is_empty(), "{service}: no workload rendered");
            for workload in workloads {
                let replicas = workload["spec"]["replicas"].as_u64();
                let what = format!("{service} at {at}: {}", workload["metadata"]["name"]);
                if asleep {
                    slept += 1;
                    assert_eq!(replicas, Some(0), "{what} must sleep");
                } else {
                    assert!(replicas.is_some_and(|r| r >= 1), "{what} must run");
                }
            }
        }
    }
    assert!(slept > 0, "no workload slept on Saturday");
}
