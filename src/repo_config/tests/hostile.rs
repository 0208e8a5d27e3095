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

#[test]
fn quoted_text_cannot_close_its_code_span_or_break_the_line() {
    let errors = errors("dependencies:\n  api: \"`x` [y](z)\\n``` \\u202e\"\n", None);
    assert_eq!(
        errors[0].message,
        r"`'x' [y](z)\n''' \u{202e}` is not a dependency target"
    );
    let errors = self::errors("ttl: ''\n", None);
    assert_eq!(errors[0].message, r#"`""` is not a duration"#);
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
    #![proptest_config(ProptestConfig::with_cases(512))]

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
