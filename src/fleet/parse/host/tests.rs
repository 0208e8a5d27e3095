use proptest::prelude::*;

use super::super::tests::{assert_error, fleet_yaml, parse_ok};
use super::*;
use crate::fleet::HostPattern;
use crate::naming::ServiceName;

const BASE_DOMAIN: &str = "preview.example.com";

/// Valid patterns, the default first.
const VALID: [&str; 5] = [
    HostPattern::DEFAULT,
    "{service}-pr-{number}.apps.{base_domain}",
    "app-{service}--{number}.{base_domain}",
    "p{service}x{number}.preview.example.com",
    "{service}-{number}.{base_domain}",
];

#[test]
fn valid_patterns_are_cut_around_their_placeholders() {
    for pattern in VALID {
        assert!(shape(pattern).is_ok(), "{pattern}: {:?}", shape(pattern));
    }
    assert_eq!(
        shape("app-{service}-pr-{number}.{base_domain}"),
        Ok(Shape {
            before: "app-",
            between: "-pr-",
            after: ".{base_domain}",
        })
    );
}

#[test]
fn patterns_that_could_give_two_previews_one_host_are_refused() {
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        ("{service}.{base_domain}", "must contain both `{service}` and `{number}`"),
        ("pr-{number}.{base_domain}", "must contain both"),
        ("{servce}-{number}.{base_domain}", "did you mean `{service}`?"),
        ("{service}-{service}-pr-{number}.{base_domain}", "once each"),
        ("{service}-{number}-{number}.{base_domain}", "once each"),
        ("pr-{number}-{service}.{base_domain}", "`{number}` before `{service}`"),
        ("{service}.pr-{number}.{base_domain}", "in its first label"),
        ("{base_domain}-{service}-pr-{number}.x", "in its first label"),
        ("{service}-pr-{number}", "must end the first label with `{number}`"),
        ("{service}-pr-{number}-x.{base_domain}", "must end the first label"),
        ("{service}-pr-{number}{base_domain}", "must end the first label"),
        ("{service}{number}.{base_domain}", "does not end with a digit"),
        ("{service}-v2{number}.{base_domain}", "does not end with a digit"),
    ];
    for (pattern, words) in cases {
        let message = shape(pattern).err().unwrap_or_default();
        assert!(message.contains(words), "{pattern}: {message:?}");
        assert!(message.contains(&format!("`{pattern}`")), "{message}");
    }
}

#[test]
fn the_rules_apply_to_defaults_and_overrides() {
    assert_error(
        &fleet_yaml(
            "defaults: {host_pattern: 'pr-{number}-{service}.{base_domain}'}",
            "",
            "",
        ),
        "defaults.host_pattern",
        &["`{number}` before `{service}`"],
    );
    assert_error(
        &fleet_yaml(
            "",
            "",
            "overrides: {host_pattern: '{service}{number}.{base_domain}'}",
        ),
        "services[1].overrides.host_pattern",
        &["does not end with a digit"],
    );
}

#[test]
fn overrides_whose_hosts_could_match_another_service_are_refused() {
    // `x-web`'s default hosts are `x-web-pr-<n>.…`, and so would be `web`'s.
    let text = fleet_yaml(
        "",
        "overrides: {host_pattern: 'x-{service}-pr-{number}.{base_domain}'}",
        "",
    )
    .replace("api", "x-web");
    assert_error(
        &text,
        "services[0].overrides.host_pattern",
        &[
            "`web` and `x-web` (services[1]) would get the same hosts",
            "`x-web-pr-<number>.preview.example.com`",
        ],
    );
    // The same override beside another service is fine.
    parse_ok(&fleet_yaml(
        "",
        "overrides: {host_pattern: 'x-{service}-pr-{number}.{base_domain}'}",
        "",
    ));
}

#[test]
fn endings_must_not_nest() {
    let text = fleet_yaml(
        "",
        "",
        "overrides: {host_pattern: '{service}-pr-{number}.apps.{base_domain}'}",
    );
    assert_error(
        &text,
        "services[1].overrides.host_pattern",
        &[
            "the hosts of `api` end in `.apps.preview.example.com`",
            "those of `web` (services[0]) in `.preview.example.com`",
        ],
    );
    // A literal base domain is the same ending as `{base_domain}`.
    parse_ok(&fleet_yaml(
        "",
        "",
        "overrides: {host_pattern: 'api-{service}-pr-{number}.preview.example.com'}",
    ));
    // Endings that do not nest are fine.
    parse_ok(&fleet_yaml(
        "defaults: {host_pattern: '{service}-pr-{number}.web.{base_domain}'}",
        "",
        "overrides: {host_pattern: '{service}-pr-{number}.api.{base_domain}'}",
    ));
}

#[test]
fn services_whose_pattern_is_refused_are_not_compared() {
    // Refused, `x-web`'s pattern falls back to the default, whose hosts are also `web`'s.
    let text = fleet_yaml(
        "",
        "overrides: {host_pattern: 'x-{service}-pr-{number}.{base_domain}'}",
        "overrides: {host_pattern: '{service}{number}.other.{base_domain}'}",
    )
    .replace("api", "x-web");
    let errors = super::super::tests::parse_err(&text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].message.contains("does not end with a digit"));
}

