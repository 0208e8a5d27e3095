//! What the random-input checks of the parsers of untrusted input share: how many cases they
//! run, what a clear error message is, and hostile text.
//!
//! The checks live in modules named `properties` beside each parser (the webhook payload
//! decoder and the `/preview` grammar, the repo config, the plugin request body), so that one
//! filter selects them all. They run [`config`]'s modest count in the test suite, and as many
//! cases as `PROPTEST_CASES` says for the long run (`docs/security.md`).

use proptest::prelude::*;
use proptest::test_runner::Config;

/// Cases of each check in the test suite.
const SUITE_CASES: u32 = 512;

/// Longest error message a parser may produce, in characters: it quotes little of its input.
pub(crate) const MAX_MESSAGE_CHARS: usize = 600;

/// [`SUITE_CASES`] cases, or `PROPTEST_CASES` when it is set.
pub(crate) fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(SUITE_CASES);
    Config {
        cases,
        ..Config::default()
    }
}

/// Whether `message` is a clear error message: not empty, on one line (no control character
/// nor line or paragraph separator) and at most [`MAX_MESSAGE_CHARS`] characters.
pub(crate) fn is_clear(message: &str) -> bool {
    !message.trim().is_empty()
        && message.chars().count() <= MAX_MESSAGE_CHARS
        && !message
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
}

/// Text an attacker would write: control characters, quotes, backticks, bidi overrides,
/// huge runs, near-valid words; or anything at all.
pub(crate) fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "([\0\n\r\t\u{1b}\u{7f}\u{85}\u{2028}\u{202e}\u{200b}\u{feff}`\"'\\\\{}\\[\\]<>]|[a-z0-9/:.#-]{1,6}|previews|pr-7|/preview|extend|acme/web| ){0,24}",
        1 => any::<String>(),
        1 => ("[a-z`\n]", 200..3000usize).prop_map(|(c, n)| c.repeat(n)),
    ]
}

/// A JSON number or near-number an attacker would send.
pub(crate) fn hostile_number() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        any::<u64>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::from(0)),
        "[0-9]{1,30}".prop_map(serde_json::Value::from),
        hostile_text().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        Just(serde_json::json!([1])),
    ]
}

/// Arbitrary bytes, or arbitrary bytes after the start of something valid (`prefix`).
pub(crate) fn hostile_bytes(prefix: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..1024),
        prop::collection::vec(any::<u8>(), 0..256).prop_map(move |tail| [prefix, &tail].concat()),
    ]
}
