//! `fence`: the ResourceQuota and LimitRange of every preview namespace, the most replicas a
//! service may run, and the load balancer's address blocks.

use std::net::IpAddr;

use super::cx::{Cx, quote};
use crate::fleet::{ContainerLimits, Fence, NamespaceQuota, Quantity, Resources, Service};
use crate::yaml::{Located, Node};

const FENCE_KEYS: [&str; 4] = ["quota", "container", "max_replicas", "load_balancer_cidrs"];
const QUOTA_KEYS: [&str; 8] = [
    "requests_cpu",
    "requests_memory",
    "limits_cpu",
    "limits_memory",
    "requests_storage",
    "persistentvolumeclaims",
    "pods",
    "services",
];
const CONTAINER_KEYS: [&str; 3] = ["default_request", "default", "max"];
const RESOURCE_KEYS: [&str; 2] = ["cpu", "memory"];

/// Largest count accepted in the quota: far beyond a preview, small enough to catch a typo.
const MAX_COUNT: i128 = 1_000;

/// The `fence` mapping; absent or empty: the defaults.
pub(super) fn fence(cx: &mut Cx, node: Option<&Located>) -> Option<Fence> {
    let fields = cx.fields("fence", node, &FENCE_KEYS);
    let default = Fence::default();
    let quota = quota(cx, fields.get("quota"), default.quota);
    let container = container(cx, fields.get("container"), default.container);
    let max_replicas = fields.read_optional(cx, "max_replicas", |cx, path, node| {
        cx.integer(path, node, 1, 10)
            .and_then(|n| u32::try_from(n).ok())
    });
    let cidrs = fields.read_optional(cx, "load_balancer_cidrs", cidrs);
    Some(Fence {
        quota: quota?,
        container: container?,
        max_replicas: max_replicas?.unwrap_or(default.max_replicas),
        load_balancer_cidrs: cidrs?.unwrap_or(default.load_balancer_cidrs),
    })
}

fn quota(cx: &mut Cx, node: Option<&Located>, default: NamespaceQuota) -> Option<NamespaceQuota> {
    let fields = cx.fields("fence.quota", node, &QUOTA_KEYS);
    let mut amount = |key: &str, default: Quantity| {
        fields
            .read_optional(cx, key, quantity)
            .map(|q| q.unwrap_or(default))
    };
    let requests_cpu = amount("requests_cpu", default.requests_cpu);
    let requests_memory = amount("requests_memory", default.requests_memory);
    let limits_cpu = amount("limits_cpu", default.limits_cpu);
    let limits_memory = amount("limits_memory", default.limits_memory);
    let requests_storage = amount("requests_storage", default.requests_storage);
    let mut count = |key: &str, default: u32| {
        fields
            .read_optional(cx, key, |cx, path, node| {
                cx.integer(path, node, 0, MAX_COUNT)
                    .and_then(|n| u32::try_from(n).ok())
            })
            .map(|n| n.unwrap_or(default))
    };
    let persistentvolumeclaims = count("persistentvolumeclaims", default.persistentvolumeclaims);
    let pods = count("pods", default.pods);
    let services = count("services", default.services);
    Some(NamespaceQuota {
        requests_cpu: requests_cpu?,
        requests_memory: requests_memory?,
        limits_cpu: limits_cpu?,
        limits_memory: limits_memory?,
        requests_storage: requests_storage?,
        persistentvolumeclaims: persistentvolumeclaims?,
        pods: pods?,
        services: services?,
    })
}

fn container(
    cx: &mut Cx,
    node: Option<&Located>,
    default: ContainerLimits,
) -> Option<ContainerLimits> {
    let fields = cx.fields("fence.container", node, &CONTAINER_KEYS);
    let mut read = |key: &str, default: Resources| {
        let path = fields.path(key);
        resources(cx, &path, fields.get(key), default)
    };
    let default_request = read("default_request", default.default_request);
    let default_limits = read("default", default.default);
    let max = read("max", default.max);
    let limits = ContainerLimits {
        default_request: default_request?,
        default: default_limits?,
        max: max?,
    };
    // The API server refuses a LimitRange whose defaults exceed its maximum.
    let ordered = |pick: fn(&Resources) -> &Quantity| {
        let [request, limit, max] =
            [&limits.default_request, &limits.default, &limits.max].map(|r| pick(r).value());
        request <= limit && limit <= max
    };
    for (name, pick) in [
        (
            "cpu",
            (|r: &Resources| &r.cpu) as fn(&Resources) -> &Quantity,
        ),
        ("memory", |r: &Resources| &r.memory),
    ] {
        if !ordered(pick) {
            let message = format!(
                "`{name}` must grow from `default_request` ({}) to `default` ({}) to `max` ({}): the API server refuses the LimitRange otherwise",
                pick(&limits.default_request),
                pick(&limits.default),
                pick(&limits.max)
            );
            cx.error("fence.container", node, message);
            return None;
        }
    }
    Some(limits)
}

