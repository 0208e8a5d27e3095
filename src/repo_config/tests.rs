use std::time::Duration;

use super::*;

const HOUR: Duration = Duration::from_secs(3600);
pub(super) const DAY: Duration = Duration::from_secs(24 * 3600);

pub(super) fn names(names: &[&str]) -> Vec<ServiceName> {
    names
        .iter()
        .map(|n| ServiceName::new(n).expect("valid name"))
        .collect()
}

pub(super) fn with_bounds<T>(deps: &[&str], f: impl FnOnce(&Bounds<'_>) -> T) -> T {
    let dependencies = names(deps);
    f(&Bounds {
        dependencies: &dependencies,
        max_ttl: 14 * DAY,
    })
}

pub(super) fn errors(text: &str, bounds: Option<&Bounds<'_>>) -> Vec<ConfigError> {
    match parse(text, bounds) {
        Ok(config) => panic!("expected errors for {text:?}, got {config:?}"),
        Err(errors) => errors,
    }
}

/// The one error of `text`, checked for its position and the words of its message and hint.
pub(super) fn assert_one_error(
    text: &str,
    bounds: Option<&Bounds<'_>>,
    at: (u32, u32),
    words: (&str, &str),
) {
    let errors = errors(text, bounds);
    assert_eq!(errors.len(), 1, "{text:?}: {errors:#?}");
    let error = &errors[0];
    assert_eq!(
        (error.line, error.column),
        (Some(at.0), Some(at.1)),
        "{text:?}: {error:#?}"
    );
    assert!(error.message.contains(words.0), "{text:?}: {error:#?}");
    let hint = error.hint.as_deref().unwrap_or_default();
    assert!(hint.contains(words.1), "{text:?}: {error:#?}");
}

#[test]
fn empty_or_comment_only_files_are_the_default() {
    for text in [
        "",
        "\n\n",
        "# nothing to change\n",
        "---\n",
        "~\n",
        "dependencies:\n  # api: pr-1\n",
    ] {
        assert_eq!(parse(text, None), Ok(RepoConfig::default()), "{text:?}");
    }
}

#[test]
fn every_key_is_read() {
    let text =
        "dependencies:\n  api: pr-123\n  billing: staging\nttl: 5d\nspot: false\nsleep: false\n";
    let config = with_bounds(&["api", "billing"], |b| parse(text, Some(b))).expect("valid");
    let expected = RepoConfig {
        dependencies: BTreeMap::from([
            (
                names(&["api"])[0].clone(),
                DependencyTarget::PullRequest(123),
            ),
            (names(&["billing"])[0].clone(), DependencyTarget::Staging),
        ]),
        ttl: Some(5 * DAY),
        spot: Some(false),
        sleep: Some(false),
    };
    assert_eq!(config, expected);
}

#[test]
fn valid_values_are_accepted() {
    let only = |ttl: Option<Duration>, spot: Option<bool>, sleep: Option<bool>| RepoConfig {
        ttl,
        spot,
        sleep,
        ..RepoConfig::default()
    };
    #[rustfmt::skip]
    let cases = [
        ("spot: true", only(None, Some(true), None)),
        ("sleep: True", only(None, None, Some(true))),
        ("ttl: 1h", only(Some(HOUR), None, None)),
        ("ttl: 14days", only(Some(14 * DAY), None, None)),
        ("ttl: 2d 12h", only(Some(60 * HOUR), None, None)),
        ("ttl: '90m'", only(Some(HOUR + HOUR / 2), None, None)),
        ("{ttl: 3d, spot: false}", only(Some(3 * DAY), Some(false), None)),
    ];
    for (text, expected) in cases {
        let parsed = with_bounds(&[], |b| parse(text, Some(b)));
        assert_eq!(parsed, Ok(expected), "{text}");
    }
}

#[test]
fn unknown_keys_suggest_the_closest_one() {
    #[rustfmt::skip]
    let cases = [
        ("dependancies:\n  api: pr-1\n", (1, 1), "did you mean `dependencies`?"),
        ("tll: 5d\n", (1, 1), "did you mean `ttl`?"),
        ("TTL: 5d\n", (1, 1), "did you mean `ttl`?"),
        ("spots: false\n", (1, 1), "did you mean `spot`?"),
        ("image: evil/image\n", (1, 1), "images, URLs, hosts and namespaces come from the fleet"),
        ("colour: blue\n", (1, 1), "the settings are `dependencies`, `ttl`, `spot` or `sleep`"),
        ("access: public\n", (1, 1), "is the fleet's to decide, not the PR's"),
        ("ttl: 5d\nnamespace: kube-system\n", (2, 1), "the settings are"),
    ];
    for (text, at, hint) in cases {
        assert_one_error(text, None, at, ("unknown setting", hint));
    }
}

#[test]
fn ttls_are_durations_within_bounds() {
    #[rustfmt::skip]
    let cases = [
        ("ttl: 30m\n", "a TTL of `30m` is shorter than the minimum of `1h`", "at least `1h`"),
        ("ttl: 0s\n", "shorter than the minimum", "at least `1h`"),
        ("ttl: 15d\n", "a TTL of `15d` is longer than the fleet's maximum of `14d`", "at most `14d`"),
        ("ttl: 900d\n", "a TTL of `900d` is longer than the fleet's maximum of `14d`", "at most `14d`"),
        ("ttl: ' 2weeks 1h '\n", "a TTL of `2weeks 1h` is longer", "at most `14d`"),
        ("ttl: 5\n", "`5` has no unit", "`5h` or `5d`"),
        ("ttl: soon\n", "`soon` is not a duration", "e.g. `36h`"),
        ("ttl: -5d\n", "is not a duration", "e.g. `36h`"),
        ("ttl: true\n", "must be a duration, found a boolean", "ttl: 5d"),
    ];
    with_bounds(&[], |b| {
        for (text, message, hint) in cases {
            assert_one_error(text, Some(b), (1, 6), (message, hint));
        }
    });
    assert_eq!(parse("ttl: 30d\n", None).map(|c| c.ttl), Ok(Some(30 * DAY)));
}

#[test]
fn the_maximum_ttl_is_shown_in_its_short_form() {
    let dependencies = names(&[]);
    let bounds = Bounds {
        dependencies: &dependencies,
        max_ttl: 2 * DAY + 12 * HOUR + Duration::from_millis(1500),
    };
    let errors = errors("ttl: 900d\n", Some(&bounds));
    assert_eq!(
        errors[0].message,
        "a TTL of `900d` is longer than the fleet's maximum of `2d 12h 1s 500ms`"
    );
}

#[test]
fn short_durations_read_back_to_the_same_duration() {
    #[rustfmt::skip]
    let cases = [
        (Duration::ZERO, "0s"),
        (14 * DAY, "14d"),
        (900 * DAY, "900d"),
        (DAY + HOUR + Duration::from_secs(61), "1d 1h 1m 1s"),
        (Duration::from_nanos(1_002_003_004), "1s 2ms 3us 4ns"),
    ];
    for (duration, text) in cases {
        assert_eq!(yaml::short_duration(duration), text);
        assert_eq!(humantime::parse_duration(text), Ok(duration));
    }
}

#[test]
fn switches_take_booleans_only() {
    let hint = "write `true` or `false`";
    for (text, found) in [
        ("spot: no\n", "found `no`"),
        ("spot: off\n", "found `off`"),
        ("spot: 'false'\n", "found `false`"),
        ("spot: 0\n", "found a number"),
        ("spot:\n", "found nothing"),
    ] {
        let errors = errors(text, None);
        assert_eq!(errors.len(), 1, "{text}: {errors:#?}");
        assert!(errors[0].message.contains(found), "{text}: {errors:#?}");
        assert!(errors[0].hint.as_deref().unwrap_or_default().contains(hint));
    }
    assert_one_error(
        "sleep: yes\n",
        None,
        (1, 8),
        ("`sleep` must be `true` or `false`", hint),
    );
}

#[test]
fn repeated_keys_are_reported_with_the_first_line() {
    assert_one_error(
        "ttl: 2d\nspot: false\nttl: 3d\n",
        None,
        (3, 1),
        ("`ttl` is set twice", "line 1"),
    );
    let text = "dependencies:\n  api: pr-1\n  api: pr-2\n";
    assert_one_error(
        text,
        None,
        (3, 3),
        ("dependency `api` is set twice", "line 2"),
    );
}

#[test]
fn the_file_must_be_a_mapping() {
    assert_one_error(
        "- ttl: 5d\n",
        None,
        (1, 1),
        (
            "must be a mapping of settings, found a list",
            "`key: value`",
        ),
    );
    assert_one_error("just text\n", None, (1, 1), ("found text", "`key: value`"));
}

#[test]
fn non_text_keys_are_rejected() {
    let errors = errors("? [a, b]\n: 1\n42: x\n", None);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].message.contains("plain text"), "{errors:#?}");
    assert!(
        errors[1].message.contains("unknown setting `42`"),
        "{errors:#?}"
    );
}

