//! Data that lives as long as the preview: the demo previews, rendered with real kustomize
//! through both ApplicationSets, keep PostgreSQL's and MongoDB's data on PersistentVolumeClaims
//! of the fleet's size (asleep too), never in an emptyDir; their databases are not disrupted by
//! Karpenter and declare the local disk they use; the web pods wait for the schema they expect.
//! The scripts behind it (seed once, start an unfinished seed over, wait for `migrate --check`)
//! are run here against stand-ins for PostgreSQL's entrypoint and Django.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value};

use super::rendered::AWAKE;
use super::{
    ASLEEP_AT, WAVE, application_sets, argo, demo_sets_at, documents, gotemplate, is_matrix,
    previews, root, schemas, scratch, str_of, template_inputs, tools,
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

/// Where each persistent database keeps its data, inside its main container.
fn data_path(database: &str, container: &Value) -> Option<String> {
    match database {
        // PGDATA, which must be a subdirectory of the volume: the entrypoint seeds an empty
        // directory, and a volume's root is never empty (lost+found, the seed marker).
        "postgres" => container["env"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == "PGDATA")
            .and_then(|e| e["value"].as_str())
            .map(str::to_owned),
        "mongodb" => Some("/data/db".to_owned()),
        _ => None,
    }
}

/// The claim `workload`'s main container keeps `database`'s data on, and the mount path.
fn data_claim<'a>(
    docs: &'a [Value],
    database: &str,
    workload: &Value,
    what: &str,
) -> (&'a Value, String) {
    let container = &pod_spec(workload)["containers"][0];
    let data = data_path(database, container).unwrap_or_else(|| panic!("{what}: no data path"));
    let mounts = container["volumeMounts"].as_array().expect("volumeMounts");
    let mount = mounts
        .iter()
        .filter(|m| {
            let path = str_of(m, "mountPath");
            data == path || data.starts_with(&format!("{path}/"))
        })
        .max_by_key(|m| str_of(m, "mountPath").len())
        .unwrap_or_else(|| panic!("{what}: nothing mounted at {data}"));
    let mount_path = str_of(mount, "mountPath").to_owned();
    let source = volume(workload, str_of(mount, "name"));
    assert!(
        source["emptyDir"].is_null(),
        "{what}: {database}'s data ({data}) is in an emptyDir"
    );
    let claim_name = source["persistentVolumeClaim"]["claimName"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: {database}'s data ({data}) is on no claim: {source}"));
    let claim = docs
        .iter()
        .find(|d| d["kind"] == "PersistentVolumeClaim" && name(d) == claim_name)
        .unwrap_or_else(|| panic!("{what}: the claim {claim_name} is not rendered"));
    if database == "postgres" {
        assert_ne!(
            data, mount_path,
            "{what}: PGDATA must be a subdirectory of the volume"
        );
    }
    (claim, mount_path)
}

/// The claim holds the fleet's size, binds in the preview's namespace with its database and is
/// deleted with the preview.
fn assert_claim(claim: &Value, set: &Set, workload: &Value, what: &str) {
    let what = format!("{what}: PersistentVolumeClaim/{}", name(claim));
    assert_eq!(
        claim["metadata"]["labels"][STORAGE_LABEL], "database",
        "{what}"
    );
    assert_eq!(
        claim["spec"]["resources"]["requests"]["storage"], set["database_storage"],
        "{what}: the size is the fleet's database_storage"
    );
    assert_eq!(
        claim["spec"]["accessModes"],
        serde_json::json!(["ReadWriteOnce"]),
        "{what}"
    );
    assert!(
        claim["spec"]["storageClassName"].is_null(),
        "{what}: the cluster's default StorageClass"
    );
    assert_eq!(claim["metadata"]["namespace"], set["namespace"], "{what}");
    let annotations = &claim["metadata"]["annotations"];
    let options = str_of(annotations, "argocd.argoproj.io/sync-options");
    assert!(
        !options.contains("Prune=false") && !options.contains("Delete=false"),
        "{what}: Argo CD must delete it with the preview ({options})"
    );
    assert!(
        annotations["argocd.argoproj.io/hook"].is_null(),
        "{what}: a hook is not pruned with the preview"
    );
    assert!(
        annotations["helm.sh/resource-policy"].is_null(),
        "{what}: kept after deletion"
    );
    // The same wave as its database: WaitForFirstConsumer binds it only once the pod is
    // scheduled, so an earlier wave would wait for it for ever.
    assert_eq!(
        annotations[WAVE], workload["metadata"]["annotations"][WAVE],
        "{what}"
    );
}

/// A database is not consolidated away, keeps its memory, and declares the node disk it uses.
fn assert_database_pod(workload: &Value, what: &str) {
    let what = format!("{what}: Deployment/{}", name(workload));
    assert_eq!(
        workload["spec"]["template"]["metadata"]["annotations"][DO_NOT_DISRUPT], "true",
        "{what}: Karpenter must not consolidate the database away"
    );
    assert_eq!(workload["spec"]["strategy"]["type"], "Recreate", "{what}");
    for container in containers(workload) {
        let resources = &container["resources"];
        let memory = &resources["requests"]["memory"];
        assert!(memory.is_string(), "{what}: no memory request");
        assert_eq!(
            memory,
            &resources["limits"]["memory"],
            "{what}: {} memory request = limit",
            str_of(container, "name")
        );
        let local = container["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| !volume(workload, str_of(m, "name"))["emptyDir"].is_null());
        if local {
            for side in ["requests", "limits"] {
                assert!(
                    resources[side]["ephemeral-storage"].is_string(),
                    "{what}: {} uses emptyDirs without ephemeral-storage {side}",
                    str_of(container, "name")
                );
            }
        }
    }
}

/// Awake and asleep (the database workloads at 0 replicas), through both ApplicationSets:
/// PostgreSQL's and MongoDB's data is on a claim of the fleet's size, never an emptyDir.
#[test]
fn database_data_lives_on_claims_of_the_fleets_size_awake_and_asleep() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let mut asleep = 0;
    let mut sizes = std::collections::BTreeSet::new();
    for at in [AWAKE, ASLEEP_AT] {
        for (what, set, docs) in rendered_backends(&tools, at) {
            let claims: Vec<&Value> = docs
                .iter()
                .filter(|d| d["kind"] == "PersistentVolumeClaim")
                .collect();
            let mut persistent = 0;
            for (database, workload) in database_workloads(&docs, &set, &what) {
                assert_database_pod(workload, &what);
                assert_eq!(
                    workload["spec"]["replicas"].to_string(),
                    set["database_replicas"].as_str().unwrap_or("?"),
                    "{what}: {database} replicas"
                );
                if database == "redis" {
                    // A cache, ephemeral on purpose.
                    let on_claim = pod_spec(workload)["volumes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|v| !v["persistentVolumeClaim"].is_null());
                    assert!(!on_claim, "{what}: Redis stays ephemeral");
                    continue;
                }
                let (claim, mount) = data_claim(&docs, database, workload, &what);
                assert_claim(claim, &set, workload, &what);
                let security = &pod_spec(workload)["securityContext"];
                assert!(
                    security["fsGroup"].is_number(),
                    "{what}: {database} fsGroup"
                );
                assert_eq!(
                    security["fsGroupChangePolicy"], "OnRootMismatch",
                    "{what}: {database} ({mount})"
                );
                persistent += 1;
            }
            assert_eq!(
                claims.len(),
                persistent,
                "{what}: one claim per persistent database"
            );
            if set["database_replicas"] == "0" {
                asleep += 1;
            }
            sizes.insert(set["database_storage"].to_string());
            let problems = schemas::validate(&tools, &docs, &what, &scratch("data-schemas"));
            assert!(problems.is_empty(), "{}", problems.join("\n"));
        }
    }
    assert!(asleep > 0, "no database slept on Saturday");
    assert!(
        sizes.len() > 1,
        "the demo sizes its services' volumes differently, so the size is seen to come from the set: {sizes:?}"
    );
}

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

fn script(name: &str) -> PathBuf {
    root().join("overlays/bases/django/scripts").join(name)
}

/// A directory of stand-in commands, each a shell script.
fn stand_ins(dir: &Path, commands: &[(&str, &str)]) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    for (command, body) in commands {
        let path = bin.join(command);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
        let status = Command::new("chmod")
            .arg("+x")
            .arg(&path)
            .status()
            .expect("chmod");
        assert!(status.success());
    }
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `start-postgres.sh` hands over to the entrypoint with its arguments, keeps a complete seed
/// and removes an unfinished one; `postgres-seeded.sh` marks a seed complete.
#[test]
fn an_unfinished_seed_is_started_over_and_a_complete_one_kept() {
    let dir = scratch("data-seed");
    let volume = dir.join("volume");
    let pgdata = volume.join("pgdata");
    let log = dir.join("entrypoint.log");
    let path = stand_ins(
        &dir,
        &[(
            "docker-entrypoint.sh",
            &format!(
                "echo \"$* $(ls \"$PGDATA\" 2>/dev/null)\" >> '{}'",
                log.display()
            ),
        )],
    );
    let start = |label: &str| {
        let output = Command::new("sh")
            .arg(script("start-postgres.sh"))
            .args(["-c", "synchronous_commit=off"])
            .env("PATH", &path)
            .env("PGDATA", &pgdata)
            .output()
            .expect("run start-postgres.sh");
        assert!(output.status.success(), "{label}: {output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // A first start, and a seed cut short: PG_VERSION written, never marked complete.
    std::fs::create_dir_all(&pgdata).expect("pgdata");
    std::fs::write(pgdata.join("PG_VERSION"), "17\n").expect("write");
    let said = start("unfinished");
    assert!(!pgdata.exists(), "an unfinished seed is removed");
    assert!(said.contains("unfinished seed"), "{said}");
    // The entrypoint seeds it, and its last init script marks it complete.
    std::fs::create_dir_all(&pgdata).expect("pgdata");
    std::fs::write(pgdata.join("PG_VERSION"), "17\n").expect("write");
    let sourced = Command::new("sh")
        .arg("-c")
        .arg(format!(". '{}'", script("postgres-seeded.sh").display()))
        .env("PGDATA", &pgdata)
        .status()
        .expect("source postgres-seeded.sh");
    assert!(sourced.success());
    assert!(volume.join(".preview-tower-seeded").exists(), "marked");
    // Woken up, moved to another node: the data is kept, the seed not loaded again.
    start("complete");
    assert!(
        pgdata.join("PG_VERSION").exists(),
        "a complete seed is kept"
    );
    let calls = std::fs::read_to_string(&log).expect("entrypoint called");
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        [
            "-c synchronous_commit=off ",
            "-c synchronous_commit=off PG_VERSION"
        ],
        "the entrypoint gets the arguments, after the data directory was settled"
    );
}

/// `wait-for-schema.sh` passes once `python manage.py migrate --check` does, and gives up with
/// a clear message after its bound.
#[test]
fn the_schema_wait_passes_once_migrated_and_is_bounded() {
    let dir = scratch("data-schema");
    let attempts = dir.join("attempts");
    // Django: unapplied migrations twice, then none. `sleep` returns at once.
    let python = format!(
        "echo \"$*\" >> '{0}'; [ \"$(wc -l < '{0}')\" -ge 3 ] || {{ echo 'unapplied'; exit 1; }}",
        attempts.display()
    );
    let path = stand_ins(&dir, &[("python", &python), ("sleep", "exit 0")]);
    let run = |timeout: &str| {
        Command::new("sh")
            .arg(script("wait-for-schema.sh"))
            .env("PATH", &path)
            .env("WAIT_TIMEOUT_SECONDS", timeout)
            .output()
            .expect("run wait-for-schema.sh")
    };
    let output = run("600");
    assert!(output.status.success(), "{output:?}");
    let calls = std::fs::read_to_string(&attempts).expect("python called");
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        ["manage.py migrate --check"; 3]
    );
    std::fs::write(&attempts, "").expect("reset");
    let output = run("0");
    assert!(!output.status.success(), "gives up after its bound");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("giving up") && said.contains("unapplied"),
        "says why, with Django's output: {said}"
    );
}

/// The platform's default StorageClass: gp3 on the EBS CSI driver, bound where the pod runs,
/// deleted with the claim, expandable, encrypted; and Argo CD's health check for the claims it
/// leaves waiting while a preview sleeps names the overlays' label.
#[test]
fn the_default_storage_class_binds_where_the_pod_runs_and_deletes_with_the_claim() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let docs = documents(
        &tools
            .kustomize(&root().join("platform"))
            .expect("platform/"),
    );
    let classes: Vec<Value> = docs
        .into_iter()
        .filter(|d| d["kind"] == "StorageClass")
        .collect();
    let defaults: Vec<&Value> = classes
        .iter()
        .filter(|c| {
            c["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
        })
        .collect();
    assert_eq!(defaults.len(), 1, "one default StorageClass: {classes:?}");
    let class = defaults[0];
    assert_eq!(class["provisioner"], "ebs.csi.aws.com");
    assert_eq!(class["parameters"]["type"], "gp3");
    assert_eq!(class["parameters"]["encrypted"], "true");
    assert_eq!(class["volumeBindingMode"], "WaitForFirstConsumer");
    assert_eq!(class["reclaimPolicy"], "Delete");
    assert_eq!(class["allowVolumeExpansion"], true);
    let problems = schemas::validate(
        &tools,
        std::slice::from_ref(class),
        "platform StorageClass",
        &scratch("data-storageclass"),
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let health = documents(
        &std::fs::read_to_string(root().join("argocd/argocd-cm-pvc-health.yaml")).expect("read"),
    )
    .pop()
    .expect("a ConfigMap");
    assert_eq!(health["metadata"]["name"], "argocd-cm");
    let lua = str_of(
        &health["data"],
        "resource.customizations.health.PersistentVolumeClaim",
    );
    let label = format!("labels[\"{STORAGE_LABEL}\"] == \"database\"");
    for needed in [
        label.as_str(),
        "volume.kubernetes.io/selected-node",
        "\"Healthy\"",
        "\"Progressing\"",
    ] {
        assert!(lua.contains(needed), "the health check lacks {needed}");
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
