//! The cost-control keys: the expiry warning, how long a woken preview stays awake, the keep
//! and priority labels, and the price per hour (merged key by key, complete or blamed).

use super::*;

#[test]
fn cost_keys_are_checked() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        ("{expiry_warning: 0s}", "defaults.expiry_warning", &["longer than zero"]),
        ("{expiry_warning: 12}", "defaults.expiry_warning", &["no unit"]),
        ("{expiry_warning: 3d}", "defaults.expiry_warning", &["`expiry_warning` (3d) must be shorter than `ttl` (3d)"]),
        ("{ttl: 6h}", "defaults.ttl", &["`expiry_warning` (12h) must be shorter than `ttl` (6h)"]),
        ("{wake_for: 0m}", "defaults.wake_for", &["longer than zero"]),
        ("{wake_for: later}", "defaults.wake_for", &["not a duration"]),
        ("{keep_label: ''}", "defaults.keep_label", &["1 to 50 characters"]),
        ("{priority_label: 7}", "defaults.priority_label", &["must be text"]),
        ("{keep_label: Preview}", "defaults.keep_label", &["`keep_label` and `label` are both `Preview`"]),
        ("{label: urgent, priority_label: urgent}", "defaults.priority_label", &["`priority_label` and `label`"]),
        ("{priority_label: preview-keep}", "defaults.priority_label", &["`priority_label` and `keep_label`"]),
        ("{keep_labels: x}", "defaults.keep_labels", &["did you mean `keep_label`?"]),
        ("{price_per_hour: {on_demand: -1, spot: 0, asleep: 0}}", "defaults.price_per_hour.on_demand", &["`-1` is not a price per hour"]),
        ("{price_per_hour: {on_demand: .nan, spot: 0, asleep: 0}}", "defaults.price_per_hour.on_demand", &["found text `.nan`: write a number"]),
        ("{price_per_hour: {on_demand: 1e9, spot: 0, asleep: 0}}", "defaults.price_per_hour.on_demand", &["from 0 to 10000"]),
        ("{price_per_hour: {on_demand: '0.04', spot: 0, asleep: 0}}", "defaults.price_per_hour.on_demand", &["found text `0.04`", "without quotes"]),
        ("{price_per_hour: {on_demand: 0.04}}", "defaults.price_per_hour", &["lacks `spot` and `asleep`"]),
        ("{price_per_hour: {on_demand: 1, spot: 1, asleep: 0, spots: 1}}", "defaults.price_per_hour.spots", &["did you mean `spot`?"]),
        ("{price_per_hour: 0.04}", "defaults.price_per_hour", &["must be a mapping"]),
    ];
    for (defaults, field, words) in cases {
        assert_error(&with_defaults(defaults), field, words);
    }
}

#[test]
fn cost_keys_take_their_defaults_and_merge_prices_key_by_key() {
    let policy = &parse_ok(&with_defaults("{}")).services[0].policy;
    assert_eq!(
        (policy.expiry_warning, policy.wake_for),
        (
            Duration::from_secs(12 * 3600),
            Duration::from_secs(4 * 3600)
        )
    );
    assert_eq!(
        (policy.keep_label.as_str(), policy.priority_label.as_str()),
        ("preview-keep", "preview-priority")
    );
    assert_eq!(policy.price, None);
    let text = fleet_yaml(
        "defaults: {expiry_warning: 6h, wake_for: 90m, keep_label: keep, price_per_hour: {on_demand: 0.05, spot: 0.02, asleep: 0}}",
        "overrides: {priority_label: hurry, price_per_hour: {spot: 1}}",
        "",
    );
    let fleet = parse_ok(&text);
    let (web, api) = (&fleet.services[0].policy, &fleet.services[1].policy);
    assert_eq!(web.expiry_warning, Duration::from_secs(6 * 3600));
    assert_eq!(web.wake_for, Duration::from_secs(90 * 60));
    assert_eq!(
        (web.keep_label.as_str(), web.priority_label.as_str()),
        ("keep", "hurry")
    );
    assert_eq!(api.priority_label, "preview-priority");
    let price = |p: &crate::fleet::Policy| p.price.map(|p| (p.on_demand, p.spot, p.asleep));
    assert_eq!(price(web), Some((0.05, 1.0, 0.0)));
    assert_eq!(price(api), Some((0.05, 0.02, 0.0)));
}

#[test]
fn an_incomplete_price_override_is_blamed_on_the_service() {
    let text = fleet_yaml("", "overrides: {price_per_hour: {spot: 0.01}}", "");
    assert_error(
        &text,
        "services[0].overrides.price_per_hour",
        &["lacks `on_demand` and `asleep`"],
    );
}
