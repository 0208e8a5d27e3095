//! The contract with Argo CD: one parameter set per preview.
//!
//! [`KEYS`] is the contract: every key, its type and meaning. [`render`] turns a planned
//! [`Preview`] into a [`ParamSet`] carrying exactly those keys, so that `missingkey=error`
//! templates never fail; `docs/parameters.md` is generated from [`KEYS`] and a test keeps it in
//! step. Values are strings except the few maps and lists marked so, for `goTemplate` users.
//! Untrusted text (branch, title, labels) only ever appears as a JSON string value, never spliced
//! into another value's syntax. Pure.

mod access;
mod fence;
mod keys;
mod scheduling;

use serde_json::{Map, Value, json};

use crate::fleet::{Fleet, Service};
use crate::naming;
use crate::plan::Preview;

pub use access::{ACCESS_LABEL, ASLEEP_PATH, OPEN_ANNOTATIONS, access_patch, route_path};
pub use fence::{in_cluster_namespace, limit_range_patch, network_patch, quota_patch};
pub use keys::{KEYS, ParamKey, ValueKind, contract_table};
pub use scheduling::scheduling_patch;

/// One parameter set, as sent to Argo CD.
pub type ParamSet = Map<String, Value>;

/// How a set is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The plugin alone generates the Applications: every key.
    Full,
    /// The plugin is the second child of a matrix after Argo CD's pullRequest generator: the keys
    /// that generator already emits are left out, so that fasttemplate AppSets do not fail on
    /// duplicate keys and goTemplate ones keep the generator's values.
    Matrix,
}

/// Renders `preview` of `fleet` as a parameter set.
pub fn render(preview: &Preview, fleet: &Fleet, mode: Mode) -> ParamSet {
    let Some(service) = fleet.service(preview.service.as_str()) else {
        return ParamSet::new();
    };
    let mut set = ParamSet::new();
    let mut put = |key: &str, value: Value| {
        set.insert(key.to_owned(), value);
    };
    if mode == Mode::Full {
        pull_request_params(preview, &mut put);
    }
    let env = env(preview, fleet);
    let seed_tag = preview.seed_tag().unwrap_or("");
    let repo_url = format!(
        "{}/{}",
        crate::plan::url_text(&fleet.github_url),
        service.repo
    );
    put("revision", json!(preview.revision));
    put("service", json!(preview.service));
    put("repo", json!(service.repo.to_string()));
    put(
        "pr_url",
        json!(format!("{repo_url}/pull/{}", preview.pr.number)),
    );
    put("repo_url", json!(format!("{repo_url}.git")));
    put("kind", json!(service.kind.as_str()));
    put("overlay_path", json!(service.overlay_path));
    put("name", json!(preview.name));
    put("namespace", json!(preview.name));
    put("host", json!(preview.host));
    put("url", json!(preview.url));
    put("internal_url", json!(preview.internal_url));
    put(
        "image",
        json!(format!("{}:{}", service.image, preview.revision)),
    );
    put("image_repository", json!(service.image));
    put("image_tag", json!(preview.revision));
    put(
        "seed_image",
        json!(preview.seed_image.as_deref().unwrap_or("")),
    );
    put("seed_tag", json!(seed_tag));
    put(
        "postgres_image",
        json!(
            preview
                .seed_image
                .as_deref()
                .unwrap_or(&fleet.postgres_image)
        ),
    );
    put("base_domain", json!(fleet.base_domain));
    put("databases", json!(databases(service)));
    put("capacity_type", json!(preview.capacity.as_str()));
    put(
        "capacity_type_label",
        json!(fleet.scheduling.capacity_type_label),
    );
    put("capacity_type_value", json!(capacity_value(fleet, preview)));
    put(
        "scheduling_patch",
        json!(scheduling_patch(&fleet.scheduling, preview.capacity)),
    );
    put("replicas", json!(preview.replicas.to_string()));
    put("database_replicas", json!(database_replicas(preview)));
    put("quota_patch", json!(quota_patch(&fleet.fence)));
    put("limit_range_patch", json!(limit_range_patch(&fleet.fence)));
    put("network_patch", json!(network_patch(preview, fleet)));
    put(
        "database_storage",
        json!(service.policy.database_storage.as_str()),
    );
    put(
        "ttl",
        json!(humantime::format_duration(preview.ttl).to_string()),
    );
    put(
        "expires_at",
        json!(
            preview
                .expires_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        ),
    );
    put("access", json!(service.policy.access.as_str()));
    put("access_patch", json!(access_patch(service.policy.access)));
    put("route_path", json!(route_path(preview.asleep)));
    put("config_source", json!(preview.config.source.as_str()));
    put("dependencies", dependencies(preview));
    put("env_patch", json!(env_patch(&env)));
    put("env", Value::Object(env));
    set
}

