mod properties;

use std::time::Duration;

use serde_json::{Value, json};

use super::*;

pub(super) const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn repo() -> RepoName {
    "acme/web".parse().expect("repo")
}

pub(super) fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("json")
}

fn pr_payload(action: &str) -> Value {
    json!({
        "action": action,
        "number": 7,
        "pull_request": {"number": 7, "title": "t", "extra": [1, 2, 3]},
        "repository": {"full_name": "acme/web", "id": 1},
        "sender": {"login": "octocat"},
    })
}

fn comment_payload(action: &str, body: &str, on_pr: bool) -> Value {
    let mut issue = json!({"number": 7, "title": "t"});
    if on_pr {
        issue["pull_request"] = json!({"url": "https://api.github.com/repos/acme/web/pulls/7"});
    }
    json!({
        "action": action,
        "issue": issue,
        "comment": {"id": 1, "body": body, "user": {"login": "octocat"}},
        "repository": {"full_name": "acme/web"},
    })
}

fn ignored_reason(event: Result<Event, PayloadError>) -> String {
    match event {
        Ok(Event::Ignored { reason, .. }) => reason,
        other => panic!("expected Ignored, got {other:?}"),
    }
}

#[test]
fn every_pull_request_action_that_matters_is_an_event() {
    let actions = [
        ("opened", PullRequestAction::Opened),
        ("reopened", PullRequestAction::Reopened),
        ("synchronize", PullRequestAction::Synchronize),
        ("labeled", PullRequestAction::Labeled),
        ("unlabeled", PullRequestAction::Unlabeled),
        ("closed", PullRequestAction::Closed),
        ("ready_for_review", PullRequestAction::ReadyForReview),
        ("converted_to_draft", PullRequestAction::ConvertedToDraft),
        ("edited", PullRequestAction::Edited),
    ];
    for (wire, action) in actions {
        assert_eq!(action.as_str(), wire);
        let event = parse("pull_request", &bytes(&pr_payload(wire))).expect(wire);
        assert_eq!(
            event,
            Event::PullRequest {
                repo: repo(),
                number: 7,
                action
            }
        );
    }
}

#[test]
fn other_and_unknown_pull_request_actions_are_ignored_not_errors() {
    for action in [
        "assigned",
        "review_requested",
        "stacked",
        "some_future_action",
    ] {
        let event = parse("pull_request", &bytes(&pr_payload(action))).expect(action);
        let Event::Ignored {
            event,
            action: Some(seen),
            ..
        } = event
        else {
            panic!("{action}: {event:?}");
        };
        assert_eq!((event.as_str(), seen.as_str()), ("pull_request", action));
    }
    assert_eq!(
        PullRequestAction::from_wire("assigned"),
        PullRequestAction::Other("assigned".into())
    );
}

#[test]
fn the_number_falls_back_to_the_pull_requests_own() {
    let mut payload = pr_payload("opened");
    payload.as_object_mut().expect("object").remove("number");
    let event = parse("pull_request", &bytes(&payload)).expect("parses");
    assert!(matches!(event, Event::PullRequest { number: 7, .. }));
}