#[test]
fn a_clash_is_reported_once_per_service_at_its_override() {
    let one = |service: &'static str, pattern: &'static str, overridden| HostOf {
        index: 0,
        service,
        shape: shape(pattern).unwrap_or_else(|e| panic!("{e}")),
        overridden,
    };
    let mut hosts = vec![
        one("a", HostPattern::DEFAULT, false),
        one("b", HostPattern::DEFAULT, false),
        one("c", "{service}-pr-{number}.x.{base_domain}", true),
        one("d", HostPattern::DEFAULT, false),
    ];
    for (i, host) in hosts.iter_mut().enumerate() {
        host.index = i;
    }
    let found = clashes(&hosts, BASE_DOMAIN);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].blamed, 2);
}

/// A valid service name.
fn service_name() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"
}

const ENDINGS: [&str; 5] = [
    ".{base_domain}",
    ".preview.example.com",
    ".a.{base_domain}",
    ".a",
    ".b-a",
];

/// Two services, each `(pattern, name)`: drawn apart, or cut from one first label
/// (`A1 name1 B1 = A2 name2 B2`), often with the same ending, so that their hosts collide
/// unless the check refuses them.
fn two_services() -> impl Strategy<Value = [(String, String); 2]> {
    let ending = || prop::sample::select(ENDINGS.to_vec());
    let pattern = |before: &str, between: &str, ending: &str| {
        format!("{before}{{service}}{between}{{number}}{ending}")
    };
    let apart = (
        "[ab0-9-]{0,3}",
        "[ab]([ab0-9-]{0,3}[ab0-9])?",
        "[ab0-9-]{0,3}",
        ending(),
    )
        .prop_map(move |(before, name, between, ending)| {
            (pattern(&before, &between, ending), name)
        });
    let shared = (
        ("[ab-]{0,3}", "[ab1]([ab1-]{0,3}[ab1])?", "[ab1-]{0,2}[ab-]"),
        (0usize..12, 0usize..12),
        (ending(), prop_oneof![Just(None), ending().prop_map(Some)]),
    )
        .prop_map(move |((before, name, between), cuts, (first, second))| {
            let head = format!("{before}{name}{between}");
            let start = cuts.0.min(cuts.1).min(head.len());
            let end = cuts.0.max(cuts.1).min(head.len());
            [
                (pattern(&before, &between, first), name),
                (
                    pattern(&head[..start], &head[end..], second.unwrap_or(first)),
                    head[start..end].to_owned(),
                ),
            ]
        });
    prop_oneof![(apart.clone(), apart).prop_map(|(a, b)| [a, b]), shared]
}

/// Every (service, number) that `shape` renders as `host`, found by trying every cut of the
/// first label.
fn previews_of(shape: &Shape<'_>, host: &str) -> Vec<(String, u64)> {
    let ending = shape.ending(BASE_DOMAIN);
    let Some(label) = host
        .strip_suffix(ending.as_str())
        .and_then(|label| label.strip_prefix(shape.before))
    else {
        return Vec::new();
    };
    (0..=label.len())
        .filter_map(|cut| {
            let (service, rest) = label.split_at(cut);
            let digits = rest.strip_prefix(shape.between)?;
            let canonical = !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (digits == "0" || !digits.starts_with('0'));
            let number = digits.parse().ok().filter(|_| canonical)?;
            ServiceName::new(service).map(|_| (service.to_owned(), number))
        })
        .collect()
}

fn render(pattern: &str, service: &str, number: u64) -> String {
    let name = ServiceName::new(service).unwrap_or_else(|| panic!("{service}"));
    HostPattern::new_unchecked(pattern.to_owned()).render(&name, number, BASE_DOMAIN)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn the_valid_patterns_never_give_two_previews_one_host(
        pattern in prop::sample::select(VALID.to_vec()),
        a in (service_name(), any::<u64>()),
        b in (service_name(), any::<u64>()),
        small in (0u64..100, 0u64..100),
    ) {
        prop_assert!(shape(pattern).is_ok());
        for (one, other) in [(a.1, b.1), small] {
            let (a, b) = ((a.0.as_str(), one), (b.0.as_str(), other));
            if a != b {
                prop_assert_ne!(render(pattern, a.0, a.1), render(pattern, b.0, b.1));
            }
        }
    }

    /// Patterns, names and numbers from a few characters, so that a pattern the rules let
    /// through by mistake (`{service}1{number}`: `a` 11 and `a1` 1) is caught: the host of a
    /// preview must be the host of no other (service, number).
    #[test]
    fn an_accepted_pattern_never_gives_two_previews_one_host(
        pattern in ("[a1-]{0,2}", "[a1-]{0,2}", prop::sample::select(ENDINGS.to_vec()))
            .prop_map(|(before, between, ending)| {
                format!("{before}{{service}}{between}{{number}}{ending}")
            }),
        service in "[a1]([a1-]{0,3}[a1])?",
        number in 0u64..30,
    ) {
        if let Ok(shape) = shape(&pattern) {
            let host = render(&pattern, &service, number);
            prop_assert_eq!(previews_of(&shape, &host), vec![(service, number)], "{}", host);
        }
    }

    #[test]
    fn accepted_patterns_never_give_two_previews_one_host(
        services in two_services(),
        numbers in (0u64..3, 0u64..3),
    ) {
        let [(first, a), (second, b)] = &services;
        let valid = a != b && ServiceName::new(a).is_some() && ServiceName::new(b).is_some();
        let (true, Ok(one), Ok(other)) = (valid, shape(first), shape(second)) else {
            return Ok(());
        };
        let hosts = [
            HostOf { index: 0, service: a, shape: one, overridden: true },
            HostOf { index: 1, service: b, shape: other, overridden: true },
        ];
        if clashes(&hosts, BASE_DOMAIN).is_empty() {
            prop_assert_ne!(render(first, a, numbers.0), render(second, b, numbers.1));
        }
    }
}
