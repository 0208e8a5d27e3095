//! PostgreSQL's and MongoDB's data live on PersistentVolumeClaims of the fleet's size, awake and
//! asleep, through both ApplicationSets, never in an emptyDir; their pods are not disrupted by
//! Karpenter and declare the local disk they use; the default StorageClass binds where the pod
//! runs and deletes its volume with the claim.

use serde_json::Value;

use super::{
    DO_NOT_DISRUPT, STORAGE_LABEL, Set, containers, database_workloads, name, pod_spec,
    rendered_backends, volume,
};
use crate::rendered::AWAKE;
use crate::{ASLEEP_AT, WAVE, documents, root, schemas, scratch, str_of, tools};

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
