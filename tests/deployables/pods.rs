//! What runs inside the rendered pods: nginx with a fixed number of workers that fits its memory
//! limit, and every long-running workload that reads a Secret made by an ExternalSecret
//! restarted by Reloader when that Secret changes (a secret rotated in AWS).

use std::collections::BTreeSet;

use serde_json::Value;

use super::rendered::awake_demo_previews;
use super::{application_sets, documents, root, tools};

/// What one nginx process holds besides its connections' buffers (an idle master or worker of
/// nginx-unprivileged: 2 to 3 MiB resident).
const NGINX_PROCESS_MIB: f64 = 2.5;
/// What one connection may hold at most: a gzipped response's zlib state at nginx's defaults
/// (8 KiB + 2^17 window + 2^17 hash: `ngx_http_gzip_filter_module.c`) and its 32 × 4 KiB of
/// output buffers.
const NGINX_PER_CONNECTION_KIB: f64 = 8.0 + 128.0 + 128.0 + 128.0;

/// The value of the main-context `directive` in an nginx configuration (comments skipped),
/// one entry per occurrence.
fn directive<'a>(conf: &'a str, directive: &str) -> Vec<&'a str> {
    conf.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter_map(|l| l.strip_prefix(directive))
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .map(|rest| rest.trim().trim_end_matches(';').trim())
        .collect()
}

/// Mebibytes in a Kubernetes memory quantity of the forms the overlays use.
fn mebibytes(quantity: &str) -> f64 {
    let (number, unit) = quantity.split_at(
        quantity
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(quantity.len()),
    );
    let number: f64 = number.parse().expect("a number");
    number
        * match unit {
            "Ki" => 1.0 / 1024.0,
            "Mi" => 1.0,
            "Gi" => 1024.0,
            "" => 1.0 / (1024.0 * 1024.0),
            other => panic!("unit {other} in {quantity}"),
        }
}

/// The vue-spa preview runs one nginx worker (not one per CPU of the node), configured in the
/// file mounted over the image's nginx.conf, and its worst case fits the container's limit.
#[test]
fn the_spa_runs_one_nginx_worker_within_its_memory_limit() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let previews = awake_demo_previews(&tools, "nginx");
    let web = previews
        .iter()
        .find(|p| p.service == "web")
        .expect("the demo's Vue preview");
    let deployment = web
        .of_kind("Deployment")
        .find(|d| d["metadata"]["name"] == "app")
        .expect("Deployment app");
    let spec = &deployment["spec"]["template"]["spec"];
    let container = &spec["containers"][0];
    let mount = container["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["mountPath"] == "/etc/nginx/nginx.conf")
        .expect("nginx.conf mounted over the image's");
    let volume = spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == mount["name"])
        .expect("the mount's volume");
    let key = mount["subPath"].as_str().expect("a file, by subPath");
    let config_map = volume["configMap"]["name"].as_str().expect("a ConfigMap");
    let conf = web
        .of_kind("ConfigMap")
        .find(|c| c["metadata"]["name"] == config_map)
        .and_then(|c| c["data"][key].as_str())
        .expect("nginx.conf in its ConfigMap");
    let workers = directive(conf, "worker_processes");
    assert!(
        matches!(workers.as_slice(), ["1" | "2"]),
        "nginx.conf must fix worker_processes to 1 or 2 (the image's `auto` is one per CPU of the node): {workers:?}"
    );
    let workers: f64 = workers[0].parse().expect("a number");
    let connections: f64 = directive(conf, "worker_connections")
        .first()
        .expect("worker_connections")
        .parse()
        .expect("a number");
    let limit = mebibytes(
        container["resources"]["limits"]["memory"]
            .as_str()
            .expect("a memory limit"),
    );
    let worst = NGINX_PROCESS_MIB * (1.0 + workers)
        + workers * connections * NGINX_PER_CONNECTION_KIB / 1024.0;
    assert!(
        worst < limit,
        "{workers} workers × {connections} connections may take {worst:.0} MiB, over the {limit} MiB limit"
    );
}

/// The Secrets made by ExternalSecrets among `docs`, by name.
fn external_secrets(docs: &[Value]) -> BTreeSet<String> {
    docs.iter()
        .filter(|d| d["kind"] == "ExternalSecret")
        .map(|d| {
            d["spec"]["target"]["name"]
                .as_str()
                .or(d["metadata"]["name"].as_str())
                .expect("a name")
                .to_owned()
        })
        .collect()
}

