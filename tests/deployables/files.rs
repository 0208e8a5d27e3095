//! Every YAML file we ship renders with real kustomize (a component over an example app) and
//! is valid against its schema; a fleet file parses as a fleet.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{argo, documents, root, schemas, scratch, tools, yaml_files};

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
