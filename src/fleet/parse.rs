//! Parsing and validation of the fleet file ([`Fleet::from_yaml`]).
//!
//! The text is loaded into a located YAML tree (see `yaml.rs`), then every key is
//! read by hand against the schema of `docs/configuration.md`: unknown keys are errors (with a
//! "did you mean"), values are checked one by one, and the rules that span keys (unique names,
//! acyclic dependencies, distinct environment variables, unique hosts, TTL bounds, host and
//! namespace lengths) are checked on the result. Every error found is returned, each naming its
//! field as a path (`services[1].dependencies[0]`) with its line, and saying how to fix it.
//! Never panics, whatever the text.

mod appsets;
mod cx;
mod cycles;
mod env;
mod fence;
mod host;
mod hours;
mod links;
mod policy;
mod quota;
mod rules;
mod service;
mod storage;

use std::fmt;
use std::time::Duration;

use self::cx::{Cx, Fields, quote};
use self::policy::{HostCheck, MAX_PR_NUMBER};
use super::{Fleet, NodePool, Scheduling, Service, Toleration};
use crate::naming::ServiceName;
use crate::naming::{MAX_LABEL_LEN, is_dns_label, is_dns_name};
use crate::yaml::{self, Located, did_you_mean};

/// Why the fleet file is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FleetError {
    /// The field at fault, as a path (`services[1].dependencies`); empty for the whole file.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
    /// 1-based line of the field (or of the mapping missing it), when known.
    pub line: Option<u32>,
}

