//! Untrusted input: size, nesting and alias limits, escaping, and no panics on any text.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::super::*;
use super::{DAY, errors, names};

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_any_text(text in any::<String>()) {
        if let Err(errors) = parse(&text, None) {
            prop_assert!(!errors.is_empty());
        }
    }

    #[test]
    fn parse_never_panics_on_yaml_ish_text(
        text in "([a-z_]{0,12}|[-:\\[\\]{}&*!|>'\"#?,. ~<]|[0-9]{1,12}|pr-|staging|ttl|spot|sleep|dependencies|\n  |\n){0,60}"
    ) {
        let dependencies = names(&["api", "web"]);
        let bounds = Bounds { dependencies: &dependencies, max_ttl: 14 * DAY };
        for result in [parse(&text, Some(&bounds)), parse(&text, None)] {
            if let Err(errors) = result {
                prop_assert!(!errors.is_empty() && errors.iter().all(|e| !e.message.is_empty()));
            }
        }
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
