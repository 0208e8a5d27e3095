//! What a backend's and a frontend's objects must be: each database the set names, following
//! `database_replicas`, before the migration hook before the web rollout; the service's own
//! secret store; the web's connection variables and host settings; a frontend's runtime config
//! filled from the environment at start.

use serde_json::{Map, Value};

use super::env::{envsubst, expanded_env};
use super::pod_spec;
use crate::{WAVE, str_of};

const HOOK: &str = "argocd.argoproj.io/hook";

/// The images of the main containers (not the init containers).
fn main_images(doc: &Value) -> Vec<String> {
    let Some(spec) = pod_spec(doc) else {
        return Vec::new();
    };
    spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| str_of(c, "image").to_owned())
        .collect()
}

fn wave(doc: &Value) -> i64 {
    doc["metadata"]["annotations"][WAVE]
        .as_str()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0)
}

pub(super) fn assert_backend(docs: &[Value], set: &Map<String, Value>, web: &Value) {
    let namespace = set["namespace"].as_str().unwrap_or_default();
    let postgres_image = set["postgres_image"].as_str().expect("postgres_image");
    let workload_with = |pred: &dyn Fn(&str) -> bool| {
        docs.iter()
            .filter(|d| matches!(str_of(d, "kind"), "Deployment" | "StatefulSet"))
            .find(|d| main_images(d).iter().any(|i| pred(i)))
    };
    let databases = set["databases"].as_str().unwrap_or_default();
    assert!(
        databases.contains("postgres"),
        "{namespace}: the demo backends run PostgreSQL"
    );
    let mut database_workloads = Vec::new();
    for database in databases.split(',').filter(|d| !d.is_empty()) {
        let workload = match database {
            "postgres" => workload_with(&|i| i == postgres_image),
            "redis" => workload_with(&|i| i.contains("redis")),
            "mongodb" => workload_with(&|i| i.contains("mongo")),
            other => panic!("unknown database {other}"),
        };
        let workload =
            workload.unwrap_or_else(|| panic!("{namespace}: {database} runs in the preview"));
        assert_eq!(
            workload["metadata"]["labels"]["preview-tower.io/replicas"], "database",
            "{namespace}: {database} follows database_replicas, never replicas"
        );
        if database == "postgres" {
            // A Deployment recreated from the seed image: a crash-looping StatefulSet pod never
            // rolls and would keep the sync Progressing forever.
            assert_eq!(workload["kind"], "Deployment", "{namespace}: postgres");
            assert_eq!(
                workload["spec"]["strategy"]["type"], "Recreate",
                "{namespace}: postgres"
            );
        }
        database_workloads.push(workload);
    }
    let job = docs
        .iter()
        .find(|d| d["kind"] == "Job")
        .expect("the migration Job");
    assert_eq!(
        job["metadata"]["annotations"][HOOK], "Sync",
        "{namespace}: the migration is a Sync hook"
    );
    let waves: Vec<i64> = database_workloads.iter().map(|d| wave(d)).collect();
    assert!(
        waves.iter().all(|w| *w < wave(job)) && wave(job) < wave(web),
        "{namespace}: waves databases {waves:?} < migration {} < web {}",
        wave(job),
        wave(web)
    );
    let service = set["service"].as_str().unwrap_or_default();
    let secrets = docs
        .iter()
        .find(|d| d["kind"] == "ExternalSecret")
        .unwrap_or_else(|| panic!("{namespace}: app secrets from AWS"));
    assert_eq!(
        secrets["spec"]["secretStoreRef"]["name"],
        format!("aws-secrets-manager-previews-{service}"),
        "{namespace}: the service's own secret store, so a PR cannot read another service's"
    );
    // The web Deployment's environment: its own `env` and the ConfigMaps and Secrets it loads.
    let loaded = docs
        .iter()
        .filter(|d| d["kind"] == "ConfigMap" || d["kind"] == "Secret")
        .map(Value::to_string);
    let web_text: String = std::iter::once(web.to_string()).chain(loaded).collect();
    let mut variables = vec!["DATABASE_URL"];
    if databases.contains("redis") {
        variables.push("REDIS_URL");
    }
    if databases.contains("mongodb") {
        variables.push("MONGODB_URL");
    }
    for variable in variables {
        assert!(
            web_text.contains(variable),
            "{namespace}: the web Deployment gets {variable}"
        );
    }
    // Django's host settings, expanded as the kubelet does from preview-env.
    let container = &web["spec"]["template"]["spec"]["containers"][0];
    let env = &set["env"];
    let host = set["host"].as_str().unwrap_or_default();
    let url = set["url"].as_str().unwrap_or_default();
    let allowed = expanded_env(container, "DJANGO_ALLOWED_HOSTS", env).unwrap_or_default();
    assert!(
        allowed.split(',').any(|h| h == host),
        "{namespace}: ALLOWED_HOSTS {allowed:?}"
    );
    let csrf = expanded_env(container, "DJANGO_CSRF_TRUSTED_ORIGINS", env).unwrap_or_default();
    assert!(
        csrf.split(',').any(|o| o == url),
        "{namespace}: CSRF_TRUSTED_ORIGINS {csrf:?}"
    );
    let cors = expanded_env(container, "DJANGO_CORS_ALLOWED_ORIGIN_REGEXES", env)
        .unwrap_or_else(|| panic!("{namespace}: CORS origins for the preview domain"));
    let base = set["base_domain"].as_str().unwrap_or_default();
    assert!(
        cors.contains(&base.replace('.', "\\.")) || cors.contains(base),
        "{namespace}: CORS admits the preview domain: {cors:?}"
    );
}

pub(super) fn assert_frontend(docs: &[Value], set: &Map<String, Value>) {
    let namespace = set["namespace"].as_str().unwrap_or_default();
    // The runtime config: a `config.js` template that nginx fills from the environment at start.
    let template = docs
        .iter()
        .filter(|d| d["kind"] == "ConfigMap")
        .flat_map(|d| d["data"].as_object().cloned().unwrap_or_default())
        .find(|(key, _)| key.contains("config.js"))
        .and_then(|(_, value)| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("{namespace}: a config.js template in a ConfigMap"));
    let config = envsubst(&template, &set["env"]);
    let api = set["dependencies"]["api"]["url"].as_str().expect("api url");
    assert!(
        config.contains(&format!("\"{api}\"")),
        "{namespace}: config.js carries the API URL {api}:\n{config}"
    );
}
