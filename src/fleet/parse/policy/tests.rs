use std::time::Duration;

use chrono::{NaiveTime, Weekday};

use super::super::tests::{assert_error, fleet_yaml, parse_ok};

mod access;
mod associations;
mod cost;

const DAY: Duration = Duration::from_secs(86_400);

fn with_defaults(defaults: &str) -> String {
    fleet_yaml(&format!("defaults: {defaults}"), "", "")
}

#[test]
fn default_keys_are_checked() {
    let long_label = "l".repeat(51);
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        (&format!("{{label: {long_label}}}"), "defaults.label", &["1 to 50 characters"]),
        ("{label: ''}", "defaults.label", &["1 to 50 characters"]),
        ("{label: 42}", "defaults.label", &["must be text", "quote it"]),
        ("{drafts: yes}", "defaults.drafts", &["`true` or `false`", "`yes`"]),
        ("{forks: 1}", "defaults.forks", &["`true` or `false`"]),
        ("{replicas: 0}", "defaults.replicas", &["from 1 to 10"]),
        ("{replicas: 11}", "defaults.replicas", &["from 1 to 10"]),
        ("{replicas: 1.5}", "defaults.replicas", &["from 1 to 10"]),
        ("{ttl: 0s}", "defaults.ttl", &["longer than zero"]),
        ("{ttl: 3}", "defaults.ttl", &["no unit"]),
        ("{max_ttl: forever}", "defaults.max_ttl", &["not a duration"]),
        ("{ttl: 20d}", "defaults.ttl", &["`max_ttl` (14d) is shorter than `ttl` (20d)"]),
        ("{ttl: 2d, max_ttl: 1d}", "defaults.max_ttl", &["shorter than `ttl`"]),
        ("{tll: 2d}", "defaults.tll", &["unknown key", "did you mean `ttl`?"]),
        ("{sleep: {enable: false}}", "defaults.sleep.enable", &["did you mean `enabled`?"]),
        ("{sleep: false}", "defaults.sleep", &["must be a mapping, found a boolean"]),
    ];
    for (defaults, field, words) in cases {
        assert_error(&with_defaults(defaults), field, words);
    }
}

#[test]
fn host_patterns_are_checked() {
    #[rustfmt::skip]
    let cases: &[(&str, &[&str])] = &[
        ("'{service}.{base_domain}'", &["must contain both `{service}` and `{number}`"]),
        ("'pr-{number}.{base_domain}'", &["must contain both"]),
        ("'{servce}-{number}.{base_domain}'", &[ "unknown placeholder `{servce}`", "did you mean `{service}`?", ]),
        ("'{service}-{number}-{branch}.{base_domain}'", &["unknown placeholder `{branch}`"]),
        ("'{service}_{number}.{base_domain}'", &["not a valid DNS name", "service `web`"]),
    ];
    for (pattern, words) in cases {
        assert_error(
            &with_defaults(&format!("{{host_pattern: {pattern}}}")),
            "defaults.host_pattern",
            words,
        );
    }
    let fleet = parse_ok(&with_defaults(
        "{host_pattern: 'app-{service}-pr-{number}.apps.{base_domain}'}",
    ));
    assert_eq!(
        fleet.services[0].policy.host_pattern.as_str(),
        "app-{service}-pr-{number}.apps.{base_domain}"
    );
}

#[test]
fn the_default_host_pattern_is_checked_with_the_longest_service_name() {
    let long = "a".repeat(40);
    let pattern = "'{service}-preview-environment-pr-{number}.{base_domain}'";
    let text =
        fleet_yaml(&format!("defaults: {{host_pattern: {pattern}}}"), "", "").replace("api", &long);
    assert_error(
        &text,
        "defaults.host_pattern",
        &[&format!("service `{long}`"), "4294967295"],
    );
    let label = "d".repeat(63);
    let base_domain = format!("{label}.{label}.{label}.example.com");
    let text = fleet_yaml("", "", "")
        .replace("web", &long)
        .replace("preview.example.com", &base_domain);
    assert_error(&text, "base_domain", &["not a valid DNS name"]);
}