#[test]
fn syntax_errors_give_one_error_with_the_line() {
    let errors = errors("ttl: 5d\ndependencies:\n  api: pr-1\n bad: [\n", None);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].line.is_some(), "{errors:#?}");
    assert!(
        errors[0]
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("YAML syntax")
    );
    let errors = self::errors("ttl: 5d\n---\nttl: 6d\n", None);
    assert_eq!((errors.len(), errors[0].line), (1, Some(3)), "{errors:#?}");
}

#[test]
fn every_error_is_reported_in_file_order() {
    let text = "tll: 5d\nspot: yes\ndependencies:\n  api: 12\n  web: https://x.example.com\nsleep: maybe\n";
    let lines: Vec<_> = errors(text, None).iter().map(|e| e.line).collect();
    assert_eq!(lines, [Some(1), Some(2), Some(4), Some(5), Some(6)]);
}

#[test]
fn render_errors_prints_one_block_per_error() {
    let text = "tll: 5d\nspot: yes\ndependencies:\n  api: 12\n  serch: pr-4\n  web: https://web.example.com\nsleep: false\nttl: 1d\n";
    let errors = with_bounds(&["api", "search"], |b| errors(text, Some(b)));
    insta::assert_snapshot!(
        "render_errors_several",
        render_errors(".preview.yaml", &errors)
    );
}

#[test]
fn render_errors_omits_unknown_positions() {
    let errors = [
        ConfigError {
            line: None,
            column: None,
            message: "too big".into(),
            hint: None,
        },
        ConfigError {
            line: Some(4),
            column: None,
            message: "odd".into(),
            hint: Some("fix it".into()),
        },
    ];
    let expected = "p.yaml: error: too big\n\np.yaml:4: error: odd\n  = hint: fix it\n";
    assert_eq!(render_errors("p.yaml", &errors), expected);
}

#[test]
fn the_example_file_is_valid_for_the_example_fleet() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/preview.yaml"
    ));
    let fleet_text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/fleet.yaml"
    ));
    let fleet = crate::fleet::Fleet::from_yaml(fleet_text).expect("example fleet is valid");
    let web = fleet.service("web").expect("example fleet has web");
    let bounds = Bounds {
        dependencies: &web.dependencies,
        max_ttl: web.policy.max_ttl,
    };
    let config = parse(text, Some(&bounds)).expect("example repo config is valid");
    assert!(!config.dependencies.is_empty());
    assert!(config.ttl.is_some());
}

mod dependencies;
mod hostile;
mod properties;
