//! The fence of every preview namespace: its ResourceQuota and LimitRange `preview`, the most
//! replicas a service may run, and where the app's port is reached from.
//!
//! The defaults are sized from what the overlays request (docs/configuration.md, "`fence`"):
//! the Django base with Redis and MongoDB at [`Fence::DEFAULT_MAX_REPLICAS`] web pods, plus a
//! rolling update's surge pod and the migration Job, with headroom. Pure: values only.

use std::fmt;

/// What bounds each preview namespace (the fleet's `fence`).
#[derive(Clone, Debug, PartialEq)]
pub struct Fence {
    /// The ResourceQuota `preview` of every preview namespace.
    pub quota: NamespaceQuota,
    /// The LimitRange `preview`: per-container defaults and maximum.
    pub container: ContainerLimits,
    /// The most replicas any service may run (each service's `replicas` is at most this); the
    /// guardrails refuse a preview Deployment or StatefulSet with more.
    pub max_replicas: u32,
    /// Where the load balancer sends from: the app's port admits these address blocks (the
    /// ALB's subnets with `target-type: ip`), besides the previews that depend on it. Default
    /// `0.0.0.0/0`, which with the VPC CNI also admits every pod of the cluster.
    pub load_balancer_cidrs: Vec<String>,
}

impl Fence {
    /// Default [`Fence::max_replicas`].
    pub const DEFAULT_MAX_REPLICAS: u32 = 3;
}

impl Default for Fence {
    fn default() -> Self {
        Self {
            quota: NamespaceQuota::default(),
            container: ContainerLimits::default(),
            max_replicas: Self::DEFAULT_MAX_REPLICAS,
            load_balancer_cidrs: vec!["0.0.0.0/0".to_owned()],
        }
    }
}

/// The ResourceQuota of a preview namespace. `services.loadbalancers` and `services.nodeports`
/// are always 0 and not configurable.
#[derive(Clone, Debug, PartialEq)]
pub struct NamespaceQuota {
    /// `requests.cpu`: the sum of every pod's CPU requests.
    pub requests_cpu: Quantity,
    /// `requests.memory`.
    pub requests_memory: Quantity,
    /// `limits.cpu`: the sum of every pod's CPU limits.
    pub limits_cpu: Quantity,
    /// `limits.memory`.
    pub limits_memory: Quantity,
    /// `requests.storage`: the sum of every PersistentVolumeClaim's request.
    pub requests_storage: Quantity,
    /// `persistentvolumeclaims`: how many claims.
    pub persistentvolumeclaims: u32,
    /// `pods`: how many pods not yet finished (succeeded and failed pods do not count).
    pub pods: u32,
    /// `services`: how many Services.
    pub services: u32,
}

impl Default for NamespaceQuota {
    /// Peak of the Django base with Redis and MongoDB at 3 web replicas: 4 web pods (3 and a
    /// rolling update's surge), 3 databases and the migration Job, 8 pods, request 360m CPU and
    /// 1856Mi (the databases request their limits), limit 6.2 CPU and 3456Mi; the Vue base adds 10m/32Mi and 200m/64Mi.
    fn default() -> Self {
        Self {
            requests_cpu: Quantity::new_unchecked("1"),
            requests_memory: Quantity::new_unchecked("3Gi"),
            limits_cpu: Quantity::new_unchecked("8"),
            limits_memory: Quantity::new_unchecked("6Gi"),
            requests_storage: Quantity::new_unchecked("10Gi"),
            persistentvolumeclaims: 4,
            pods: 12,
            services: 8,
        }
    }
}

/// The LimitRange of a preview namespace, for containers.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerLimits {
    /// Requests of a container that sets none (`defaultRequest`).
    pub default_request: Resources,
    /// Limits of a container that sets none (`default`).
    pub default: Resources,
    /// The largest limits a container may set (`max`).
    pub max: Resources,
}

impl Default for ContainerLimits {
    /// The largest container of the bases limits 1 CPU and 512Mi (gunicorn, the migration).
    fn default() -> Self {
        Self {
            default_request: Resources::new_unchecked("50m", "64Mi"),
            default: Resources::new_unchecked("500m", "256Mi"),
            max: Resources::new_unchecked("2", "2Gi"),
        }
    }
}

/// CPU and memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Resources {
    /// CPU, e.g. `500m`.
    pub cpu: Quantity,
    /// Memory, e.g. `256Mi`.
    pub memory: Quantity,
}

impl Resources {
    fn new_unchecked(cpu: &str, memory: &str) -> Self {
        Self {
            cpu: Quantity::new_unchecked(cpu),
            memory: Quantity::new_unchecked(memory),
        }
    }
}

/// A Kubernetes quantity in the plain forms the fleet accepts: a decimal number with an
/// optional suffix (`m`, `k`, `M`, `G`, `T`, `Ki`, `Mi`, `Gi`, `Ti`), as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity(String);

/// Suffixes and their factors.
const SUFFIXES: [(&str, f64); 9] = [
    ("Ki", 1024.0),
    ("Mi", 1_048_576.0),
    ("Gi", 1_073_741_824.0),
    ("Ti", 1_099_511_627_776.0),
    ("m", 0.001),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
];

impl Quantity {
    /// Parses `text`; `None` unless it is a plain quantity.
    pub fn parse(text: &str) -> Option<Self> {
        Self::value_of(text).map(|_| Self(text.to_owned()))
    }

    fn new_unchecked(text: &str) -> Self {
        Self(text.to_owned())
    }

    /// The value in base units (cores, bytes, a count), for comparisons.
    pub fn value(&self) -> f64 {
        Self::value_of(&self.0).unwrap_or(f64::NAN)
    }

    /// The quantity as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn value_of(text: &str) -> Option<f64> {
        let (number, factor) = SUFFIXES
            .iter()
            .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, *factor)))
            .unwrap_or((text, 1.0));
        let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !digits(fraction) {
            return None;
        }
        number.parse::<f64>().ok().map(|n| n * factor)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_plain_kubernetes_quantities() {
        let value = |t: &str| Quantity::parse(t).map(|q| q.value());
        assert_eq!(value("500m"), Some(0.5));
        assert_eq!(value("2"), Some(2.0));
        assert_eq!(value("1.5"), Some(1.5));
        assert_eq!(value("64Mi"), Some(64.0 * 1_048_576.0));
        assert_eq!(value("1G"), Some(1e9));
        for bad in [
            "", "m", "1e3", "-1", "1.", ".5", "1 Gi", "1gi", "0x10", "1.5.2",
        ] {
            assert_eq!(value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_defaults_are_consistent() {
        let c = ContainerLimits::default();
        for (request, limit, max) in [
            (&c.default_request.cpu, &c.default.cpu, &c.max.cpu),
            (&c.default_request.memory, &c.default.memory, &c.max.memory),
        ] {
            assert!(request.value() <= limit.value() && limit.value() <= max.value());
        }
    }
}
