//! `parse` and `parse_command` on untrusted input: never a panic, every error a clear message,
//! and what they keep bounded. Random input: arbitrary bytes, JSON under the keys `parse`
//! reads, and valid payload shapes holding hostile values; comments with hostile commands.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{SHA, bytes};
use crate::github::valid_login;
use crate::github::webhook::{Event, MAX_LABEL_CHARS, MAX_NAME_CHARS, parse};
use crate::pull_request::is_full_sha;
use crate::pull_request::{Command, MAX_EXTENSION, parse_command};
use crate::testing::untrusted::{self, hostile_number, hostile_text};

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

/// What a payload of each event looks like, with hostile values where `parse` reads:
/// `(event, payload)`.
fn hostile_payload() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    let text = || prop_oneof![hostile_text().prop_map(Value::from), hostile_number()];
    let action = prop_oneof![
        prop::sample::select(vec!["opened", "labeled", "created", "completed", "edited"])
            .prop_map(Value::from),
        text(),
    ];
    let repo = prop_oneof![Just(Value::from("acme/web")), text()];
    let number = prop_oneof![Just(Value::from(7)), hostile_number()];
    let sha = prop_oneof![Just(Value::from(SHA)), text()];
    let comment = prop_oneof![
        hostile_text().prop_map(|t| Value::from(format!("/preview {t}"))),
        text(),
    ];
    let login = prop_oneof![Just(Value::from("octocat")), text()];
    let fields = (action, repo, number, sha, text(), comment, login);
    (prop::sample::select(EVENTS.to_vec()), fields).prop_map(|(event, fields)| {
        let (action, repo, number, sha, name, comment, login) = fields;
        let repository = json!({"full_name": repo});
        let payload = match event {
            "ping" => json!({"zen": name}),
            "pull_request" => json!({"action": action, "number": number,
                "pull_request": {"number": number}, "repository": repository}),
            "issue_comment" => json!({"action": action,
                "issue": {"number": number, "pull_request": {"url": "u"}},
                "comment": {"body": comment, "user": {"login": login}}, "repository": repository}),
            "check_run" => json!({"action": action, "repository": repository,
                "check_run": {"name": name, "head_sha": sha, "conclusion": comment}}),
            "check_suite" => json!({"action": action, "repository": repository,
                "check_suite": {"head_sha": sha, "conclusion": name, "app": {"slug": name}}}),
            "workflow_run" => json!({"action": action, "repository": repository,
                "workflow_run": {"name": name, "head_sha": sha, "conclusion": "success"}}),
            _ => json!({"action": action, "repository": repository}),
        };
        (event, bytes(&payload))
    })
}

/// `parse`'s answer to `body`: an error is a clear message, and what an event keeps is bounded.
fn checked(event: &str, body: &[u8]) -> Result<(), TestCaseError> {
    let shown = |text: &str, max: usize| {
        text.chars().count() <= max + 1 && !text.chars().any(char::is_control)
    };
    match parse(event, body) {
        Err(error) => {
            let message = error.to_string();
            prop_assert!(untrusted::is_clear(&message), "{:?}", message);
        }
        Ok(Event::Ignored {
            event,
            action,
            reason,
        }) => {
            prop_assert!(shown(&event, MAX_LABEL_CHARS), "{:?}", event);
            prop_assert!(action.is_none_or(|a| shown(&a, MAX_LABEL_CHARS)));
            prop_assert!(untrusted::is_clear(&reason), "{:?}", reason);
        }
        Ok(Event::Ping { zen }) => prop_assert!(shown(&zen, 200), "{:?}", zen),
        Ok(Event::PullRequest { number, .. }) => prop_assert!(number >= 1),
        Ok(Event::BuildFinished { head_sha, name, .. }) => {
            prop_assert!(is_full_sha(&head_sha), "{:?}", head_sha);
            prop_assert!(!name.is_empty() && name.chars().count() <= MAX_NAME_CHARS);
        }
        Ok(Event::Command {
            number,
            author,
            command,
            ..
        }) => {
            prop_assert!(number >= 1 && valid_login(&author), "{:?}", author);
            if let Command::Extend(by) = command {
                prop_assert!(!by.is_zero() && by <= MAX_EXTENSION);
            }
        }
    }
    Ok(())
}

/// A comment giving a command, or trying to: hostile text around and after `/preview`.
fn hostile_comment() -> impl Strategy<Value = String> {
    let verb = prop_oneof![
        prop::sample::select(vec!["keep", "wake", "extend", "EXTEND", "extend 3d"])
            .prop_map(str::to_owned),
        hostile_text(),
    ];
    (hostile_text(), verb, hostile_text(), any::<bool>()).prop_map(
        |(before, verb, after, fenced)| {
            let fence = if fenced { "```\n" } else { "" };
            format!("{before}\n{fence}/preview {verb} {after}\n")
        },
    )
}

proptest! {
    #![proptest_config(untrusted::config())]

    #[test]
    fn arbitrary_bytes_are_read_or_refused_clearly(
        event in prop_oneof![prop::sample::select(EVENTS.to_vec()).prop_map(str::to_owned), ".{0,30}"],
        body in untrusted::hostile_bytes(br#"{"action":"opened","number":7,"repository":{"full_name":"#),
    ) {
        checked(&event, &body)?;
    }

    #[test]
    fn json_under_the_keys_read_is_read_or_refused_clearly(
        event in prop::sample::select(EVENTS.to_vec()),
        body in json_body(),
    ) {
        checked(event, &body)?;
    }

    #[test]
    fn payload_shapes_with_hostile_values_are_read_or_refused_clearly(
        (event, body) in hostile_payload(),
    ) {
        checked(event, &body)?;
    }

    #[test]
    fn commands_are_read_or_refused_clearly(
        body in prop_oneof![hostile_comment(), hostile_text(), ".{0,400}"],
    ) {
        match parse_command(&body) {
            Ok(Some(Command::Extend(by))) => prop_assert!(!by.is_zero() && by <= MAX_EXTENSION),
            Ok(_) => {}
            Err(error) => {
                let message = error.to_string();
                prop_assert!(untrusted::is_clear(&message), "{:?}", message);
            }
        }
    }
}