#[test]
fn working_hours_are_checked() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        ("{days: [mon, funday]}", "defaults.sleep.working_hours.days[1]", &["`funday` is not a day"]),
        ("{days: [mon, mon]}", "defaults.sleep.working_hours.days[1]", &["listed twice"]),
        ("{days: []}", "defaults.sleep.working_hours.days", &["at least one day"]),
        ("{days: mon-fry}", "defaults.sleep.working_hours.days", &["not a day or a range"]),
        ("{days: 5}", "defaults.sleep.working_hours.days", &["found a number"]),
        ("{start: 8am}", "defaults.sleep.working_hours.start", &["`8am` is not a time of day", "HH:MM"]),
        ("{start: '25:00'}", "defaults.sleep.working_hours.start", &["not a time of day"]),
        ("{end: '8:00'}", "defaults.sleep.working_hours.end", &["not a time of day"]),
        ("{end: '07:00'}", "defaults.sleep.working_hours.end", &["`end` (07:00) must be after `start` (08:00)"]),
        ("{start: '21:00'}", "defaults.sleep.working_hours.start", &["must be after `start` (21:00)"]),
        ("{time_zone: Europe/Pariss}", "defaults.sleep.working_hours.time_zone", &["did you mean `Europe/Paris`?"]),
        ("{time_zone: europe/paris}", "defaults.sleep.working_hours.time_zone", &["did you mean `Europe/Paris`?"]),
        ("{time_zone: Mars/Olympus}", "defaults.sleep.working_hours.time_zone", &["not an IANA time zone"]),
        ("{timezone: UTC}", "defaults.sleep.working_hours.timezone", &["did you mean `time_zone`?"]),
    ];
    for (hours, field, words) in cases {
        assert_error(
            &with_defaults(&format!("{{sleep: {{working_hours: {hours}}}}}")),
            field,
            words,
        );
    }
}

#[test]
fn days_are_read_from_lists_ranges_and_full_names() {
    use Weekday::{Fri, Mon, Sat, Sun, Thu, Tue, Wed};
    #[rustfmt::skip]
    let cases: &[(&str, &[Weekday])] = &[
        ("mon-fri", &[Mon, Tue, Wed, Thu, Fri]),
        ("Monday - Wednesday", &[Mon, Tue, Wed]),
        ("fri-mon", &[Mon, Fri, Sat, Sun]),
        ("sat", &[Sat]),
        ("[sun, mon, tuesday]", &[Mon, Tue, Sun]),
        ("[SAT]", &[Sat]),
    ];
    for (days, expected) in cases {
        let fleet = parse_ok(&with_defaults(&format!(
            "{{sleep: {{working_hours: {{days: {days}}}}}}}"
        )));
        assert_eq!(
            fleet.services[0].policy.sleep.working_hours.days, *expected,
            "{days}"
        );
    }
}

#[test]
fn overrides_merge_key_by_key_over_the_defaults() {
    let defaults =
        "defaults: {ttl: 2d, sleep: {working_hours: {days: [mon, tue], time_zone: Europe/Paris}}}";
    let api = "overrides: {max_ttl: 30d, spot: false, sleep: {working_hours: {time_zone: Asia/Tokyo, start: '09:30'}}}";
    let fleet = parse_ok(&fleet_yaml(defaults, "", api));
    let (web, api) = (&fleet.services[0].policy, &fleet.services[1].policy);
    assert_eq!((web.ttl, web.max_ttl, web.spot), (2 * DAY, 14 * DAY, true));
    assert_eq!((api.ttl, api.max_ttl, api.spot), (2 * DAY, 30 * DAY, false));
    let hours = &api.sleep.working_hours;
    assert_eq!(hours.days, [Weekday::Mon, Weekday::Tue]);
    assert_eq!(hours.time_zone, chrono_tz::Asia::Tokyo);
    assert_eq!(
        (hours.start, hours.end),
        (
            NaiveTime::from_hms_opt(9, 30, 0).expect("time"),
            NaiveTime::from_hms_opt(20, 0, 0).expect("time")
        )
    );
    assert_eq!(web.sleep.working_hours.time_zone, chrono_tz::Europe::Paris);
}

