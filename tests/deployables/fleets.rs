//! The deployed fleet is the documented example, its Role may patch every ApplicationSet it
//! refreshes, and the shipped fleets name every ApplicationSet shipped in `argocd/`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{application_sets, documents, root};

#[test]
fn the_deployed_fleet_is_the_documented_example() {
    let deployed = std::fs::read_to_string(root().join("manifests/fleet.yaml")).expect("read");
    let documented =
        std::fs::read_to_string(root().join("docs/examples/fleet.yaml")).expect("read");
    assert_eq!(
        deployed, documented,
        "manifests/fleet.yaml drifted from docs/examples/fleet.yaml"
    );
}

#[test]
fn the_role_may_patch_every_applicationset_the_deployed_fleet_refreshes() {
    let text = std::fs::read_to_string(root().join("manifests/fleet.yaml")).expect("read");
    let fleet = preview_tower::fleet::Fleet::from_yaml(&text).expect("valid fleet");
    let wanted: BTreeSet<&str> = fleet
        .services
        .iter()
        .flat_map(|s| s.applicationsets.iter().map(String::as_str))
        .collect();
    let rbac = std::fs::read_to_string(root().join("manifests/rbac.yaml")).expect("read");
    let role = documents(&rbac)
        .into_iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["namespace"] == "argocd")
        .expect("the Role in argocd");
    let rules = role["rules"].as_array().expect("rules");
    let rule = rules
        .iter()
        .find(|r| r["resources"] == serde_json::json!(["applicationsets"]))
        .expect("a rule on applicationsets");
    let granted: BTreeSet<&str> = rule["resourceNames"]
        .as_array()
        .expect("resourceNames")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        wanted.is_subset(&granted),
        "manifests/rbac.yaml grants patch on {granted:?}, the fleet refreshes {wanted:?}"
    );
    assert!(
        rule["verbs"]
            .as_array()
            .expect("verbs")
            .contains(&"patch".into())
    );
    let shipped: BTreeSet<String> = application_sets()
        .iter()
        .filter_map(|(_, a)| a["metadata"]["name"].as_str().map(str::to_owned))
        .collect();
    assert!(
        wanted.iter().all(|n| shipped.contains(*n)),
        "{wanted:?} not all in argocd/: {shipped:?}"
    );
}

/// The plugin answers only the ApplicationSets its fleet names: every ApplicationSet shipped in
/// `argocd/` must be named by the deployed fleet and by the demo's, or Argo CD gets a 400.
#[test]
fn every_shipped_applicationset_is_answered_by_the_shipped_fleets() {
    let text = std::fs::read_to_string(root().join("manifests/fleet.yaml")).expect("read");
    let deployed = preview_tower::fleet::Fleet::from_yaml(&text).expect("valid fleet");
    let demo = preview_tower::demo::fleet().expect("demo fleet");
    for (origin, fleet) in [("manifests/fleet.yaml", deployed), ("the demo fleet", demo)] {
        let named: BTreeSet<&str> = fleet
            .applicationsets
            .iter()
            .chain(fleet.services.iter().flat_map(|s| &s.applicationsets))
            .map(String::as_str)
            .collect();
        for (file, appset) in application_sets() {
            let name = appset["metadata"]["name"].as_str().expect("a name");
            assert!(
                named.contains(name),
                "{origin} does not name `{name}` of argocd/{file}: {named:?}"
            );
        }
    }
}
