use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::Value;

use super::*;
use crate::plan::{CapacityType, PullFacts};
use crate::testing::{facts, fleet, plan_of, pr};

fn render_all(services: &[(&str, Vec<PullFacts>)], mode: Mode) -> Vec<ParamSet> {
    let fleet = fleet();
    plan_of(services)
        .previews
        .iter()
        .map(|p| render(p, &fleet, mode))
        .collect()
}

fn keys(set: &ParamSet) -> BTreeSet<&str> {
    set.keys().map(String::as_str).collect()
}

#[test]
fn every_set_carries_every_documented_key() {
    let sets = render_all(
        &[
            ("web", vec![facts(pr(1), None)]),
            ("api", vec![facts(pr(2), None)]),
            ("billing", vec![facts(pr(3), None)]),
        ],
        Mode::Full,
    );
    let documented: BTreeSet<&str> = KEYS.iter().map(|k| k.name).collect();
    assert_eq!(sets.len(), 3);
    for set in &sets {
        assert_eq!(keys(set), documented);
    }
}

#[test]
fn matrix_sets_leave_the_pull_request_generator_keys_to_it() {
    let sets = render_all(&[("web", vec![facts(pr(1), None)])], Mode::Matrix);
    let expected: BTreeSet<&str> = KEYS
        .iter()
        .filter(|k| !k.pull_request_generator)
        .map(|k| k.name)
        .collect();
    assert_eq!(keys(&sets[0]), expected);
}

#[test]
fn values_have_their_documented_types() {
    let sets = render_all(&[("web", vec![facts(pr(1), None)])], Mode::Full);
    for key in KEYS {
        let value = &sets[0][key.name];
        let ok = match key.kind {
            ValueKind::String => value.is_string(),
            ValueKind::List => value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
            ValueKind::Map => value.is_object(),
        };
        assert!(ok, "{}: {value}", key.name);
    }
}

#[test]
fn a_frontend_set_matches_its_snapshot() {
    let sets = render_all(
        &[
            (
                "web",
                vec![facts(pr(101), Some("dependencies:\n  api: pr-42\n"))],
            ),
            ("api", vec![facts(pr(42), None)]),
        ],
        Mode::Full,
    );
    insta::assert_json_snapshot!("frontend_set", sets[0]);
}

#[test]
fn a_backend_set_on_demand_matches_its_snapshot() {
    let sets = render_all(
        &[("api", vec![facts(pr(42), Some("spot: false\n"))])],
        Mode::Full,
    );
    insta::assert_json_snapshot!("backend_set_on_demand", sets[0]);
}

#[test]
fn the_patches_are_json_objects_carrying_the_env() {
    let sets = render_all(&[("web", vec![facts(pr(1), None)])], Mode::Full);
    let patch: Value = serde_json::from_str(sets[0]["env_patch"].as_str().expect("string"))
        .expect("env_patch is JSON");
    assert_eq!(patch["data"], sets[0]["env"]);
    assert_eq!(patch["data"]["API_URL"], "https://api.staging.example.com");
    let scheduling: Value =
        serde_json::from_str(sets[0]["scheduling_patch"].as_str().expect("string"))
            .expect("scheduling_patch is JSON");
    assert!(scheduling["spec"]["template"]["spec"]["affinity"].is_object());
}

#[test]
fn both_placements_pin_the_architecture_and_tolerate_the_previews_taint() {
    let fleet = fleet();
    for capacity in [CapacityType::Spot, CapacityType::OnDemand] {
        let patch: Value = serde_json::from_str(&scheduling_patch(&fleet.scheduling, capacity))
            .expect("scheduling_patch is JSON");
        let spec = &patch["spec"]["template"]["spec"];
        assert_eq!(
            spec["nodeSelector"],
            serde_json::json!({"kubernetes.io/arch": "amd64"}),
            "{capacity:?}"
        );
        assert_eq!(
            spec["tolerations"],
            serde_json::json!([{"key": "preview.example.com/preview", "operator": "Exists", "effect": "NoSchedule"}]),
            "{capacity:?}"
        );
    }
    let mut untainted = fleet.scheduling.clone();
    untainted.toleration = None;
    let patch: Value =
        serde_json::from_str(&scheduling_patch(&untainted, CapacityType::Spot)).expect("JSON");
    // No toleration: no list at all, which would replace the overlay's own.
    assert!(patch["spec"]["template"]["spec"]["tolerations"].is_null());
}

#[test]
fn docs_parameters_md_holds_the_generated_contract() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/parameters.md");
    let doc = std::fs::read_to_string(path).expect("docs/parameters.md exists");
    let begin = "<!-- BEGIN GENERATED: params::contract_table -->\n";
    let end = "<!-- END GENERATED -->";
    let table = contract_table();
    let (before, rest) = doc.split_once(begin).expect("begin marker");
    let (current, after) = rest.split_once(end).expect("end marker");
    if current != table {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, format!("{before}{begin}{table}{end}{after}")).expect("write");
        } else {
            panic!(
                "docs/parameters.md is out of date: run `UPDATE_DOCS=1 cargo test --lib params`"
            );
        }
    }
}