/// The Secrets a pod template reads: envFrom, env and volumes.
fn secrets_read(pod: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for list in ["initContainers", "containers"] {
        for container in pod[list].as_array().into_iter().flatten() {
            for from in container["envFrom"].as_array().into_iter().flatten() {
                names.extend(from["secretRef"]["name"].as_str().map(str::to_owned));
            }
            for env in container["env"].as_array().into_iter().flatten() {
                let name = env["valueFrom"]["secretKeyRef"]["name"].as_str();
                names.extend(name.map(str::to_owned));
            }
        }
    }
    for volume in pod["volumes"].as_array().into_iter().flatten() {
        names.extend(volume["secret"]["secretName"].as_str().map(str::to_owned));
    }
    names
}

/// Whether Reloader restarts `workload` when the Secret `secret` changes.
fn reloaded_on(workload: &Value, secret: &str) -> bool {
    let annotations = &workload["metadata"]["annotations"];
    let listed = |key: &str| {
        annotations[key]
            .as_str()
            .is_some_and(|names| names.split(',').any(|n| n.trim() == secret))
    };
    annotations["reloader.stakater.com/auto"] == "true"
        || annotations["secret.reloader.stakater.com/auto"] == "true"
        || listed("secret.reloader.stakater.com/reload")
}

/// Problems of the workloads and ExternalSecrets in `docs` (from `origin`).
fn rotation_problems(docs: &[Value], origin: &str) -> Vec<String> {
    let made = external_secrets(docs);
    let mut problems = Vec::new();
    for external in docs.iter().filter(|d| d["kind"] == "ExternalSecret") {
        let name = &external["metadata"]["name"];
        let interval = external["spec"]["refreshInterval"].as_str().unwrap_or("");
        // Without an interval (or with `0`) the Secret is written once and never follows AWS.
        if interval.is_empty() || interval.trim_start_matches('0').is_empty() || interval == "0s" {
            problems.push(format!(
                "{origin}: ExternalSecret {name}: refreshInterval {interval:?}"
            ));
        }
        let policy = external["spec"]["refreshPolicy"]
            .as_str()
            .unwrap_or("Periodic");
        if policy != "Periodic" {
            problems.push(format!(
                "{origin}: ExternalSecret {name}: refreshPolicy {policy}"
            ));
        }
    }
    for workload in docs
        .iter()
        .filter(|d| matches!(d["kind"].as_str(), Some("Deployment" | "StatefulSet")))
    {
        let read = secrets_read(&workload["spec"]["template"]["spec"]);
        for secret in read.intersection(&made) {
            if !reloaded_on(workload, secret) {
                problems.push(format!(
                    "{origin}: {} {} reads {secret}, made by an ExternalSecret, and is not restarted when it changes",
                    workload["kind"], workload["metadata"]["name"]
                ));
            }
        }
    }
    problems
}

/// A secret rotated in AWS reaches the pods: the ExternalSecrets read AWS again periodically,
/// and Reloader restarts the Deployments that read what they write, in the previews (the
/// Django web pods; the migration Job starts anew on every sync) and preview-tower itself.
/// The ApplicationSets leave Reloader's mark on the pod template alone.
#[test]
fn workloads_reading_external_secrets_restart_when_they_change() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let mut problems = Vec::new();
    let mut checked = 0;
    for preview in awake_demo_previews(&tools, "reloader") {
        checked += external_secrets(&preview.docs).len();
        problems.extend(rotation_problems(&preview.docs, &preview.service));
    }
    let manifests = documents(
        &tools
            .kustomize(&root().join("manifests"))
            .expect("manifests/ renders"),
    );
    checked += external_secrets(&manifests).len();
    problems.extend(rotation_problems(&manifests, "manifests/"));
    assert!(
        checked >= 3,
        "the Django previews and preview-tower read ExternalSecrets"
    );
    for (file, appset) in application_sets() {
        let ignored = appset["spec"]["template"]["spec"]["ignoreDifferences"].to_string();
        if !ignored.contains("reloader.stakater.com~1last-reloaded-from") {
            problems.push(format!(
                "argocd/{file}: Reloader's restart annotation is drift to Argo CD: ignore it"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
