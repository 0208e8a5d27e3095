//! The `dependencies` key: names, targets and the hints for common mistakes.

use super::super::*;
use super::{assert_one_error, errors, with_bounds};

#[test]
fn pr_targets_cover_the_whole_u32_range() {
    for (target, number) in [("pr-1", 1), ("pr-4294967295", 4_294_967_295)] {
        let text = format!("dependencies: {{api: {target}}}");
        let config = parse(&text, None).expect("valid");
        let got = config.dependencies.values().next().copied();
        assert_eq!(got, Some(DependencyTarget::PullRequest(number)), "{target}");
    }
}

#[test]
fn without_bounds_any_service_name_is_a_dependency() {
    let config = parse("dependencies:\n  anything-goes: staging\n", None).expect("valid");
    assert_eq!(config.dependencies.len(), 1);
    assert_one_error(
        "dependencies:\n  Api_Svc: staging\n",
        None,
        (2, 3),
        ("not a service name", "lowercase"),
    );
}

#[test]
fn pr_references_written_loosely_suggest_the_canonical_form() {
    for target in [
        "12", "'12'", "'#12'", "pr12", "PR-12", "Pr-12", "pr_12", "pr-012", "'pr #12'",
    ] {
        let text = format!("dependencies:\n  api: {target}\n");
        assert_one_error(
            &text,
            None,
            (2, 8),
            ("is not a dependency target", "did you mean `pr-12`?"),
        );
    }
}

/// A dependency target, then words of the message and of the hint it gets.
#[rustfmt::skip]
const BAD_TARGETS: [(&str, &str, &str); 14] = [
    ("https://api.example.com", "not a dependency target", "URLs, hosts, namespaces and images"),
    ("preview-api-pr-3.svc", "not a dependency target", "namespaces"),
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1", "not a dependency target", "images"),
    ("Staging", "not a dependency target", "did you mean `staging`?"),
    ("stagging", "not a dependency target", "did you mean `staging`?"),
    ("main", "not a dependency target", "write `staging` or `pr-<N>`"),
    ("pr-0", "not a valid PR number", "between 1 and 4294967295"),
    ("pr-4294967296", "not a valid PR number", "between 1 and 4294967295"),
    ("pr-99999999999999999999999", "not a dependency target", "between 1 and 4294967295"),
    ("0", "not a dependency target", "between 1 and 4294967295"),
    ("-3", "not a dependency target", "between 1 and 4294967295"),
    ("true", "must be text, found a boolean", "e.g. `pr-123`"),
    ("[pr-1]", "must be text, found a list", "e.g. `pr-123`"),
    ("", "must be text, found nothing", "e.g. `pr-123`"),
];

#[test]
fn bad_dependency_targets_are_explained() {
    for (target, message, hint) in BAD_TARGETS {
        let text = format!("dependencies:\n  api: {target}\n");
        let errors = errors(&text, None);
        assert_eq!(errors.len(), 1, "{target}: {errors:#?}");
        assert!(errors[0].message.contains(message), "{target}: {errors:#?}");
        let got = errors[0].hint.as_deref().unwrap_or_default();
        assert!(got.contains(hint), "{target}: {errors:#?}");
    }
}

#[test]
fn dependencies_outside_the_fleet_list_the_declared_ones() {
    with_bounds(&["api", "billing"], |b| {
        let text = "dependencies:\n  apii: pr-1\n";
        let hint = "did you mean `api`? this service depends on `api` or `billing`";
        assert_one_error(
            text,
            Some(b),
            (2, 3),
            ("`apii` is not a dependency of this service", hint),
        );
        let text = "dependencies:\n  search: pr-1\n";
        assert_one_error(
            text,
            Some(b),
            (2, 3),
            ("not a dependency", "depends on `api` or `billing`"),
        );
    });
    with_bounds(&[], |b| {
        let text = "dependencies:\n  api: pr-1\n";
        assert_one_error(
            text,
            Some(b),
            (2, 3),
            ("not a dependency", "no dependencies in the fleet"),
        );
    });
}

#[test]
fn dependencies_must_be_a_mapping() {
    let hint = "e.g. `api: pr-123`";
    assert_one_error(
        "dependencies: [api]\n",
        None,
        (1, 15),
        ("must be a mapping, found a list", hint),
    );
    assert_one_error(
        "dependencies: api\n",
        None,
        (1, 15),
        ("must be a mapping, found text", hint),
    );
}
