use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

fn names(names: &[&str]) -> Vec<ServiceName> {
    names
        .iter()
        .map(|n| ServiceName::new(n).expect("valid name"))
        .collect()
}

fn with_bounds<T>(deps: &[&str], f: impl FnOnce(&Bounds<'_>) -> T) -> T {
    let dependencies = names(deps);
    f(&Bounds {
        dependencies: &dependencies,
        max_ttl: 14 * DAY,
    })
}

fn errors(text: &str, bounds: Option<&Bounds<'_>>) -> Vec<ConfigError> {
    match parse(text, bounds) {
        Ok(config) => panic!("expected errors for {text:?}, got {config:?}"),
        Err(errors) => errors,
    }
}

/// The one error of `text`, checked for its position and the words of its message and hint.
fn assert_one_error(text: &str, bounds: Option<&Bounds<'_>>, at: (u32, u32), words: (&str, &str)) {
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
    let cases: &[(&str, RepoConfig)] = &[
        (
            "spot: true",
            RepoConfig {
                spot: Some(true),
                ..RepoConfig::default()
            },
        ),
        (
            "sleep: True",
            RepoConfig {
                sleep: Some(true),
                ..RepoConfig::default()
            },
        ),
        (
            "ttl: 1h",
            RepoConfig {
                ttl: Some(HOUR),
                ..RepoConfig::default()
            },
        ),
        (
            "ttl: 14days",
            RepoConfig {
                ttl: Some(14 * DAY),
                ..RepoConfig::default()
            },
        ),
        (
            "ttl: 2d 12h",
            RepoConfig {
                ttl: Some(60 * HOUR),
                ..RepoConfig::default()
            },
        ),
        (
            "ttl: '90m'",
            RepoConfig {
                ttl: Some(90 * 60 * Duration::from_secs(1)),
                ..RepoConfig::default()
            },
        ),
        (
            "{ttl: 3d, spot: false}",
            RepoConfig {
                ttl: Some(3 * DAY),
                spot: Some(false),
                ..RepoConfig::default()
            },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            with_bounds(&[], |b| parse(text, Some(b))).as_ref(),
            Ok(expected),
            "{text}"
        );
    }
}

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
fn unknown_keys_suggest_the_closest_one() {
    let cases = [
        (
            "dependancies:\n  api: pr-1\n",
            (1, 1),
            "did you mean `dependencies`?",
        ),
        ("tll: 5d\n", (1, 1), "did you mean `ttl`?"),
        ("TTL: 5d\n", (1, 1), "did you mean `ttl`?"),
        ("spots: false\n", (1, 1), "did you mean `spot`?"),
        (
            "image: evil/image\n",
            (1, 1),
            "the settings are `dependencies`, `ttl`, `spot` or `sleep`",
        ),
        (
            "ttl: 5d\nnamespace: kube-system\n",
            (2, 1),
            "the settings are",
        ),
    ];
    for (text, at, hint) in cases {
        assert_one_error(text, None, at, ("unknown setting", hint));
    }
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

#[test]
fn bad_dependency_targets_are_explained() {
    let cases = [
        (
            "https://api.example.com",
            "not a dependency target",
            "URLs, hosts, namespaces and images",
        ),
        (
            "preview-api-pr-3.svc",
            "not a dependency target",
            "namespaces",
        ),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1",
            "not a dependency target",
            "images",
        ),
        (
            "Staging",
            "not a dependency target",
            "did you mean `staging`?",
        ),
        (
            "stagging",
            "not a dependency target",
            "did you mean `staging`?",
        ),
        (
            "main",
            "not a dependency target",
            "write `staging` or `pr-<N>`",
        ),
        ("pr-0", "not a valid PR number", "between 1 and 4294967295"),
        (
            "pr-4294967296",
            "not a valid PR number",
            "between 1 and 4294967295",
        ),
        (
            "pr-99999999999999999999999",
            "not a dependency target",
            "between 1 and 4294967295",
        ),
        ("0", "not a dependency target", "between 1 and 4294967295"),
        ("-3", "not a dependency target", "between 1 and 4294967295"),
        ("true", "must be text, found a boolean", "e.g. `pr-123`"),
        ("[pr-1]", "must be text, found a list", "e.g. `pr-123`"),
        ("", "must be text, found nothing", "e.g. `pr-123`"),
    ];
    for (target, message, hint) in cases {
        let text = format!("dependencies:\n  api: {target}\n");
        let errors = errors(&text, None);
        assert_eq!(errors.len(), 1, "{target}: {errors:#?}");
        assert!(errors[0].message.contains(message), "{target}: {errors:#?}");
        assert!(
            errors[0].hint.as_deref().unwrap_or_default().contains(hint),
            "{target}: {errors:#?}"
        );
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

#[test]
fn ttls_are_durations_within_bounds() {
    let cases = [
        (
            "ttl: 30m\n",
            "shorter than the minimum of 1h",
            "at least `1h`",
        ),
        ("ttl: 0s\n", "shorter than the minimum", "at least `1h`"),
        (
            "ttl: 15d\n",
            "longer than the fleet's maximum of 14days",
            "at most `14days`",
        ),
        ("ttl: 5\n", "`5` has no unit", "`5h` or `5d`"),
        ("ttl: soon\n", "`soon` is not a duration", "e.g. `36h`"),
        ("ttl: -5d\n", "is not a duration", "e.g. `36h`"),
        (
            "ttl: true\n",
            "must be a duration, found a boolean",
            "ttl: 5d",
        ),
    ];
    with_bounds(&[], |b| {
        for (text, message, hint) in cases {
            assert_one_error(text, Some(b), (1, 6), (message, hint));
        }
    });
    assert_eq!(parse("ttl: 30d\n", None).map(|c| c.ttl), Ok(Some(30 * DAY)));
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
fn oversized_files_are_rejected_before_parsing() {
    let text = format!("# {}\n", "x".repeat(MAX_FILE_BYTES));
    let errors = errors(&text, None);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.contains("over the limit of 16384 bytes"),
        "{errors:#?}"
    );
}

#[test]
fn an_alias_bomb_is_rejected_quickly() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        let refs = vec![format!("*{prev}"); 10].join(", ");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    let started = Instant::now();
    let errors = errors(&text, None);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].message.contains("aliases"), "{errors:#?}");
    assert!(
        errors[0]
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("remove anchors")
    );
}

