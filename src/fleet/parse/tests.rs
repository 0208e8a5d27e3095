use std::time::Duration;

use chrono::Weekday;

use super::*;
use crate::fleet::{Database, ServiceKind};

mod errors;

/// A valid fleet: a frontend `web` depending on a backend `api`.
pub(super) const BASE: &str = "\
base_domain: preview.example.com
services:
  - name: web
    repo: acme/web
    kind: frontend
    image: registry.example.com/web
    overlay_path: deploy/preview
    staging_url: https://web.staging.example.com
    dependencies: [api]
  - name: api
    repo: acme/api
    kind: backend
    image: registry.example.com/api
    overlay_path: deploy/preview
    staging_url: https://api.staging.example.com
";

/// [`BASE`] with `root` lines added at the top level and `web`/`api` lines added to those
/// services (written without indentation).
pub(super) fn fleet_yaml(root: &str, web: &str, api: &str) -> String {
    let indent = |lines: &str| {
        lines
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    };
    let (head, api_part) = BASE.split_at(BASE.find("  - name: api").unwrap_or(BASE.len()));
    format!("{root}\n{head}{}{api_part}{}", indent(web), indent(api))
}

pub(super) fn parse_ok(text: &str) -> Fleet {
    Fleet::from_yaml(text).unwrap_or_else(|errors| panic!("{text}\n{errors:#?}"))
}

pub(super) fn parse_err(text: &str) -> Vec<FleetError> {
    match Fleet::from_yaml(text) {
        Ok(fleet) => panic!("expected errors for\n{text}\ngot {fleet:#?}"),
        Err(errors) => errors,
    }
}

/// Asserts that `text` has an error at `field` whose message holds every word of `words`.
pub(super) fn assert_error(text: &str, field: &str, words: &[&str]) {
    let errors = parse_err(text);
    let found = errors
        .iter()
        .any(|e| e.field == field && words.iter().all(|w| e.message.contains(w)));
    assert!(
        found,
        "no error at {field} with {words:?} for\n{text}\n{errors:#?}"
    );
    assert!(errors.iter().all(|e| !e.message.is_empty()));
}

#[test]
fn the_example_fleet_parses() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/fleet.yaml"
    ));
    let fleet = parse_ok(text);
    let names: Vec<_> = fleet.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["web", "api", "billing"]);
    assert_eq!(fleet.applicationsets, ["previews"]);
    assert_eq!(fleet.poll_interval(true), Duration::from_secs(600));
    let (web, api, billing) = (&fleet.services[0], &fleet.services[1], &fleet.services[2]);
    assert_eq!(
        (web.kind, api.kind),
        (ServiceKind::Frontend, ServiceKind::Backend)
    );
    assert_eq!(web.dependencies, std::slice::from_ref(&api.name));
    assert_eq!(
        api.databases,
        [Database::Postgres, Database::Redis, Database::Mongodb].into()
    );
    assert_eq!(api.seed.as_ref().map(|s| s.path.as_str()), Some("db/seed"));
    assert_eq!(web.staging_internal_url, web.staging_url);
    assert_eq!(
        web.policy.sleep.working_hours.time_zone,
        chrono_tz::Europe::Paris
    );
    assert_eq!(
        billing.policy.sleep.working_hours.time_zone,
        chrono_tz::America::New_York
    );
    assert_eq!(billing.policy.sleep.working_hours.days.len(), 5);
    assert!(!billing.policy.spot && web.policy.spot);
    assert_eq!(api.policy.replicas, 2);
    assert_eq!(api.policy.max_ttl, Duration::from_secs(21 * 24 * 3600));
    assert_eq!(
        fleet.scheduling.capacity_type_label,
        "karpenter.sh/capacity-type"
    );
    assert!(fleet.scheduling.toleration.is_some());
    assert_eq!(fleet.scheduling.architecture, "amd64");
    assert!(
        fleet
            .services
            .iter()
            .all(|s| s.policy.build_check.as_deref() == Some("preview-ready"))
    );
}

