use std::time::Duration;

use super::super::tests::{BASE, assert_error, fleet_yaml, parse_ok};

#[test]
fn every_service_refreshes_previews_by_default() {
    let fleet = parse_ok(BASE);
    assert_eq!(fleet.applicationsets, ["previews"]);
    for service in &fleet.services {
        assert_eq!(service.applicationsets, ["previews"], "{}", service.name);
    }
}

#[test]
fn a_service_list_replaces_the_fleet_list() {
    let fleet = parse_ok(&fleet_yaml(
        "applicationsets: [previews, previews-extra.v2]",
        "applicationsets: [previews-web]",
        "",
    ));
    assert_eq!(fleet.applicationsets, ["previews", "previews-extra.v2"]);
    assert_eq!(fleet.services[0].applicationsets, ["previews-web"]);
    assert_eq!(
        fleet.services[1].applicationsets,
        ["previews", "previews-extra.v2"]
    );
}

#[test]
fn an_empty_service_list_refreshes_nothing_for_that_service() {
    let fleet = parse_ok(&fleet_yaml("", "applicationsets:", ""));
    assert_eq!(fleet.applicationsets, ["previews"]);
    assert!(fleet.services[0].applicationsets.is_empty());
    assert_eq!(fleet.applicationset_names(), ["previews"]);
}

#[test]
fn an_empty_top_level_list_needs_a_service_naming_its_own() {
    let fleet = parse_ok(&fleet_yaml(
        "applicationsets: []",
        "applicationsets: [previews-web]",
        "",
    ));
    assert!(fleet.applicationsets.is_empty());
    assert_eq!(fleet.services[0].applicationsets, ["previews-web"]);
    assert!(fleet.services[1].applicationsets.is_empty());
    assert_eq!(fleet.applicationset_names(), ["previews-web"]);
    assert_error(
        &fleet_yaml("applicationsets: []", "applicationsets:", ""),
        "applicationsets",
        &[
            "no ApplicationSet is named",
            "would answer none",
            "`[previews]`",
        ],
    );
}

#[test]
fn the_names_answered_are_every_list_once_in_file_order() {
    let fleet = parse_ok(&fleet_yaml(
        "applicationsets: [previews, shared]",
        "applicationsets: [previews-web, shared]",
        "",
    ));
    assert_eq!(
        fleet.applicationset_names(),
        ["previews", "shared", "previews-web"]
    );
}

#[test]
fn names_are_dns_subdomains_listed_once() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &[&str])] = &[
        ("applicationsets: [Previews]", "", "applicationsets[0]", &["not an ApplicationSet name", "lowercase"]),
        ("applicationsets: [previews, previews]", "", "applicationsets[1]", &["listed twice"]),
        ("applicationsets: previews", "", "applicationsets", &["must be a list"]),
        ("applicationsets: [42]", "", "applicationsets[0]", &["must be text", "quote it"]),
        ("", "applicationsets: [ok, 'bad name']", "services[0].applicationsets[1]", &["not an ApplicationSet name"]),
        ("", "applicationsets: [-previews]", "services[0].applicationsets[0]", &["not an ApplicationSet name"]),
        ("", "applicationsets: [a, b, a]", "services[0].applicationsets[2]", &["`a` is listed twice"]),
        ("", "applicationset: [previews]", "services[0].applicationset", &["did you mean `applicationsets`?"]),
    ];
    for (root, web, field, words) in cases {
        assert_error(&fleet_yaml(root, web, ""), field, words);
    }
    let long = format!("applicationsets: [{}]", "a".repeat(254));
    assert_error(&fleet_yaml(&long, "", ""), "applicationsets[0]", &["253"]);
}

#[test]
fn the_poll_interval_with_webhooks_defaults_to_ten_minutes() {
    let fleet = parse_ok(BASE);
    assert_eq!(
        fleet.refresh_interval_with_webhooks,
        Duration::from_secs(600)
    );
    assert_eq!(fleet.poll_interval(true), Duration::from_secs(600));
    assert_eq!(fleet.poll_interval(false), Duration::from_secs(60));
    let fleet = parse_ok(&fleet_yaml(
        "refresh_interval: 30s\nrefresh_interval_with_webhooks: 1h",
        "",
        "",
    ));
    assert_eq!(fleet.poll_interval(true), Duration::from_secs(3600));
    assert_eq!(fleet.poll_interval(false), Duration::from_secs(30));
    for (value, words) in [
        ("5s", &["at least `10s`"][..]),
        ("600", &["`600` has no unit"][..]),
    ] {
        assert_error(
            &fleet_yaml(&format!("refresh_interval_with_webhooks: {value}"), "", ""),
            "refresh_interval_with_webhooks",
            words,
        );
    }
}
