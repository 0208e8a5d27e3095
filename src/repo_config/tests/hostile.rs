//! Untrusted input: size, nesting and alias limits, escaping. (Random input: `properties.rs`.)

use std::time::{Duration, Instant};

use super::super::*;
use super::errors;

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