#[test]
fn a_minimal_fleet_takes_every_default() {
    let fleet = parse_ok(BASE);
    assert_eq!(fleet.github_url.as_str(), "https://github.com/");
    assert_eq!(fleet.namespace_prefix, "preview");
    assert_eq!(fleet.repo_config_path, ".preview.yaml");
    assert_eq!(fleet.refresh_interval, Duration::from_secs(60));
    let scheduling = &fleet.scheduling;
    assert_eq!(scheduling.capacity_type_label, "karpenter.sh/capacity-type");
    assert_eq!(
        (
            scheduling.spot_value.as_str(),
            scheduling.on_demand_value.as_str()
        ),
        ("spot", "on-demand")
    );
    assert_eq!(scheduling.toleration, None);
    assert_eq!(scheduling.architecture, "amd64");
    let web = &fleet.services[0];
    assert_eq!(web.port, 80);
    let policy = &web.policy;
    assert_eq!(policy.label, "preview");
    assert_eq!(
        policy.host_pattern.as_str(),
        "{service}-pr-{number}.{base_domain}"
    );
    assert_eq!(
        (policy.drafts, policy.forks, policy.spot, policy.replicas),
        (false, false, true, 1)
    );
    assert_eq!(
        (policy.ttl, policy.max_ttl),
        (
            Duration::from_secs(72 * 3600),
            Duration::from_secs(14 * 86_400)
        )
    );
    let hours = &policy.sleep.working_hours;
    assert!(policy.sleep.enabled);
    assert_eq!(
        hours.days,
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri
        ]
    );
    assert_eq!(
        (hours.start.to_string(), hours.end.to_string()),
        ("08:00:00".into(), "20:00:00".into())
    );
    assert_eq!(hours.time_zone, chrono_tz::Tz::UTC);
}

#[test]
fn top_level_keys_are_checked() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        ("base_domain: Preview_Example", "base_domain", &["not a DNS name"]),
        ("namespace_prefix: Preview", "namespace_prefix", &["not a DNS label"]),
        ("repo_config_path: /etc/passwd", "repo_config_path", &["absolute", "drop the leading `/`"]),
        ("repo_config_path: ../.preview.yaml", "repo_config_path", &["`..`"]),
        ("repo_config_path: ''", "repo_config_path", &["is empty"]),
        ("refresh_interval: 5s", "refresh_interval", &["at least `10s`"]),
        ("refresh_interval: 60", "refresh_interval", &["`60` has no unit"]),
        ("refresh_interval: soon", "refresh_interval", &["`soon` is not a duration"]),
        ("service: []", "service", &["unknown key `service`", "did you mean `services`?"]),
        ("base_domain: 42", "base_domain", &["must be text, found a number"]),
    ];
    for (root, field, words) in cases {
        let text = fleet_yaml(root, "", "").replacen(
            "base_domain: preview.example.com\n",
            "",
            usize::from(root.starts_with("base_domain")),
        );
        assert_error(&text, field, words);
    }
    assert_error(
        "services: []\n",
        "base_domain",
        &["is required", "base_domain: preview.example.com"],
    );
    assert_error("base_domain: a.b\n", "services", &["is required"]);
    assert_error(
        "base_domain: a.b\nservices: []\n",
        "services",
        &["at least one service"],
    );
}

#[test]
fn scheduling_keys_are_checked() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        ("scheduling: {capacity_type_label: 'bad key!'}", "scheduling.capacity_type_label", &["label key"]),
        ("scheduling: {spot_value: ''}", "scheduling.spot_value", &["label value"]),
        ("scheduling: {toleration: {key: spot, effect: NoScheduel}}", "scheduling.toleration.effect", &["did you mean `NoSchedule`?"]),
        ("scheduling: {toleration: {effect: NoSchedule}}", "scheduling.toleration.key", &["is required"]),
        ("scheduling: {toleration: {key: a, value: 'x y', effect: NoExecute}}", "scheduling.toleration.value", &["label value"]),
        ("scheduling: {spot_toleration: {effect: NoSchedule}}", "scheduling.spot_toleration.key", &["is required"]),
        ("scheduling: {toleration: {key: a, effect: NoSchedule}, spot_toleration: {key: a, effect: NoSchedule}}", "scheduling.spot_toleration", &["old name of `toleration`", "keep only `toleration`"]),
        ("scheduling: {architecture: amd46}", "scheduling.architecture", &["did you mean `amd64`?"]),
        ("scheduling: {architecture: x86_64}", "scheduling.architecture", &["`amd64` (x86_64)"]),
        ("scheduling: {node_pool: {label: karpenter.sh/nodepool}}", "scheduling.node_pool.value", &["is required"]),
        ("scheduling: {node_pool: {label: 'not a label!', value: previews}}", "scheduling.node_pool.label", &["label key"]),
        ("scheduling: {spot_valu: x}", "scheduling.spot_valu", &["unknown key", "did you mean `spot_value`?"]),
    ];
    for (root, field, words) in cases {
        assert_error(&fleet_yaml(root, "", ""), field, words);
    }
    let text = fleet_yaml(
        "scheduling: {spot_toleration: {key: example.com/spot, effect: PreferNoSchedule}}",
        "",
        "",
    );
    let toleration = parse_ok(&text).scheduling.toleration;
    assert_eq!(
        toleration.map(|t| (t.key, t.value, t.effect)),
        Some(("example.com/spot".into(), None, "PreferNoSchedule".into()))
    );
    let text = fleet_yaml(
        "scheduling: {toleration: {key: example.com/previews, value: 'true', effect: NoSchedule}, architecture: arm64}",
        "",
        "",
    );
    let scheduling = parse_ok(&text).scheduling;
    assert_eq!(scheduling.architecture, "arm64");
    assert_eq!(
        scheduling.toleration.map(|t| (t.key, t.value, t.effect)),
        Some((
            "example.com/previews".into(),
            Some("true".into()),
            "NoSchedule".into()
        ))
    );
}

