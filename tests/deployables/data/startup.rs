//! How a preview's data starts: PostgreSQL is seeded once, from the default image, and marks
//! the seed complete last; the web pods wait for the schema they expect.

use serde_json::Value;

use super::{REPLICAS_LABEL, database_workloads, mounted_at, name, pod_spec, rendered_backends};
use crate::rendered::AWAKE;
use crate::{WAVE, documents, root, str_of, tools};

/// The web pods start serving only once `migrate --check` passes (their last init container,
/// after an optional `migrate`), and the migration stays between the databases and the web.
#[test]
fn web_pods_wait_for_the_schema_they_expect() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let mut migrating = 0;
    for (what, set, docs) in rendered_backends(&tools, AWAKE) {
        let web = docs
            .iter()
            .find(|d| {
                d["kind"] == "Deployment" && d["metadata"]["labels"][REPLICAS_LABEL] == "preview"
            })
            .unwrap_or_else(|| panic!("{what}: the web Deployment"));
        let inits = pod_spec(web)["initContainers"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: the web pods have no init container"));
        let names: Vec<&str> = inits.iter().map(|c| str_of(c, "name")).collect();
        let wait = inits.last().expect("an init container");
        assert_eq!(
            str_of(wait, "name"),
            "wait-for-schema",
            "{what}: the last init container waits for the schema: {names:?}"
        );
        assert_eq!(
            wait["image"], set["image"],
            "{what}: in the app's own image"
        );
        if let Some(migrate) = names.iter().position(|n| *n == "migrate") {
            migrating += 1;
            assert!(
                migrate < names.len() - 1,
                "{what}: migrate-on-start runs before the wait: {names:?}"
            );
        }
        let loads = wait["envFrom"].to_string();
        assert!(
            loads.contains("\"postgres-credentials-") && loads.contains("\"preview-env-"),
            "{what}: the wait reaches the preview's database as the app does: {loads}"
        );
        let command: Vec<&str> = wait["command"]
            .as_array()
            .expect("command")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let script_path = command.last().expect("a script");
        let scripts = mounted_at(web, wait, "/opt/preview-tower").expect("the scripts volume");
        let configmap = str_of(&scripts["configMap"], "name");
        let script = docs
            .iter()
            .find(|d| d["kind"] == "ConfigMap" && name(d) == configmap)
            .and_then(|d| d["data"][script_path.rsplit('/').next().unwrap_or_default()].as_str())
            .unwrap_or_else(|| panic!("{what}: {script_path} is not in {configmap}"));
        assert!(
            script.contains("python manage.py migrate --check")
                && script.contains("WAIT_TIMEOUT_SECONDS"),
            "{what}: the wait runs Django's check, bounded"
        );
        let wave = |d: &Value| -> i64 {
            d["metadata"]["annotations"][WAVE]
                .as_str()
                .and_then(|w| w.parse().ok())
                .unwrap_or(0)
        };
        let job = docs.iter().find(|d| d["kind"] == "Job").expect("the Job");
        for (database, workload) in database_workloads(&docs, &set, &what) {
            assert!(
                wave(workload) < wave(job) && wave(job) < wave(web),
                "{what}: waves {database} {} < migration {} < web {}",
                wave(workload),
                wave(job),
                wave(web)
            );
        }
        assert_eq!((wave(job), wave(web)), (0, 1), "{what}");
    }
    assert!(migrating > 0, "billing uses migrate-on-start");
}

/// The seed marker is the last init script: its name sorts after every SQL file of the seed.
#[test]
fn postgres_seeds_once_and_marks_the_seed_complete_last() {
    let postgres =
        std::fs::read_to_string(root().join("overlays/bases/django/postgres.yaml")).expect("read");
    let deployment = documents(&postgres)
        .into_iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("the Deployment");
    let container = &pod_spec(&deployment)["containers"][0];
    let command = container["command"].to_string();
    assert!(command.contains("start-postgres.sh"), "{command}");
    let marker = container["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| m["subPath"] == "postgres-seeded.sh")
        .expect("the marker script is mounted");
    let marker_name = str_of(marker, "mountPath")
        .strip_prefix("/docker-entrypoint-initdb.d/")
        .expect("among the init scripts");
    let mut seeds = Vec::new();
    for entry in std::fs::read_dir(root().join("overlays/seed-image")).expect("seed-image") {
        let file = entry.expect("entry").file_name();
        let file = file.to_string_lossy().into_owned();
        if file.ends_with(".sql") {
            seeds.push(file);
        }
    }
    assert!(!seeds.is_empty());
    for seed in seeds {
        assert!(
            seed.as_str() < marker_name && seed.to_lowercase().as_str() < marker_name,
            "{marker_name} must run after {seed}"
        );
    }
}

/// The seed image and the stock PostgreSQL of services without a seed are the same Debian-based
/// image: glibc collations, as RDS sorts text, where Alpine's musl sorts by code point.
#[test]
fn the_seed_image_is_the_default_postgres_image_on_debian() {
    let dockerfile =
        std::fs::read_to_string(root().join("overlays/seed-image/Dockerfile")).expect("read");
    let from = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("FROM "))
        .expect("a FROM line")
        .trim();
    let fleet = preview_tower::fleet::Fleet::from_yaml(
        "base_domain: preview.example.com
services:
  - {name: api, repo: acme/api, kind: backend, image: registry.example.com/api,
     overlay_path: deploy/preview, staging_url: https://api.staging.example.com}
",
    )
    .expect("a minimal fleet");
    assert_eq!(from, fleet.postgres_image, "the seed image's base");
    assert!(
        from.contains("/postgres:") && !from.contains("alpine"),
        "{from}: the Debian-based image"
    );
}
