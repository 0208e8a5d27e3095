//! What Argo CD does with a rendered Application's Kustomize source: a wrapper kustomization
//! around the overlay with the Application's namespace, image and patch overrides (Argo CD edits
//! the overlay's own kustomization with `kustomize edit`; a wrapper has the same effect).

use std::path::{Component, Path, PathBuf};

use serde_json::{Value, json};

/// `name=repo[:tag|@digest]` as a kustomize `images` entry.
fn image_entry(spec: &str) -> Value {
    let (name, reference) = spec.split_once('=').unwrap_or((spec, spec));
    if let Some((repo, digest)) = reference.split_once('@') {
        return json!({"name": name, "newName": repo, "digest": digest});
    }
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].rfind(':') {
        Some(colon) => {
            let at = slash + colon;
            json!({"name": name, "newName": &reference[..at], "newTag": &reference[at + 1..]})
        }
        None => json!({"name": name, "newName": reference}),
    }
}

/// `to` relative to `from` (both absolute).
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part.as_os_str());
    }
    out
}

/// Writes, in `dir`, the kustomization Argo CD would build for `application` whose source path
/// is `overlay` here; returns `dir`.
pub fn wrapper(application: &Value, overlay: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("scratch dir");
    let kustomize = &application["spec"]["source"]["kustomize"];
    let mut kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [relative(dir, overlay).to_string_lossy()],
    });
    if let Some(namespace) = kustomize["namespace"].as_str() {
        kustomization["namespace"] = json!(namespace);
    }
    if let Some(images) = kustomize["images"].as_array() {
        let images: Vec<Value> = images
            .iter()
            .filter_map(Value::as_str)
            .map(image_entry)
            .collect();
        kustomization["images"] = json!(images);
    }
    if let Some(patches) = kustomize["patches"].as_array() {
        kustomization["patches"] = json!(patches);
    }
    std::fs::write(dir.join("kustomization.yaml"), kustomization.to_string()).expect("write");
    dir.to_path_buf()
}

#[test]
fn images_are_split_like_kustomize_edit() {
    assert_eq!(
        image_entry("preview-app=123.dkr.ecr.eu-west-1.amazonaws.com/web:abc"),
        json!({"name": "preview-app", "newName": "123.dkr.ecr.eu-west-1.amazonaws.com/web", "newTag": "abc"})
    );
    assert_eq!(
        image_entry("preview-postgres=localhost:5000/pg"),
        json!({"name": "preview-postgres", "newName": "localhost:5000/pg"})
    );
    assert_eq!(
        relative(Path::new("/a/b/c"), Path::new("/a/x/y")),
        PathBuf::from("../../x/y")
    );
}