proptest! {
    #[test]
    fn untrusted_text_stays_in_its_own_field(
        branch in any::<String>(),
        title in any::<String>(),
        label in any::<String>(),
    ) {
        let mut p = pr(9);
        p.branch = branch.clone();
        p.title = title.clone();
        p.labels.push(label);
        let sets = render_all(&[("web", vec![facts(p, None)])], Mode::Full);
        let set = &sets[0];
        prop_assert_eq!(set["branch"].as_str(), Some(branch.as_str()));
        prop_assert_eq!(set["title"].as_str(), Some(title.as_str()));
        prop_assert_eq!(set["name"].as_str(), Some("preview-web-pr-9"));
        let slug = set["branch_slug"].as_str().unwrap_or("?");
        prop_assert!(slug.is_empty() || crate::naming::is_dns_label(slug));
        let patch: Value = serde_json::from_str(set["env_patch"].as_str().unwrap_or("")).expect("json");
        prop_assert_eq!(patch["metadata"]["name"].as_str(), Some("preview-env"));
    }
}

#[test]
fn a_private_preview_keeps_its_authentication_and_a_public_one_loses_it() {
    use crate::fleet::Access;
    let private: Value = serde_json::from_str(&access_patch(Access::Private)).expect("JSON");
    assert_eq!(private["metadata"]["name"], "preview");
    assert_eq!(private["metadata"]["labels"][ACCESS_LABEL], "private");
    assert!(private["metadata"]["annotations"].is_null(), "{private}");

    let public: Value = serde_json::from_str(&access_patch(Access::Public)).expect("JSON");
    let annotations = public["metadata"]["annotations"]
        .as_object()
        .expect("annotations");
    assert_eq!(annotations["alb.ingress.kubernetes.io/auth-type"], "none");
    assert_eq!(
        annotations["nginx.ingress.kubernetes.io/enable-global-auth"],
        "false"
    );
    // Kustomize would write a null annotation as the text "null": values only.
    assert!(annotations.values().all(Value::is_string), "{public}");
    assert_eq!(public["metadata"]["labels"][ACCESS_LABEL], "public");
}

#[test]
fn access_comes_from_the_fleet() {
    let sets = render_all(&[("web", vec![facts(pr(1), None)])], Mode::Full);
    assert_eq!(sets[0]["access"], "private");
    assert_eq!(
        sets[0]["access_patch"],
        Value::String(access_patch(crate::fleet::Access::Private))
    );
}

#[test]
fn a_sleeping_preview_moves_its_route_out_of_the_way() {
    assert_eq!(route_path(false), "/");
    assert_eq!(route_path(true), ASLEEP_PATH);
    assert!(ASLEEP_PATH.starts_with('/') && ASLEEP_PATH.len() > 1);
    // ingress-nginx's strict path validation: `^/[A-Za-z0-9/_-]*$` for Prefix paths.
    assert!(
        ASLEEP_PATH
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-')),
        "{ASLEEP_PATH}"
    );
}

#[test]
fn the_fence_patches_carry_the_fleet_fence_and_the_dependency_routes() {
    let sets = render_all(
        &[
            (
                "web",
                vec![facts(pr(101), Some("dependencies:\n  api: pr-42\n"))],
            ),
            ("api", vec![facts(pr(42), None)]),
        ],
        Mode::Full,
    );
    let patch = |set: &ParamSet, key: &str| -> Value {
        serde_json::from_str(set[key].as_str().expect("string")).expect("a JSON patch")
    };
    let fence = fleet().fence;
    let quota = patch(&sets[0], "quota_patch");
    assert_eq!(quota["metadata"]["name"], "preview");
    assert_eq!(
        quota["spec"]["hard"]["requests.cpu"],
        fence.quota.requests_cpu.as_str()
    );
    assert_eq!(quota["spec"]["hard"]["pods"], fence.quota.pods.to_string());
    assert_eq!(quota["spec"]["hard"]["services.loadbalancers"], "0");
    assert_eq!(quota["spec"]["hard"]["services.nodeports"], "0");
    let limits = patch(&sets[0], "limit_range_patch");
    assert_eq!(
        limits["spec"]["limits"][0]["max"]["memory"],
        fence.container.max.memory.as_str()
    );

    // web PR 101 calls api's PR 42 preview, and billing's staging in the namespace `staging`
    // (its in-cluster URL); api PR 42 calls billing's staging too.
    let (web, api) = (
        patch(&sets[0], "network_patch"),
        patch(&sets[1], "network_patch"),
    );
    let to = |policy: &Value| -> Vec<String> {
        policy["spec"]["egress"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                r["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                    .to_string()
            })
            .collect()
    };
    assert_eq!(to(&web), ["\"preview-api-pr-42\"", "\"staging\""]);
    assert_eq!(to(&api), ["\"staging\""]);
    let from = |policy: &Value| policy["spec"]["ingress"].to_string();
    assert!(from(&api).contains("preview-web-pr-101"), "{api}");
    assert!(
        !from(&web).contains("preview-"),
        "nobody depends on web: {web}"
    );
    assert!(from(&web).contains("0.0.0.0/0"), "the load balancer: {web}");
}