#[test]
fn override_errors_name_the_service_field() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        ("overrides: {max_ttl: 1d}", "services[1].overrides.max_ttl", &["shorter than `ttl` (3d)"]),
        ("overrides: {replicas: 50}", "services[1].overrides.replicas", &["from 1 to 10"]),
        ("overrides: {sleep: {working_hours: {end: '06:00'}}}", "services[1].overrides.sleep.working_hours.end", &["after `start`"]),
        ("overrides: {host_pattern: '{service}.{base_domain}'}", "services[1].overrides.host_pattern", &["must contain both"]),
        ("overrides: {labels: x}", "services[1].overrides.labels", &["did you mean `label`?"]),
        ("overrides: [spot]", "services[1].overrides", &["must be a mapping, found a list"]),
    ];
    for (api, field, words) in cases {
        assert_error(&fleet_yaml("", "", api), field, words);
    }
}

#[test]
fn a_bad_default_is_reported_once_for_all_services() {
    let errors = super::super::tests::parse_err(&with_defaults("{ttl: 30d}"));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].field, "defaults.ttl");
}

#[test]
fn build_checks_are_named_once_and_overridden_per_service() {
    let fleet = parse_ok(&fleet_yaml(
        "defaults: {build_check: preview-ready}",
        "",
        "overrides: {build_check: 'build / image (api)'}",
    ));
    let checks: Vec<Option<&str>> = fleet
        .services
        .iter()
        .map(|s| s.policy.build_check.as_deref())
        .collect();
    assert_eq!(
        checks,
        [Some("preview-ready"), Some("build / image (api)")],
        "web takes the default, api its override"
    );
    let ungated = parse_ok(&fleet_yaml("", "", ""));
    assert!(
        ungated
            .services
            .iter()
            .all(|s| s.policy.build_check.is_none())
    );
}

#[test]
fn build_check_names_are_checked() {
    let long = "b".repeat(101);
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        ("defaults: {build_check: ''}", "defaults.build_check", &["1 to 100 characters"]),
        ("defaults: {build_check: '   '}", "defaults.build_check", &["1 to 100 characters"]),
        (&format!("defaults: {{build_check: {long}}}"), "defaults.build_check", &["1 to 100 characters"]),
        ("defaults: {build_check: \"a\\tb\"}", "defaults.build_check", &["control character"]),
        ("defaults: {build_check: ' build'}", "defaults.build_check", &["starts or ends with a space"]),
        ("defaults: {build_check: 42}", "defaults.build_check", &["must be text", "quote it"]),
        ("defaults: {build_check: [a]}", "defaults.build_check", &["must be text"]),
        ("defaults: {buildcheck: x}", "defaults.buildcheck", &["did you mean `build_check`?"]),
    ];
    for (root, field, words) in cases {
        assert_error(&fleet_yaml(root, "", ""), field, words);
    }
    assert_error(
        &fleet_yaml("", "", "overrides: {build_check: ''}"),
        "services[1].overrides.build_check",
        &["1 to 100 characters"],
    );
}

#[test]
fn database_storage_is_checked_and_overridden_per_service() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        ("{database_storage: 2}", "defaults.database_storage", &["`2` has no unit", "`2Gi`"]),
        ("{database_storage: 2GB}", "defaults.database_storage", &["`2GB` is not a size"]),
        ("{database_storage: 100Gi}", "defaults.database_storage", &["out of range", "`50Gi`"]),
        ("{database_storage: [2Gi]}", "defaults.database_storage", &["must be text"]),
    ];
    for (defaults, field, words) in cases {
        assert_error(&with_defaults(defaults), field, words);
    }
    assert_error(
        &fleet_yaml("", "", "overrides: {database_storage: 500Mi}"),
        "services[1].overrides.database_storage",
        &["out of range"],
    );
    let builtin = parse_ok(&with_defaults("{}"));
    assert_eq!(builtin.services[0].policy.database_storage.as_str(), "2Gi");
    let fleet = parse_ok(&fleet_yaml(
        "defaults: {database_storage: 4Gi}",
        "",
        "overrides: {database_storage: 10Gi}",
    ));
    let sizes: Vec<(&str, u64)> = fleet
        .services
        .iter()
        .map(|s| {
            let size = &s.policy.database_storage;
            (size.as_str(), size.bytes())
        })
        .collect();
    assert_eq!(sizes, [("4Gi", 4 << 30), ("10Gi", 10 << 30)]);
}
