use super::super::tests::{assert_error, fleet_yaml, parse_ok};
use crate::fleet::Fence;

fn with_fence(fence: &str) -> String {
    fleet_yaml(&format!("fence: {fence}"), "", "")
}

#[test]
fn an_absent_fence_takes_the_defaults() {
    let fleet = parse_ok(&fleet_yaml("", "", ""));
    assert_eq!(fleet.fence, Fence::default());
    assert_eq!(fleet.fence.load_balancer_cidrs, ["0.0.0.0/0"]);
}

#[test]
fn fence_values_override_each_default_on_its_own() {
    let fleet = parse_ok(&with_fence(
        "{max_replicas: 2, load_balancer_cidrs: [10.0.0.0/24, 10.0.1.0/24], \
         quota: {requests_cpu: 2, pods: 20}, container: {max: {memory: 4Gi}}}",
    ));
    let fence = fleet.fence;
    let default = Fence::default();
    assert_eq!(fence.max_replicas, 2);
    assert_eq!(fence.load_balancer_cidrs, ["10.0.0.0/24", "10.0.1.0/24"]);
    assert_eq!(fence.quota.requests_cpu.as_str(), "2");
    assert_eq!(fence.quota.pods, 20);
    assert_eq!(fence.quota.limits_memory, default.quota.limits_memory);
    assert_eq!(fence.container.max.memory.as_str(), "4Gi");
    assert_eq!(fence.container.max.cpu, default.container.max.cpu);
}

#[test]
fn fence_values_are_checked() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        ("{quota: {requests_cpu: lots}}", "fence.quota.requests_cpu", &["`lots` is not a quantity"]),
        ("{quota: {requests_cpu: 1e3}}", "fence.quota.requests_cpu", &["must be a quantity"]),
        ("{quota: {requests_cpu: '2 cores'}}", "fence.quota.requests_cpu", &["not a quantity"]),
        ("{quota: {limits_memory: true}}", "fence.quota.limits_memory", &["must be a quantity"]),
        ("{quota: {pods: -1}}", "fence.quota.pods", &["from 0 to 1000"]),
        ("{quota: {pod: 3}}", "fence.quota.pod", &["did you mean `pods`?"]),
        ("{quota: {services.loadbalancers: 1}}", "fence.quota.services.loadbalancers", &["unknown key"]),
        ("{container: {max: {cpu: 100m}}}", "fence.container", &["`cpu` must grow", "`max` (100m)"]),
        ("{container: {default_request: {memory: 1Gi}}}", "fence.container", &["`memory` must grow"]),
        ("{container: {maxi: {}}}", "fence.container.maxi", &["did you mean `max`?"]),
        ("{max_replicas: 0}", "fence.max_replicas", &["from 1 to 10"]),
        ("{load_balancer_cidrs: []}", "fence.load_balancer_cidrs", &["at least one"]),
        ("{load_balancer_cidrs: [10.0.0.1/24]}", "fence.load_balancer_cidrs[0]", &["host bits"]),
        ("{load_balancer_cidrs: [10.0.0.0/33]}", "fence.load_balancer_cidrs[0]", &["at most /32"]),
        ("{load_balancer_cidrs: [10.0.0.0]}", "fence.load_balancer_cidrs[0]", &["not an address block"]),
        ("{load_balancer_cidrs: ['fd00::/4']}", "fence.load_balancer_cidrs[0]", &["host bits"]),
        ("{limits: {}}", "fence.limits", &["unknown key"]),
    ];
    for (fence, field, words) in cases {
        assert_error(&with_fence(fence), field, words);
    }
}

#[test]
fn ipv6_blocks_and_whole_ranges_are_accepted() {
    let fleet = parse_ok(&with_fence(
        "{load_balancer_cidrs: ['fd00::/8', 0.0.0.0/0, 10.1.2.3/32]}",
    ));
    assert_eq!(fleet.fence.load_balancer_cidrs.len(), 3);
}

#[test]
fn no_service_runs_more_replicas_than_the_fence_allows() {
    let text = fleet_yaml("fence: {max_replicas: 2}", "", "overrides: {replicas: 3}");
    assert_error(
        &text,
        "fence.max_replicas",
        &["service `api` runs 3 replicas", "(2)"],
    );
    let text = fleet_yaml("defaults: {replicas: 4}", "", "");
    assert_error(
        &text,
        "fence.max_replicas",
        &["service `web` runs 4", "(3)"],
    );
    parse_ok(&fleet_yaml(
        "fence: {max_replicas: 4}\ndefaults: {replicas: 4}",
        "",
        "",
    ));
}

#[test]
fn the_quota_holds_every_service_s_database_volumes() {
    // Two volumes of 20Gi do not fit the default 10Gi: every sync of such a preview would fail.
    let text = fleet_yaml(
        "",
        "",
        "databases: [postgres, mongodb]\noverrides: {database_storage: 20Gi}",
    );
    assert_error(
        &text,
        "fence.quota.requests_storage",
        &["service `api` runs 2 database volumes of `20Gi`", "10Gi"],
    );
    let text = fleet_yaml(
        "fence: {quota: {persistentvolumeclaims: 1}}",
        "",
        "databases: [postgres, mongodb]",
    );
    assert_error(
        &text,
        "fence.quota.persistentvolumeclaims",
        &["2 database volumes", "(1)"],
    );
    parse_ok(&fleet_yaml(
        "fence: {quota: {requests_storage: 40Gi}}",
        "",
        "databases: [postgres, mongodb]\noverrides: {database_storage: 20Gi}",
    ));
}