fn pull_request_params(preview: &Preview, put: &mut impl FnMut(&str, Value)) {
    let pr = &preview.pr;
    // The deployed commit, not the listed head: they differ only while the head's image is
    // being built, and a template using `head_sha` as its tag must not deploy it yet.
    let sha = preview.revision.as_str();
    put("number", json!(pr.number.to_string()));
    put("branch", json!(pr.branch));
    put(
        "branch_slug",
        json!(naming::slug(&pr.branch, naming::MAX_SLUG_LEN)),
    );
    put("target_branch", json!(pr.target_branch));
    put(
        "target_branch_slug",
        json!(naming::slug(&pr.target_branch, naming::MAX_SLUG_LEN)),
    );
    put("head_sha", json!(sha));
    put("head_short_sha", json!(naming::short_sha(sha, 8)));
    put("head_short_sha_7", json!(naming::short_sha(sha, 7)));
    put("author", json!(pr.author));
    put("title", json!(pr.title));
    put("labels", json!(pr.labels));
}

/// One instance of each database while the app runs, none while it sleeps: databases are never
/// scaled out (each replica would be a separate database).
fn database_replicas(preview: &Preview) -> &'static str {
    if preview.replicas == 0 { "0" } else { "1" }
}

fn databases(service: &Service) -> String {
    let names: Vec<&str> = service.databases.iter().map(|d| d.as_str()).collect();
    names.join(",")
}

fn capacity_value<'a>(fleet: &'a Fleet, preview: &Preview) -> &'a str {
    match preview.capacity {
        crate::plan::CapacityType::Spot => &fleet.scheduling.spot_value,
        crate::plan::CapacityType::OnDemand => &fleet.scheduling.on_demand_value,
    }
}

fn dependencies(preview: &Preview) -> Value {
    let deps: Map<String, Value> = preview
        .dependencies
        .iter()
        .map(|d| {
            let value = json!({
                "url": d.url,
                "internal_url": d.internal_url,
                "route": d.route_label(),
            });
            (d.service.to_string(), value)
        })
        .collect();
    Value::Object(deps)
}

fn env(preview: &Preview, fleet: &Fleet) -> Map<String, Value> {
    let own = [
        preview.service.to_string(),
        preview.pr.number.to_string(),
        preview.host.clone(),
        preview.url.clone(),
        preview.revision.clone(),
        fleet.base_domain.clone(),
        preview.replicas.to_string(),
    ];
    let mut env: Map<String, Value> = naming::PREVIEW_ENV
        .iter()
        .zip(own)
        .map(|(name, value)| ((*name).to_owned(), json!(value)))
        .collect();
    for dep in &preview.dependencies {
        let [url, internal_url, route] = naming::dependency_env(dep.service.as_str());
        env.insert(url, json!(dep.url));
        env.insert(internal_url, json!(dep.internal_url));
        env.insert(route, json!(dep.route_label()));
    }
    env
}

fn env_patch(env: &Map<String, Value>) -> String {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "preview-env"},
        "data": env,
    })
    .to_string()
}

#[cfg(test)]
mod tests;