fn resources(
    cx: &mut Cx,
    path: &str,
    node: Option<&Located>,
    default: Resources,
) -> Option<Resources> {
    let fields = cx.fields(path, node, &RESOURCE_KEYS);
    let cpu = fields.read_optional(cx, "cpu", quantity);
    let memory = fields.read_optional(cx, "memory", quantity);
    Some(Resources {
        cpu: cpu?.unwrap_or(default.cpu),
        memory: memory?.unwrap_or(default.memory),
    })
}

/// A quantity: text (`500m`, `2Gi`) or a whole number (`2`).
fn quantity(cx: &mut Cx, path: &str, node: &Located) -> Option<Quantity> {
    let text = match &node.value {
        Node::Int(n) => n.to_string(),
        Node::Str(text) => text.clone(),
        other => {
            let message = format!(
                "must be a quantity, found {}: e.g. `500m`, `2` or `2Gi`",
                other.kind()
            );
            cx.error(path, Some(node), message);
            return None;
        }
    };
    let parsed = Quantity::parse(&text);
    if parsed.is_none() {
        let message = format!(
            "{} is not a quantity: write a number with an optional suffix, e.g. `500m`, `2` or `2Gi` (suffixes m, k, M, G, T, Ki, Mi, Gi, Ti)",
            quote(&text)
        );
        cx.error(path, Some(node), message);
    }
    parsed
}

fn cidrs(cx: &mut Cx, path: &str, node: &Located) -> Option<Vec<String>> {
    let items = cx.list(path, node)?;
    let mut out = Vec::new();
    let mut valid = true;
    for (i, item) in items.iter().enumerate() {
        let item_path = super::cx::index(path, i);
        match cx.checked_text(&item_path, item, cidr) {
            Some(text) => out.push(text),
            None => valid = false,
        }
    }
    if valid && out.is_empty() {
        let message = "must list at least one address block: the load balancer could reach no preview (write `0.0.0.0/0` to admit any address)";
        cx.error(path, Some(node), message);
        return None;
    }
    valid.then_some(out)
}

/// An IPv4 or IPv6 block, `address/prefix`, with no host bits set.
fn cidr(text: &str) -> Result<(), String> {
    let fix = "write an address block such as `10.0.0.0/24`";
    let Some((address, prefix)) = text.split_once('/') else {
        return Err(format!("{} is not an address block: {fix}", quote(text)));
    };
    let (Ok(address), Ok(prefix)) = (address.parse::<IpAddr>(), prefix.parse::<u8>()) else {
        return Err(format!("{} is not an address block: {fix}", quote(text)));
    };
    let (bits, max) = match address {
        IpAddr::V4(a) => (u128::from(u32::from(a)) << 96, 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    if prefix > max {
        return Err(format!("{}: the prefix is at most /{max}", quote(text)));
    }
    // The address is aligned to the top bits: what is left after the prefix is the host part.
    let host_bits = bits.checked_shl(u32::from(prefix)).unwrap_or(0);
    if host_bits != 0 {
        return Err(format!(
            "{} has host bits set: write the block's first address",
            quote(text)
        ));
    }
    Ok(())
}

/// Every service's `replicas` within `max_replicas`.
pub(super) fn check_replicas(
    cx: &mut Cx,
    node: Option<&Located>,
    fence: &Fence,
    services: &[Service],
) {
    for service in services
        .iter()
        .filter(|s| s.policy.replicas > fence.max_replicas)
    {
        let message = format!(
            "service `{}` runs {} replicas, more than `max_replicas` ({}): raise `fence.max_replicas` (and the quota's room for them) or lower its `replicas`",
            service.name, service.policy.replicas, fence.max_replicas
        );
        cx.error("fence.max_replicas", node, message);
    }
}

/// Every service's database volumes within the namespace quota: each claim asks for
/// `database_storage`, and a quota that cannot hold them all fails every sync of the preview.
pub(super) fn check_storage(
    cx: &mut Cx,
    node: Option<&Located>,
    fence: &Fence,
    services: &[Service],
) {
    use crate::fleet::Database;
    for service in services {
        let claims = service
            .databases
            .iter()
            .filter(|d| matches!(d, Database::Postgres | Database::Mongodb))
            .count();
        if claims == 0 {
            continue;
        }
        let size = &service.policy.database_storage;
        #[allow(clippy::cast_precision_loss)]
        let needed = size.bytes() as f64 * claims as f64;
        let quota = &fence.quota;
        if u32::try_from(claims).is_ok_and(|c| c > quota.persistentvolumeclaims) {
            let message = format!(
                "service `{}` runs {claims} database volumes, more than `quota.persistentvolumeclaims` ({})",
                service.name, quota.persistentvolumeclaims
            );
            cx.error("fence.quota.persistentvolumeclaims", node, message);
        }
        if needed > quota.requests_storage.value() {
            let message = format!(
                "service `{}` runs {claims} database volumes of `{}`, more than `quota.requests_storage` ({}) holds: raise it or lower `database_storage`",
                service.name,
                size.as_str(),
                quota.requests_storage
            );
            cx.error("fence.quota.requests_storage", node, message);
        }
    }
}

#[cfg(test)]
mod tests;
