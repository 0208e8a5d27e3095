//! `access`: who may reach a preview.

use super::*;

#[test]
fn previews_are_private_unless_the_fleet_opens_them() {
    use crate::fleet::Access;
    let fleet = parse_ok(&fleet_yaml("", "", ""));
    assert!(
        fleet
            .services
            .iter()
            .all(|s| s.policy.access == Access::Private)
    );
    let fleet = parse_ok(&fleet_yaml("", "overrides: {access: public}", ""));
    let (web, api) = (&fleet.services[0].policy, &fleet.services[1].policy);
    assert_eq!((web.access, api.access), (Access::Public, Access::Private));
    let fleet = parse_ok(&fleet_yaml(
        "defaults: {access: public}",
        "",
        "overrides: {access: private}",
    ));
    let (web, api) = (&fleet.services[0].policy, &fleet.services[1].policy);
    assert_eq!((web.access, api.access), (Access::Public, Access::Private));
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &[&str])] = &[
        ("defaults: {access: open}", "", "defaults.access", &["not an access", "`private`", "`public`"]),
        ("", "overrides: {access: publik}", "services[0].overrides.access", &["did you mean `public`?"]),
        ("defaults: {access: true}", "", "defaults.access", &["must be text"]),
    ];
    for (root, web, field, words) in cases {
        assert_error(&fleet_yaml(root, web, ""), field, words);
    }
}
