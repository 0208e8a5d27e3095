use std::collections::{BTreeMap, BTreeSet};

use super::super::tests::{assert_error, parse_ok};
use super::*;
use crate::params::{Mode, render};
use crate::plan::{PlanInput, plan};
use crate::testing::{facts, fleet, name, now, pr};

/// A fleet of `web` depending on `deps`, each a backend of its own.
fn fleet_with(web_deps: &[&str], names: &[&str]) -> String {
    let mut text = format!(
        "base_domain: preview.example.com\nservices:\n{}",
        service_yaml("web", web_deps)
    );
    for name in names {
        text.push_str(&service_yaml(name, &[]));
    }
    text
}

fn service_yaml(name: &str, deps: &[&str]) -> String {
    format!(
        "  - name: {name}\n    repo: acme/{name}\n    kind: backend\n    image: r.example.com/{name}\n    overlay_path: deploy\n    staging_url: https://{name}.staging.example.com\n    dependencies: [{}]\n",
        deps.join(", ")
    )
}

#[test]
fn the_variables_are_those_the_parameters_set() {
    let fleet = fleet();
    let facts = [facts(pr(1), None)];
    let input = PlanInput {
        fleet: &fleet,
        services: BTreeMap::from([(name("web"), &facts[..])]),
        now: now(),
    };
    let plan = plan(&input);
    let set = render(&plan.previews[0], &fleet, Mode::Full);
    let rendered: BTreeSet<&str> = set["env"]
        .as_object()
        .map(|env| env.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut expected: BTreeSet<String> = OWN.iter().map(|v| (*v).to_owned()).collect();
    for dep in &fleet.services[0].dependencies {
        expected.extend(variables(dep.as_str()));
    }
    let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(rendered, expected);
}

#[test]
fn a_dependency_clashing_with_another_is_rejected() {
    let text = fleet_with(&["api", "api-internal"], &["api", "api-internal"]);
    assert_error(
        &text,
        "services[0].dependencies[1]",
        &[
            "`api-internal` cannot be a dependency beside `api` (services[0].dependencies[0])",
            "`API_INTERNAL_URL`",
            "rename one",
        ],
    );
    // In the other order the later one is blamed just the same.
    let text = fleet_with(&["api-internal", "api"], &["api", "api-internal"]);
    assert_error(
        &text,
        "services[0].dependencies[1]",
        &["`api` cannot be a dependency beside `api-internal`"],
    );
    // Each on its own is fine, and so are names that only look alike.
    parse_ok(&fleet_with(&["api"], &["api", "api-internal"]));
    parse_ok(&fleet_with(
        &["api", "api-2", "internal-api"],
        &["api", "api-2", "internal-api"],
    ));
}

#[test]
fn services_named_preview_are_rejected_and_so_is_depending_on_them() {
    for reserved in ["preview", "preview-api"] {
        let text = fleet_with(&[reserved], &[reserved]);
        let prefix = reserved.to_ascii_uppercase().replace('-', "_");
        assert_error(
            &text,
            "services[1].name",
            &[
                &format!("`{reserved}` cannot be a service name"),
                &format!("`{prefix}_URL`"),
                "could never be a dependency safely",
                "`PREVIEW_HOST`",
            ],
        );
        assert_error(
            &text,
            "services[0].dependencies[0]",
            &[&format!("`{reserved}` cannot be a dependency"), "`PREVIEW_"],
        );
    }
    // Only the `PREVIEW_` namespace is reserved.
    parse_ok(&fleet_with(
        &["previewer", "api-preview"],
        &["previewer", "api-preview"],
    ));
}

#[test]
fn reserved_names_are_exactly_those_in_the_preview_namespace() {
    for (service, reserved) in [
        ("preview", true),
        ("preview-x", true),
        ("preview--x", true),
        ("previews", false),
        ("x-preview", false),
        ("pr", false),
    ] {
        assert_eq!(is_reserved(service), reserved, "{service}");
    }
    assert_eq!(
        shared_variable("a", "a-internal").as_deref(),
        Some("A_INTERNAL_URL")
    );
    assert_eq!(
        shared_variable("a-internal", "a").as_deref(),
        Some("A_INTERNAL_URL")
    );
    assert_eq!(shared_variable("a", "b"), None);
}