impl fmt::Display for FleetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.field.is_empty(), self.line) {
            (true, Some(line)) => write!(f, "line {line}: {}", self.message),
            (true, None) => f.write_str(&self.message),
            (false, Some(line)) => write!(f, "{} (line {line}): {}", self.field, self.message),
            (false, None) => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// PostgreSQL for backends without a seed image: the official image, from ECR Public (no Docker
/// Hub rate limit on EKS).
const DEFAULT_POSTGRES_IMAGE: &str = "public.ecr.aws/docker/library/postgres:17-trixie";

const ROOT_KEYS: [&str; 15] = [
    "base_domain",
    "github_url",
    "postgres_image",
    "namespace_prefix",
    "repo_config_path",
    "refresh_interval",
    "refresh_interval_with_webhooks",
    "applicationsets",
    "scheduling",
    "quota",
    "fence",
    "currency",
    "links",
    "defaults",
    "services",
];
const SCHEDULING_KEYS: [&str; 7] = [
    "capacity_type_label",
    "spot_value",
    "on_demand_value",
    "toleration",
    "spot_toleration",
    "architecture",
    "node_pool",
];
const NODE_POOL_KEYS: [&str; 2] = ["label", "value"];
/// The architectures of EKS nodes, as `kubernetes.io/arch` names them.
const ARCHITECTURES: [&str; 2] = ["amd64", "arm64"];
const TOLERATION_KEYS: [&str; 3] = ["key", "value", "effect"];
const EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// Shortest refresh interval: listing every repo more often would burn the GitHub rate limit.
const MIN_REFRESH: Duration = Duration::from_secs(10);
/// Default poll interval when webhooks are configured: they wake refreshes at once, so polling
/// only catches a lost delivery.
const DEFAULT_REFRESH_WITH_WEBHOOKS: Duration = Duration::from_secs(600);

/// Limits for loading the fleet file: operator-written, but still bounded.
const LIMITS: yaml::Limits = yaml::Limits {
    max_depth: 32,
    max_nodes: 100_000,
    max_aliases: 10_000,
    max_replayed_events: 100_000,
    merge_keys: true,
};

impl Fleet {
    /// Parses and validates a fleet file, returning every error found, in file order.
    pub fn from_yaml(text: &str) -> Result<Fleet, Vec<FleetError>> {
        let root = match yaml::load(text, LIMITS) {
            Ok(Some(root)) => root,
            Ok(None) => {
                return Err(vec![whole_file(
                    None,
                    "the fleet file is empty: see docs/configuration.md",
                )]);
            }
            Err(err) => {
                return Err(vec![whole_file(
                    err.line,
                    &format!("invalid YAML: {}", err.message),
                )]);
            }
        };
        let mut cx = Cx::default();
        if !matches!(root.value, yaml::Node::Map(_)) {
            let message = format!(
                "the fleet file must be a mapping, found {}",
                root.value.kind()
            );
            return Err(vec![whole_file(yaml::position(&root).0, &message)]);
        }
        let fields = cx.fields("", Some(&root), &ROOT_KEYS);
        let fleet = fleet(&mut cx, &fields);
        match fleet {
            Some(fleet) if cx.errors.is_empty() => Ok(fleet),
            // Every rejected value records an error; this guards the guarantee of a non-empty list.
            _ if cx.errors.is_empty() => Err(vec![whole_file(None, "the fleet file is invalid")]),
            _ => {
                // Stable: errors on the same line keep the order of the checks.
                let mut errors = cx.errors;
                errors.sort_by_key(|e| e.line.unwrap_or(u32::MAX));
                Err(errors)
            }
        }
    }
}

fn whole_file(line: Option<u32>, message: &str) -> FleetError {
    FleetError {
        field: String::new(),
        message: message.to_owned(),
        line,
    }
}

fn fleet(cx: &mut Cx, fields: &Fields<'_>) -> Option<Fleet> {
    let base_domain = fields.read_required(cx, "base_domain", "preview.example.com", base_domain);
    let github_url = fields.read_optional(cx, "github_url", service::url);
    let postgres_image = fields.read_optional(cx, "postgres_image", |cx, path, node| {
        cx.checked_text(path, node, rules::tagged_image)
    });
    let namespace_prefix = fields.read_optional(cx, "namespace_prefix", namespace_prefix);
    let repo_config_path = fields.read_optional(cx, "repo_config_path", repo_config_path);
    let with_webhooks =
        fields.read_optional(cx, "refresh_interval_with_webhooks", refresh_interval);
    let refresh_interval = fields.read_optional(cx, "refresh_interval", refresh_interval);
    let applicationsets = fields.read_optional(cx, "applicationsets", appsets::names);
    let scheduling = scheduling(cx, fields.get("scheduling"));
    let quota = quota::quota(cx, fields.get("quota"));
    let fence = fence::fence(cx, fields.get("fence"));
    let currency = fields.read_optional(cx, "currency", quota::currency);
    let links = links::links(cx, fields.get("links"));
    let defaults = policy::layer(cx, "defaults", fields.get("defaults"));
    // An invalid top-level list is reported; the services are checked against the default.
    let default_appsets = applicationsets
        .clone()
        .flatten()
        .unwrap_or_else(appsets::default_names);
    let context = service::Context {
        defaults: &defaults,
        base_domain: base_domain.as_deref(),
        applicationsets: &default_appsets,
    };
    let services = fields.read_required(cx, "services", "[{name: web, ...}]", |cx, _, node| {
        service::services(cx, node, &context)
    });
    let valid_services = services.as_deref().unwrap_or_default();
    check_defaults(cx, &defaults, valid_services, base_domain.as_deref());
    let services = services?;
    if let Some(Some(top_level)) = &applicationsets {
        appsets::check_some_named(cx, fields.get("applicationsets"), top_level, &services);
    }
    let namespace_prefix = namespace_prefix?.unwrap_or_else(|| "preview".to_owned());
    let prefix_node = fields.get("namespace_prefix");
    check_prefix_room(cx, prefix_node, &namespace_prefix, &services);
    if let Some(fence) = &fence {
        let node = fields.get("fence");
        fence::check_replicas(cx, node, fence, &services);
        fence::check_storage(cx, node, fence, &services);
    }
    Some(Fleet {
        base_domain: base_domain?,
        github_url: github_url?.or_else(|| url::Url::parse("https://github.com").ok())?,
        postgres_image: postgres_image?.unwrap_or_else(|| DEFAULT_POSTGRES_IMAGE.to_owned()),
        namespace_prefix,
        repo_config_path: repo_config_path?.unwrap_or_else(|| ".preview.yaml".to_owned()),
        refresh_interval: refresh_interval?.unwrap_or(Duration::from_secs(60)),
        refresh_interval_with_webhooks: with_webhooks?.unwrap_or(DEFAULT_REFRESH_WITH_WEBHOOKS),
        applicationsets: applicationsets?.unwrap_or_else(appsets::default_names),
        scheduling: scheduling?,
        quota: quota?,
        fence: fence?,
        currency: currency?.unwrap_or_else(|| "USD".to_owned()),
        links: links?,
        services,
    })
}

fn base_domain(cx: &mut Cx, path: &str, node: &Located) -> Option<String> {
    cx.checked_text(path, node, |text| {
        if is_dns_name(text) {
            return Ok(());
        }
        Err(format!(
            "{} is not a DNS name: write lowercase labels separated by dots, e.g. `preview.example.com`",
            quote(text)
        ))
    })
}

fn namespace_prefix(cx: &mut Cx, path: &str, node: &Located) -> Option<String> {
    cx.checked_text(path, node, |text| {
        if is_dns_label(text) {
            return Ok(());
        }
        Err(format!(
            "{} is not a DNS label: use lowercase letters, digits and `-`, e.g. `preview`",
            quote(text)
        ))
    })
}

fn repo_config_path(cx: &mut Cx, path: &str, node: &Located) -> Option<String> {
    cx.checked_text(path, node, rules::relative_path)
}

fn refresh_interval(cx: &mut Cx, path: &str, node: &Located) -> Option<Duration> {
    let interval = cx.duration(path, node)?;
    if interval >= MIN_REFRESH {
        return Some(interval);
    }
    let message = format!(
        "`{}` is too often: at least `{}`, to spare GitHub's rate limit",
        yaml::short_duration(interval),
        yaml::short_duration(MIN_REFRESH)
    );
    cx.error(path, Some(node), message);
    None
}

fn scheduling(cx: &mut Cx, node: Option<&Located>) -> Option<Scheduling> {
    let fields = cx.fields("scheduling", node, &SCHEDULING_KEYS);
    let label_key =
        |cx: &mut Cx, path: &str, node: &Located| cx.checked_text(path, node, rules::label_key);
    let label_value =
        |cx: &mut Cx, path: &str, node: &Located| cx.checked_text(path, node, rules::label_value);
    let capacity_type_label = fields.read_optional(cx, "capacity_type_label", label_key);
    let spot_value = fields.read_optional(cx, "spot_value", label_value);
    let on_demand_value = fields.read_optional(cx, "on_demand_value", label_value);
    // `spot_toleration` is the old name of `toleration`, from when only spot previews
    // tolerated the taint: still read, never both.
    let old_name = fields.get("spot_toleration");
    if old_name.is_some() && fields.get("toleration").is_some() {
        let message = "is the old name of `toleration`, which is set too: keep only `toleration`";
        cx.error(&fields.path("spot_toleration"), old_name, message);
    }
    let key = if old_name.is_some() {
        "spot_toleration"
    } else {
        "toleration"
    };
    let toleration = fields.read_optional(cx, key, toleration);
    let architecture = fields.read_optional(cx, "architecture", architecture);
    let node_pool = fields.read_optional(cx, "node_pool", node_pool);
    Some(Scheduling {
        capacity_type_label: capacity_type_label?
            .unwrap_or_else(|| "karpenter.sh/capacity-type".to_owned()),
        spot_value: spot_value?.unwrap_or_else(|| "spot".to_owned()),
        on_demand_value: on_demand_value?.unwrap_or_else(|| "on-demand".to_owned()),
        toleration: toleration?,
        architecture: architecture?.unwrap_or_else(|| "amd64".to_owned()),
        node_pool: node_pool?,
    })
}

fn node_pool(cx: &mut Cx, path: &str, node: &Located) -> Option<NodePool> {
    let fields = cx.fields(path, Some(node), &NODE_POOL_KEYS);
    let label = fields.read_required(cx, "label", "karpenter.sh/nodepool", |cx, path, node| {
        cx.checked_text(path, node, rules::label_key)
    });
    let value = fields.read_required(cx, "value", "previews", |cx, path, node| {
        cx.checked_text(path, node, rules::label_value)
    });
    Some(NodePool {
        label: label?,
        value: value?,
    })
}

fn architecture(cx: &mut Cx, path: &str, node: &Located) -> Option<String> {
    cx.checked_text(path, node, |text| {
        if ARCHITECTURES.contains(&text) {
            return Ok(());
        }
        let fix = did_you_mean(text, ARCHITECTURES)
            .map_or(String::new(), |c| format!("did you mean `{c}`? "));
        Err(format!(
            "{} is not an architecture of EKS nodes: {fix}use `amd64` (x86_64) or `arm64` (Graviton), the one CI builds the images for",
            quote(text)
        ))
    })
}

fn toleration(cx: &mut Cx, path: &str, node: &Located) -> Option<Toleration> {
    let fields = cx.fields(path, Some(node), &TOLERATION_KEYS);
    let key = fields.read_required(cx, "key", "preview-tower.io/preview", |cx, path, node| {
        cx.checked_text(path, node, rules::label_key)
    });
    let value = fields.read_optional(cx, "value", |cx, path, node| {
        cx.checked_text(path, node, rules::label_value)
    });
    let effect = fields.read_required(cx, "effect", "NoSchedule", effect);
    Some(Toleration {
        key: key?,
        value: value?,
        effect: effect?,
    })
}

fn effect(cx: &mut Cx, path: &str, node: &Located) -> Option<String> {
    cx.checked_text(path, node, |text| {
        if EFFECTS.contains(&text) {
            return Ok(());
        }
        let fix =
            did_you_mean(text, EFFECTS).map_or(String::new(), |c| format!("did you mean `{c}`? "));
        Err(format!(
            "{} is not a taint effect: {fix}use `NoSchedule`, `PreferNoSchedule` or `NoExecute`",
            quote(text)
        ))
    })
}

/// Checks the defaults on their own, the host pattern with the longest service name.
fn check_defaults(
    cx: &mut Cx,
    defaults: &policy::Layer,
    services: &[Service],
    base_domain: Option<&str>,
) {
    let host = match (longest_name(services), base_domain) {
        (Some(service), Some(base_domain)) => Some(HostCheck {
            service,
            base_domain,
        }),
        _ => None,
    };
    let _ = policy::resolve(cx, defaults, &policy::Layer::default(), host);
}

/// Checks that `<prefix>-<service>-pr-<number>` fits a DNS label for every service.
fn check_prefix_room(cx: &mut Cx, node: Option<&Located>, prefix: &str, services: &[Service]) {
    let Some(longest) = longest_name(services) else {
        return;
    };
    let needed = longest_name_len(prefix, longest);
    if needed <= MAX_LABEL_LEN {
        return;
    }
    let room = MAX_LABEL_LEN.saturating_sub(needed - prefix.len());
    let message = format!(
        "{} leaves no room for service `{longest}`: `{prefix}-{longest}-pr-{MAX_PR_NUMBER}` would be {needed} characters, over {MAX_LABEL_LEN}; shorten the prefix to at most {room} characters or the service name",
        quote(prefix)
    );
    cx.error("namespace_prefix", node, message);
}

/// The longest service name, the first one in file order among equals.
fn longest_name(services: &[Service]) -> Option<&ServiceName> {
    services
        .iter()
        .rev()
        .map(|s| &s.name)
        .max_by_key(|name| name.as_str().len())
}

fn longest_name_len(prefix: &str, service: &ServiceName) -> usize {
    prefix.len() + 1 + service.as_str().len() + "-pr-".len() + MAX_PR_NUMBER.to_string().len()
}

#[cfg(test)]
mod tests;