#[test]
fn quota_and_currency_are_checked() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        ("quota: {max_previews: 0}", "quota.max_previews", &["from 1 to 100000", "`0`"]),
        ("quota: {max_previews: -3}", "quota.max_previews", &["from 1 to 100000"]),
        ("quota: {max_previews_per_repo: 2.5}", "quota.max_previews_per_repo", &["whole number"]),
        ("quota: {max_preview: 5}", "quota.max_preview", &["did you mean `max_previews`?"]),
        ("quota: 10", "quota", &["must be a mapping"]),
        ("currency: usd", "currency", &["not a currency code", "`USD`"]),
        ("currency: Euro", "currency", &["three capital letters"]),
        ("currency: 978", "currency", &["must be text"]),
        ("curency: EUR", "curency", &["did you mean `currency`?"]),
    ];
    for (root, field, words) in cases {
        assert_error(&fleet_yaml(root, "", ""), field, words);
    }
    let fleet = parse_ok(&fleet_yaml(
        "quota: {max_previews: 40, max_previews_per_repo: 15}\ncurrency: EUR",
        "",
        "",
    ));
    assert_eq!(
        (fleet.quota.max_previews, fleet.quota.max_previews_per_repo),
        (Some(40), Some(15))
    );
    assert_eq!(fleet.currency, "EUR");
    let fleet = parse_ok(BASE);
    assert_eq!(fleet.quota, crate::fleet::Quota::default());
    assert_eq!(fleet.currency, "USD");
}

#[test]
fn the_namespace_prefix_must_leave_room_for_every_service() {
    let long = "s".repeat(40);
    let text = fleet_yaml("namespace_prefix: preview-x", "", "")
        .replace("name: api", &format!("name: {long}"))
        .replace("[api]", &format!("[{long}]"));
    assert_error(
        &text,
        "namespace_prefix",
        &["leaves no room", "64 characters", "at most 8 characters"],
    );
    parse_ok(&text.replace("namespace_prefix: preview-x", "namespace_prefix: previews"));
}

#[test]
fn anchors_and_merge_keys_share_settings() {
    let text = format!(
        "{}  - <<: *svc\n    name: billing\n    repo: acme/billing\n",
        BASE.replace("  - name: api\n", "  - &svc\n    name: api\n")
    );
    let fleet = parse_ok(&text);
    assert_eq!(fleet.services[2].image, "registry.example.com/api");
}

#[test]
fn github_enterprise_links_come_from_github_url() {
    let fleet = parse_ok(&format!("github_url: https://ghe.example.com\n{BASE}"));
    assert_eq!(fleet.github_url.as_str(), "https://ghe.example.com/");
    let errors = parse_err(&format!("github_url: ftp://ghe\n{BASE}"));
    assert!(errors.iter().any(|e| e.field == "github_url"), "{errors:?}");
}

#[test]
fn postgres_image_needs_a_tag() {
    let fleet = parse_ok(BASE);
    assert_eq!(
        fleet.postgres_image,
        "public.ecr.aws/docker/library/postgres:17-trixie"
    );
    let fleet = parse_ok(&format!(
        "postgres_image: registry.example.com/pg:16.4\n{BASE}"
    ));
    assert_eq!(fleet.postgres_image, "registry.example.com/pg:16.4");
    for bad in [
        "postgres_image: postgres",
        "postgres_image: Postgres:16",
        "postgres_image: \"pg:\"",
    ] {
        let errors = parse_err(&format!("{bad}\n{BASE}"));
        assert!(
            errors.iter().any(|e| e.field == "postgres_image"),
            "{bad}: {errors:?}"
        );
    }
}
