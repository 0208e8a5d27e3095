//! `parse` and `parse_command` never panic, whatever the bytes and the event name.

use proptest::prelude::*;
use serde_json::Value;

use super::{SHA, bytes};
use crate::github::webhook::{parse, parse_command};

const EVENTS: &[&str] = &[
    "ping",
    "pull_request",
    "issue_comment",
    "check_run",
    "check_suite",
    "workflow_run",
    "push",
];

/// JSON-ish bodies: arbitrary values under the keys `parse` reads, so that the fuzzing reaches
/// past the first `serde` error.
fn json_body() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        prop::sample::select(vec![
            "created",
            "completed",
            "opened",
            "/preview extend 3d",
            SHA
        ])
        .prop_map(Value::from),
    ];
    let keys = prop::sample::select(vec![
        "action",
        "number",
        "pull_request",
        "repository",
        "full_name",
        "issue",
        "comment",
        "body",
        "user",
        "login",
        "check_run",
        "check_suite",
        "workflow_run",
        "app",
        "slug",
        "name",
        "head_sha",
        "conclusion",
        "zen",
    ]);
    let value = leaf.prop_recursive(4, 48, 6, move |inner| {
        prop::collection::btree_map(keys.clone(), inner, 0..6).prop_map(|map| {
            Value::Object(map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
        })
    });
    value.prop_map(|v| bytes(&v))
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_bytes(
        event in prop_oneof![prop::sample::select(EVENTS.to_vec()).prop_map(str::to_owned), ".{0,30}"],
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let _ = parse(&event, &body);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_json(
        event in prop::sample::select(EVENTS.to_vec()),
        body in json_body(),
    ) {
        let _ = parse(event, &body);
    }

    #[test]
    fn parse_command_never_panics(body in ".{0,400}") {
        let _ = parse_command(&body);
    }
}
