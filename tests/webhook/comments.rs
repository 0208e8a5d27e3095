//! `issue_comment` deliveries: `/preview` commands on pull requests reach the sink (to be
//! authorized there); comments on issues, bad commands and chatter are ignored with a reason.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{REPO, Receiver, bytes, delivery, delivery_id, repo};
use crate::support::webhook_payload;
use preview_tower::github::webhook::Event;
use preview_tower::pull_request::Command;

/// `issue_comment` `created` by `login` with `body`, on PR #7 (or on issue #7).
fn comment(body: &str, login: &str, on_pull_request: bool) -> Value {
    let mut fields = vec![
        ("/issue/number", json!(7)),
        ("/comment/body", json!(body)),
        ("/comment/user/login", json!(login)),
        ("/repository/full_name", json!(REPO)),
    ];
    if on_pull_request {
        let api = "https://api.github.com/repos/acme/web/pulls/7";
        fields.push((
            "/issue/pull_request",
            json!({"url": api, "html_url": "https://github.com/acme/web/pull/7",
                   "diff_url": "https://github.com/acme/web/pull/7.diff",
                   "patch_url": "https://github.com/acme/web/pull/7.patch"}),
        ));
    }
    webhook_payload::build("issue_comment", "created", &fields)
}

#[tokio::test]
async fn preview_commands_on_pull_requests_are_delivered_for_authorization() {
    let receiver = Receiver::new();
    for text in [
        "/preview keep",
        "Please\n\n/preview extend 3d",
        "/preview wake",
    ] {
        let body = bytes(&comment(text, "mona", true));
        let (status, answer) = receiver
            .send(delivery("issue_comment", &delivery_id(), body))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{text}: {answer}");
    }
    let commands: Vec<Command> = receiver
        .sink
        .events()
        .into_iter()
        .map(|event| match event {
            Event::Command {
                repo: r,
                number: 7,
                author,
                command,
            } if r == repo() && author == "mona" => command,
            other => panic!("{other:?}"),
        })
        .collect();
    let three_days = Duration::from_secs(3 * 24 * 3600);
    assert_eq!(
        commands,
        [Command::Keep, Command::Extend(three_days), Command::Wake]
    );
}

#[tokio::test]
async fn comments_on_issues_bad_commands_and_chatter_are_ignored_with_a_reason() {
    let receiver = Receiver::new();
    let cases = [
        (
            comment("/preview keep", "mona", false),
            "not on a pull request",
        ),
        (
            comment("/preview extend 120d", "mona", true),
            "at most 90 days",
        ),
        (
            comment("/preview extend 0m", "mona", true),
            "longer than zero",
        ),
        (comment("/preview deploy", "mona", true), "unknown command"),
        (
            comment("Looks good to me", "mona", true),
            "no /preview command",
        ),
    ];
    for (payload, reason) in cases {
        let (status, answer) = receiver
            .send(delivery("issue_comment", &delivery_id(), bytes(&payload)))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(answer["status"], "ignored");
        let given = answer["reason"].as_str().unwrap();
        assert!(given.contains(reason), "{given:?} should say {reason:?}");
    }
    assert!(receiver.sink.events().is_empty());
}
