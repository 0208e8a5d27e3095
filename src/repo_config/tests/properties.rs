//! `parse` on untrusted text: never a panic, every error a clear message kept on its line,
//! whatever the file holds. Random input: arbitrary text and bytes, YAML-ish text, and valid
//! shapes holding hostile values.

use std::time::Duration;

use proptest::prelude::*;

use super::super::*;
use super::{DAY, names};
use crate::testing::untrusted;

/// Every error of `result` has a clear message and, when it has one, a clear hint.
fn clear(result: Result<RepoConfig, Vec<ConfigError>>) -> Result<(), TestCaseError> {
    if let Err(errors) = result {
        prop_assert!(!errors.is_empty());
        for error in errors {
            prop_assert!(untrusted::is_clear(&error.message), "{:?}", error.message);
            if let Some(hint) = &error.hint {
                prop_assert!(untrusted::is_clear(hint), "{:?}", hint);
            }
        }
    }
    Ok(())
}

/// `text` as a YAML double-quoted scalar holding exactly `text`: whatever YAML does not allow
/// raw is escaped.
fn yaml_quoted(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~'
            | '\u{a0}'..='\u{d7ff}'
            | '\u{e000}'..='\u{fefe}'
            | '\u{ff00}'..='\u{fffd}' => {
                out.push(c);
            }
            c if u32::from(c) >= 0x1_0000 => out.push(c),
            c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// Text likely to break Markdown: backticks, newlines, controls, bidi overrides.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "([`\n\r\t\u{1b}\u{85}\u{2028}\u{202e}\u{200b} ]|[a-z0-9:/.#-]{1,4}|ttl|pr-1|staging|api){0,12}",
    ]
}

/// Whether `c` would break a message's line or hide what follows it.
fn breaks_the_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202e}')
}

proptest! {
    #![proptest_config(untrusted::config())]

    /// Whatever the untrusted text, each message keeps it inside its code span and on one line:
    /// a file with backticks reads exactly as the same file with `'` in their place.
    #[test]
    fn messages_never_carry_raw_backticks_or_line_breaks(text in hostile_text()) {
        let dependencies = names(&["api", "web"]);
        let bounds = Bounds { dependencies: &dependencies, max_ttl: 14 * DAY };
        let templates = [
            "ttl: {q}\n",
            "spot: {q}\n",
            "{q}: 5d\n",
            "dependencies:\n  api: {q}\n",
            "dependencies:\n  {q}: staging\n",
        ];
        let plain = text.replace('`', "'");
        for template in templates {
            let file = template.replace("{q}", &yaml_quoted(&text));
            let plain_file = template.replace("{q}", &yaml_quoted(&plain));
            for bounds in [Some(&bounds), None] {
                let result = parse(&file, bounds);
                let rendered = result.clone().map_err(|e| render_errors(".preview.yaml", &e));
                let plain_rendered =
                    parse(&plain_file, bounds).map_err(|e| render_errors(".preview.yaml", &e));
                prop_assert_eq!(&rendered, &plain_rendered, "{:?}", file);
                for error in result.err().unwrap_or_default() {
                    let hint = error.hint.unwrap_or_default();
                    for shown in [error.message, hint] {
                        prop_assert!(!shown.chars().any(breaks_the_line), "{:?}", shown);
                        prop_assert!(shown.matches('`').count() % 2 == 0, "{:?}", shown);
                    }
                }
            }
        }
    }

    #[test]
    fn short_durations_always_read_back(secs in 0u64..100_000_000_000, nanos in 0u32..1_000_000_000) {
        let duration = Duration::new(secs, nanos);
        prop_assert_eq!(humantime::parse_duration(&yaml::short_duration(duration)), Ok(duration));
    }

    #[test]
    fn any_text_or_bytes_parse_or_are_refused_clearly(
        text in prop_oneof![
            any::<String>(),
            untrusted::hostile_bytes(b"dependencies:\n  api: ")
                .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
            untrusted::hostile_text(),
        ],
    ) {
        let dependencies = names(&["api", "web"]);
        let bounds = Bounds { dependencies: &dependencies, max_ttl: 14 * DAY };
        for result in [parse(&text, Some(&bounds)), parse(&text, None)] {
            clear(result)?;
        }
    }

    #[test]
    fn valid_shapes_with_hostile_values_parse_or_are_refused_clearly(
        values in prop::collection::vec(untrusted::hostile_text(), 4),
        keys in prop::collection::vec(
            prop_oneof![untrusted::hostile_text(), Just("api".to_owned()), Just("ttl".to_owned())],
            2,
        ),
    ) {
        let dependencies = names(&["api", "web"]);
        let bounds = Bounds { dependencies: &dependencies, max_ttl: 14 * DAY };
        let text = format!(
            "dependencies:\n  {}: {}\n  web: {}\nttl: {}\nspot: {}\n{}: x\n",
            yaml_quoted(&keys[0]),
            yaml_quoted(&values[0]),
            values[1],
            yaml_quoted(&values[2]),
            values[3],
            yaml_quoted(&keys[1]),
        );
        for result in [parse(&text, Some(&bounds)), parse(&text, None)] {
            clear(result)?;
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