#[test]
fn deeply_nested_input_is_rejected_quickly() {
    let flow = format!("ttl: {}", "[".repeat(5_000));
    let block: String = (0..200)
        .map(|depth| format!("{}k:\n", "  ".repeat(depth)))
        .collect();
    let braces = format!("ttl: {}", "{a: ".repeat(5_000));
    for text in [flow, block, braces] {
        let started = Instant::now();
        let errors = errors(&text, None);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(errors.len(), 1, "{errors:#?}");
    }
}

#[test]
fn untrusted_text_is_escaped_and_cut_in_messages() {
    let text = format!(
        "dependencies:\n  api: \"evil\\u001b[31m{}\"\n",
        "x".repeat(500)
    );
    let errors = errors(&text, None);
    assert!(!errors[0].message.contains('\u{1b}'), "{errors:#?}");
    assert!(errors[0].message.len() < 200, "{errors:#?}");
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_any_text(text in any::<String>()) {
        let _ = parse(&text, None);
    }

    #[test]
    fn parse_never_panics_on_yaml_ish_text(
        text in "([a-z_]{0,12}|[-:\\[\\]{}&*!|>'\"#?,. ~<]|[0-9]{1,12}|pr-|staging|ttl|spot|sleep|dependencies|\n  |\n){0,60}"
    ) {
        let dependencies = names(&["api", "web"]);
        let bounds = Bounds { dependencies: &dependencies, max_ttl: 14 * DAY };
        let _ = parse(&text, Some(&bounds));
        let _ = parse(&text, None);
    }

    #[test]
    fn every_error_of_parsed_text_has_a_message_and_a_line(
        text in "(ttl|spot|sleep|dependencies|tll|  api|  web)(: )([a-z0-9#-]{0,8}|\\[|yes|pr-[0-9]{1,11})\n{1,3}"
    ) {
        if let Err(errors) = parse(&text, None) {
            for error in errors {
                prop_assert!(!error.message.is_empty());
                prop_assert!(error.line.is_some(), "{text:?}: {error:?}");
            }
        }
    }
}
