//! How the fleet file's problems are reported: every one collected, each with its field and
//! line; YAML syntax and empty values; and no text, however hostile, makes the parser panic.

use proptest::prelude::*;

use super::*;

#[test]
fn every_error_is_collected_with_its_line() {
    let text = "base_domain: Bad\nrefresh_interval: 1s\nservices:\n  - name: web\n    repo: acme\n    kind: frontend\n    image: r.io/web:v1\n    overlay_path: /x\n    staging_url: https://w\n    colour: blue\n";
    let errors = parse_err(text);
    let fields: Vec<(&str, Option<u32>)> =
        errors.iter().map(|e| (e.field.as_str(), e.line)).collect();
    for expected in [
        ("base_domain", Some(1)),
        ("refresh_interval", Some(2)),
        ("services[0].repo", Some(5)),
        ("services[0].image", Some(7)),
        ("services[0].overlay_path", Some(8)),
        ("services[0].colour", Some(10)),
    ] {
        assert!(
            fields.contains(&expected),
            "{expected:?} not in {fields:#?}"
        );
    }
}

#[test]
fn yaml_syntax_errors_are_one_error_with_the_line() {
    let errors = parse_err("base_domain: a.b\nservices:\n  - name: [web\n");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].field, "");
    assert!(
        errors[0].line.is_some() && errors[0].message.starts_with("invalid YAML"),
        "{errors:#?}"
    );
    assert_eq!(
        parse_err("")[0].message,
        "the fleet file is empty: see docs/configuration.md"
    );
    assert!(parse_err("- a\n")[0].message.contains("must be a mapping"));
}

#[test]
fn empty_values_are_errors_not_silent_failures() {
    let toleration = fleet_yaml("scheduling: {toleration: ~}", "", "");
    let base_domain = BASE.replace("base_domain: preview.example.com", "base_domain: ~");
    let cases = [
        (
            "base_domain: a.b\nservices: [~]\n",
            "services[0]",
            "is empty",
        ),
        (
            toleration.as_str(),
            "scheduling.toleration.key",
            "is required",
        ),
        (
            base_domain.as_str(),
            "base_domain",
            "must be text, found nothing",
        ),
    ];
    for (text, field, words) in cases {
        assert_error(text, field, &[words]);
    }
}

#[test]
fn errors_display_the_field_and_line() {
    let error = FleetError {
        field: "defaults.ttl".into(),
        message: "bad".into(),
        line: Some(3),
    };
    assert_eq!(error.to_string(), "defaults.ttl (line 3): bad");
    let error = FleetError {
        field: String::new(),
        message: "bad".into(),
        line: None,
    };
    assert_eq!(error.to_string(), "bad");
}

proptest! {
    #[test]
    fn from_yaml_never_panics_on_any_text(text in any::<String>()) {
        if let Err(errors) = Fleet::from_yaml(&text) {
            prop_assert!(!errors.is_empty());
        }
    }

    #[test]
    fn from_yaml_never_panics_on_fleet_like_text(
        edits in proptest::collection::vec(("[a-z_]{1,12}", "[-a-z0-9{}:./\\[\\] ]{0,20}"), 0..6)
    ) {
        let web: String = edits.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        for text in [fleet_yaml("", &web, ""), fleet_yaml(&web, "", "")] {
            if let Err(errors) = Fleet::from_yaml(&text) {
                prop_assert!(!errors.is_empty() && errors.iter().all(|e| !e.message.is_empty()));
            }
        }
    }
}