#[test]
fn pull_requests_without_what_we_need_are_precise_errors() {
    let mut no_repo = pr_payload("opened");
    no_repo["repository"] = json!({});
    assert_eq!(
        parse("pull_request", &bytes(&no_repo)),
        Err(PayloadError::Missing("repository.full_name"))
    );
    let mut bad_repo = pr_payload("opened");
    bad_repo["repository"]["full_name"] = json!("../../etc");
    assert!(matches!(
        parse("pull_request", &bytes(&bad_repo)),
        Err(PayloadError::Invalid {
            field: "repository.full_name",
            ..
        })
    ));
    let mut wrong_type = pr_payload("opened");
    wrong_type["number"] = json!("seven");
    let error = parse("pull_request", &bytes(&wrong_type)).expect_err("a string number");
    assert!(error.to_string().contains("pull_request"), "{error}");
    let mut zero = pr_payload("opened");
    zero["number"] = json!(0);
    assert!(parse("pull_request", &bytes(&zero)).is_err());
    assert_eq!(
        parse("pull_request", br#"{"number": 7}"#),
        Err(PayloadError::Missing("action"))
    );
    assert!(matches!(
        parse("pull_request", b"not json"),
        Err(PayloadError::Json { .. })
    ));
    assert_eq!(
        parse("pull_request", b"payload=%7B%7D"),
        Err(PayloadError::FormEncoded)
    );
}

#[test]
fn ping_answers_with_its_zen() {
    let event = parse(
        "ping",
        br#"{"zen": "Keep it logically awesome.", "hook_id": 1}"#,
    );
    assert_eq!(
        event,
        Ok(Event::Ping {
            zen: "Keep it logically awesome.".into()
        })
    );
    assert_eq!(parse("ping", b"{}"), Ok(Event::Ping { zen: String::new() }));
}

#[test]
fn unknown_events_are_ignored_with_their_action() {
    let event = parse("deployment_status", br#"{"action": "created"}"#).expect("parses");
    assert_eq!(
        event,
        Event::Ignored {
            event: "deployment_status".into(),
            action: Some("created".into()),
            reason: "preview-tower does not act on this event".into(),
        }
    );
    // Not even JSON: an event we do not read is not judged.
    assert!(matches!(
        parse("push", b"\xff\xfe"),
        Ok(Event::Ignored { action: None, .. })
    ));
}

#[test]
fn preview_commands_on_a_pull_request_are_events() {
    let cases = [
        ("/preview keep", Command::Keep),
        ("/preview wake", Command::Wake),
        (
            "/preview extend 3d",
            Command::Extend(Duration::from_secs(3 * 86_400)),
        ),
    ];
    for (body, command) in cases {
        let event = parse(
            "issue_comment",
            &bytes(&comment_payload("created", body, true)),
        );
        assert_eq!(
            event,
            Ok(Event::Command {
                repo: repo(),
                number: 7,
                author: "octocat".into(),
                command
            }),
            "{body}"
        );
    }
}

#[test]
fn bad_or_unknown_commands_are_ignored_with_the_reason() {
    let cases = [
        ("/preview extend 0s", "longer than zero"),
        ("/preview extend 91d", "at most 90 days"),
        ("/preview extend soon", "not a duration"),
        (
            "/preview frobnicate",
            "unknown command `/preview frobnicate`",
        ),
    ];
    for (body, expected) in cases {
        let payload = comment_payload("created", body, true);
        let reason = ignored_reason(parse("issue_comment", &bytes(&payload)));
        assert!(reason.contains(expected), "{body}: {reason}");
    }
}

#[test]
fn edited_deleted_and_plain_comments_are_ignored() {
    for action in ["edited", "deleted"] {
        let payload = comment_payload(action, "/preview keep", true);
        let reason = ignored_reason(parse("issue_comment", &bytes(&payload)));
        assert!(reason.contains("only new comments"), "{reason}");
    }
    let on_issue = comment_payload("created", "/preview keep", false);
    let reason = ignored_reason(parse("issue_comment", &bytes(&on_issue)));
    assert!(reason.contains("not on a pull request"), "{reason}");
    let mut null_pr = comment_payload("created", "/preview keep", true);
    null_pr["issue"]["pull_request"] = Value::Null;
    ignored_reason(parse("issue_comment", &bytes(&null_pr)));
    let chatter = comment_payload("created", "LGTM, ship it", true);
    let reason = ignored_reason(parse("issue_comment", &bytes(&chatter)));
    assert!(reason.contains("no /preview command"), "{reason}");
}

#[test]
fn a_command_from_a_login_github_never_sends_is_refused() {
    let mut payload = comment_payload("created", "/preview keep", true);
    payload["comment"]["user"]["login"] = json!("octo/../cat");
    assert!(matches!(
        parse("issue_comment", &bytes(&payload)),
        Err(PayloadError::Invalid {
            field: "comment.user.login",
            ..
        })
    ));
}

fn build_payload(event: &str, action: &str, conclusion: Option<&str>) -> Value {
    let run = json!({"name": "build-image", "head_sha": SHA, "conclusion": conclusion,
        "status": "completed", "app": {"slug": "github-actions"}});
    json!({"action": action, event: run, "repository": {"full_name": "acme/web"}})
}

#[test]
fn completed_builds_are_events_named_as_the_fleet_names_them() {
    for (event, name) in [
        ("check_run", "build-image"),
        ("workflow_run", "build-image"),
        ("check_suite", "github-actions"),
    ] {
        let payload = build_payload(event, "completed", Some("success"));
        assert_eq!(
            parse(event, &bytes(&payload)),
            Ok(Event::BuildFinished {
                repo: repo(),
                head_sha: SHA.into(),
                name: name.into(),
                conclusion: Conclusion::Success,
            }),
            "{event}"
        );
    }
    let failed = build_payload("check_run", "completed", Some("failure"));
    let Ok(Event::BuildFinished { conclusion, .. }) = parse("check_run", &bytes(&failed)) else {
        panic!("a failed build is an event");
    };
    assert!(!conclusion.is_success());
    assert_eq!(
        Conclusion::from_wire("brand_new"),
        Conclusion::Other("brand_new".into())
    );
}

#[test]
fn builds_not_completed_or_without_a_conclusion_are_ignored() {
    let requested = build_payload("workflow_run", "requested", None);
    ignored_reason(parse("workflow_run", &bytes(&requested)));
    let no_conclusion = build_payload("check_suite", "completed", None);
    ignored_reason(parse("check_suite", &bytes(&no_conclusion)));
}

#[test]
fn builds_of_a_short_or_missing_sha_are_errors() {
    let mut short_sha = build_payload("check_run", "completed", Some("success"));
    short_sha["check_run"]["head_sha"] = json!("0123abc");
    assert!(matches!(
        parse("check_run", &bytes(&short_sha)),
        Err(PayloadError::Invalid {
            field: "check_run.head_sha",
            ..
        })
    ));
    let mut no_slug = build_payload("check_suite", "completed", Some("success"));
    no_slug["check_suite"]["app"] = Value::Null;
    assert_eq!(
        parse("check_suite", &bytes(&no_slug)),
        Err(PayloadError::Missing("check_suite.app.slug"))
    );
    let mut long_name = build_payload("check_run", "completed", Some("success"));
    long_name["check_run"]["name"] = json!("n".repeat(MAX_NAME_CHARS + 1));
    assert!(parse("check_run", &bytes(&long_name)).is_err());
}

#[test]
fn quoted_values_are_bounded() {
    let mut payload = pr_payload("opened");
    payload["repository"]["full_name"] = json!("x".repeat(100_000));
    let error = parse("pull_request", &bytes(&payload)).expect_err("invalid");
    assert!(error.to_string().chars().count() < 300, "{error}");
    let action = "a".repeat(10_000);
    let Ok(Event::Ignored {
        action: Some(kept),
        event,
        ..
    }) = parse(&"e".repeat(10_000), &bytes(&json!({ "action": action })))
    else {
        panic!("ignored");
    };
    assert!(kept.chars().count() <= 65 && event.chars().count() <= 65);
}

#[test]
fn event_labels_are_bounded() {
    assert_eq!(event_label("pull_request"), "pull_request");
    assert_eq!(event_label("check_suite"), "check_suite");
    assert_eq!(event_label("anything a sender writes"), "other");
}

#[test]
fn a_huge_field_of_the_wrong_type_is_refused_with_a_short_message() {
    let mut payload = pr_payload("opened");
    payload["number"] = json!(format!("{}\u{2028}", "7\n".repeat(1_000_000)));
    let Err(error) = parse("pull_request", &bytes(&payload)) else {
        panic!("a string number was read");
    };
    let message = error.to_string();
    assert!(message.contains("invalid type: string"), "{message}");
    assert!(message.chars().count() < 400, "{} chars", message.len());
    assert!(!message.chars().any(char::is_control), "{message}");
}
