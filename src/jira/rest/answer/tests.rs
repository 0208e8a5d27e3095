#![allow(clippy::unwrap_used)]

use chrono::TimeZone;
use serde_json::json;

use super::*;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, value.parse().unwrap());
    }
    map
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 5, 12, 0, 0).unwrap()
}

const JIRA_404: &str = r#"{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}"#;

#[test]
fn statuses_map_to_errors_callers_match_on() {
    let table: &[(u16, &str)] = &[
        (400, "rejected"),
        (404, "rejected"),
        (413, "rejected"),
        (401, "unauthorized"),
        (403, "unauthorized"),
        (429, "rate_limited"),
        (500, "upstream"),
        (502, "upstream"),
        (503, "upstream"),
        (302, "upstream"),
        (418, "upstream"),
    ];
    for (status, kind) in table {
        let error = error_for(*status, &HeaderMap::new(), JIRA_404.as_bytes(), now());
        assert_eq!(error.kind(), *kind, "{status}");
    }
}

#[test]
fn messages_come_from_jira_error_bodies() {
    assert_eq!(
        jira_message(404, JIRA_404.as_bytes()),
        "Issue does not exist or you do not have permission to see it."
    );
    let both = json!({"errorMessages": ["one", "two"], "errors": {"comment": "Comment body can not be empty!"}});
    assert_eq!(
        jira_message(400, both.to_string().as_bytes()),
        "one; two; comment: Comment body can not be empty!"
    );
    assert_eq!(
        jira_message(503, b"<html>Service Unavailable</html>"),
        "Service Unavailable"
    );
    assert_eq!(jira_message(599, b""), "no message");
    let long = json!({"errorMessages": ["x".repeat(5000)]});
    assert_eq!(
        jira_message(500, long.to_string().as_bytes()).len(),
        MAX_MESSAGE_CHARS
    );
}

#[test]
fn upstream_carries_status_and_message() {
    let body = br#"{"errorMessages":["Jira is down for maintenance"],"errors":{}}"#;
    match error_for(503, &HeaderMap::new(), body, now()) {
        JiraError::Upstream { status, message } => {
            assert_eq!(status, 503);
            assert_eq!(message, "Jira is down for maintenance");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn retry_after_prefers_seconds_then_reset_timestamp() {
    type Case<'a> = (&'a [(&'static str, &'a str)], Option<u64>);
    let cases: &[Case] = &[
        (&[("retry-after", "17")], Some(17)),
        (
            &[
                ("retry-after", " 5 "),
                ("x-ratelimit-reset", "2026-03-05T13:00Z"),
            ],
            Some(5),
        ),
        (&[("x-ratelimit-reset", "2026-03-05T12:02Z")], Some(120)),
        (&[("x-ratelimit-reset", "2026-03-05T12:00:30Z")], Some(30)),
        (&[("x-ratelimit-reset", "2026-03-05T11:00Z")], Some(0)),
        (&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], None),
        (&[("x-ratelimit-reset", "soon")], None),
        (&[], None),
    ];
    for (pairs, want) in cases {
        assert_eq!(
            retry_after(&headers(pairs), now()),
            want.map(Duration::from_secs),
            "{pairs:?}"
        );
    }
}

#[test]
fn markers_are_found_in_wiki_and_adf_bodies() {
    let marker = vec!["[preview-tower:ready:acme/web#42]".to_owned()];
    assert!(mentions(
        &json!("hello\n[preview-tower:ready:acme/web#42]"),
        &marker
    ));
    assert!(!mentions(
        &json!("[preview-tower:ready:acme/web#420]"),
        &marker
    ));
    let split = json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "x"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "[preview-tower:ready:"},
            {"type": "text", "text": "acme/web#42]", "marks": [{"type": "em"}]},
        ]},
    ]});
    assert!(mentions(&split, &marker));
    let across_blocks = json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "[preview-tower:ready:"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "acme/web#42]"}]},
    ]});
    assert!(!mentions(&across_blocks, &marker));
    assert!(!mentions(&Value::Null, &marker));
}

#[test]
fn pages_and_created_comments_must_be_readable() {
    let reply = |status: u16, body: &str| Reply {
        status,
        headers: HeaderMap::new(),
        body: body.as_bytes().to_vec(),
    };
    let page = reply(
        200,
        r#"{"startAt":0,"maxResults":100,"total":1,"comments":[{"id":"1","body":"hi"}]}"#,
    )
    .page()
    .unwrap();
    assert_eq!((page.total, page.comments.len()), (Some(1), 1));
    assert_eq!(
        reply(200, "<html>login</html>").page().unwrap_err().kind(),
        "malformed"
    );
    assert_eq!(
        reply(200, r#"{"total":1}"#).page().unwrap_err().kind(),
        "malformed"
    );
    assert_eq!(reply(404, JIRA_404).page().unwrap_err().kind(), "rejected");
    assert!(reply(201, r#"{"id":"10001","body":"x"}"#).created().is_ok());
    assert_eq!(
        reply(200, "<html>login</html>")
            .created()
            .unwrap_err()
            .kind(),
        "malformed"
    );
    assert_eq!(reply(201, "{}").created().unwrap_err().kind(), "malformed");
    assert_eq!(reply(413, "{}").created().unwrap_err().kind(), "rejected");
}
