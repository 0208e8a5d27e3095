use serde_json::json;

use super::*;
use crate::github::bulk::CommitWants;
use crate::github::octocrab::wire::graphql::{TimelineWant, head_facts};
use crate::pull_request::PullEventKind;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn chunk() -> Chunk {
    Chunk {
        commits: vec![CommitWants {
            sha: SHA.into(),
            files: vec![".preview.yaml".into()],
            objects: vec!["db/seed".into()],
            checks: vec!["preview-ready".into()],
        }],
        timelines: vec![TimelineWant {
            number: 12,
            before: None,
        }],
    }
}

fn answer(body: serde_json::Value) -> Result<Answered, GitHubError> {
    let chunk = chunk();
    let repo = "acme/web".parse().expect("repo");
    let query = head_facts(&repo, &chunk);
    decode(
        body.to_string().as_bytes(),
        &query,
        &chunk,
        "preview-tower[bot]",
    )
}

fn read(body: serde_json::Value) -> ChunkFacts {
    match answer(body).expect("decoded") {
        Answered::Read(facts) => facts,
        other => panic!("{other:?}"),
    }
}

fn blob(text: &str) -> serde_json::Value {
    json!({"type": "blob", "mode": 33188, "oid": "f".repeat(40), "object": {
        "__typename": "Blob", "byteSize": text.len(), "isBinary": false, "isTruncated": false, "text": text}})
}

fn suites(runs: serde_json::Value) -> serde_json::Value {
    let count = runs.as_array().map_or(0, Vec::len);
    json!({"totalCount": 1, "nodes": [{"checkRuns": {"totalCount": count, "nodes": runs}}]})
}

fn run(id: u64, status: &str, conclusion: Option<&str>) -> serde_json::Value {
    json!({"databaseId": id, "name": "preview-ready", "status": status, "conclusion": conclusion})
}

fn timeline(nodes: serde_json::Value, earlier: Option<&str>) -> serde_json::Value {
    json!({"number": 12, "timelineItems": {"pageInfo": {
        "hasPreviousPage": earlier.is_some(), "startCursor": earlier}, "nodes": nodes}})
}

fn data(commit: serde_json::Value, pull: serde_json::Value) -> serde_json::Value {
    json!({"data": {"rateLimit": {"cost": 1, "remaining": 4999, "resetAt": "2026-12-07T07:00:00Z"},
        "repository": {"c0": commit, "p12": pull}}})
}

fn key(path: &str) -> (String, String) {
    (SHA.to_owned(), path.to_owned())
}

#[test]
fn a_whole_answer_reads_every_fact_as_rest_would() {
    let commit = json!({"oid": SHA, "f0": blob("ttl: 2d\n"), "o0": {"oid": "a".repeat(40), "type": "tree"},
        "b0": suites(json!([run(5, "COMPLETED", Some("FAILURE")), run(9, "COMPLETED", Some("SUCCESS"))]))});
    let items = json!([
        {"__typename": "PullRequestCommit", "commit": {"oid": SHA, "committedDate": "2026-12-01T10:00:00Z"}},
        {"__typename": "LabeledEvent", "createdAt": "2026-12-01T10:01:00Z", "actor": {"__typename": "User", "login": "mona"}, "label": {"name": "preview"}},
        {"__typename": "IssueComment", "createdAt": "2026-12-01T10:02:00Z", "updatedAt": "2026-12-01T10:02:00Z",
         "authorAssociation": "MEMBER", "author": {"__typename": "User", "login": "mona"}, "body": "/preview keep"},
        {"__typename": "IssueComment", "createdAt": "2026-12-01T10:03:00Z", "updatedAt": "2026-12-01T10:03:00Z",
         "authorAssociation": "NONE", "author": {"__typename": "Bot", "login": "preview-tower"}, "body": "sticky"},
        {"__typename": "PullRequestReview", "submittedAt": null, "authorAssociation": "MEMBER", "author": null}
    ]);
    let facts = read(data(commit, timeline(items, None)));
    assert_eq!(facts.points, Some(1));
    assert_eq!(
        facts.files,
        vec![(
            key(".preview.yaml"),
            ConfigFile::Present("ttl: 2d\n".into())
        )]
    );
    assert_eq!(facts.objects, vec![(key("db/seed"), Some("a".repeat(40)))]);
    assert_eq!(
        facts.builds,
        vec![(key("preview-ready"), BuildStatus::Succeeded)]
    );
    let (number, page) = &facts.timelines[0];
    assert_eq!(*number, 12);
    assert_eq!(page.earlier, None);
    let kinds: Vec<&PullEventKind> = page.events.iter().map(|e| &e.kind).collect();
    // Our own bot's comment (GraphQL spells it without `[bot]`) and a pending review are not activity.
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(matches!(
        kinds[2],
        PullEventKind::Commented {
            command: Some(_),
            ..
        }
    ));
    assert!(facts.faults.is_empty());
}

#[test]
fn null_files_are_missing_but_a_null_commit_is_no_evidence() {
    let commit = json!({"oid": SHA, "f0": null, "o0": null, "b0": suites(json!([]))});
    let facts = read(data(commit, timeline(json!([]), None)));
    assert_eq!(
        facts.files,
        vec![(key(".preview.yaml"), ConfigFile::Missing)]
    );
    assert_eq!(facts.objects, vec![(key("db/seed"), None)]);
    assert_eq!(
        facts.builds,
        vec![(key("preview-ready"), BuildStatus::Pending)]
    );
    let unknown = read(data(json!(null), timeline(json!([]), None)));
    assert!(unknown.files.is_empty() && unknown.objects.is_empty() && unknown.builds.is_empty());
}

#[test]
fn entries_that_are_not_plain_text_say_why_or_are_left_to_rest() {
    let cases = [
        (
            json!({"type": "tree", "mode": 16384, "oid": "a", "object": {"__typename": "Tree"}}),
            Some(".preview.yaml is a directory"),
        ),
        (
            json!({"type": "commit", "mode": 57344, "oid": "a", "object": null}),
            Some(".preview.yaml is a git submodule"),
        ),
        (
            json!({"type": "blob", "mode": 40960, "oid": "a", "object": {"__typename": "Blob", "byteSize": 5, "isBinary": false, "isTruncated": false, "text": "other"}}),
            None,
        ),
        (
            json!({"type": "blob", "mode": 33188, "oid": "a", "object": {"__typename": "Blob", "byteSize": 20000, "isBinary": false, "isTruncated": false, "text": "x"}}),
            Some("more than the 16384-byte limit"),
        ),
        (
            json!({"type": "blob", "mode": 33188, "oid": "a", "object": {"__typename": "Blob", "byteSize": 3, "isBinary": true, "isTruncated": false, "text": null}}),
            None,
        ),
        (
            json!({"type": "blob", "mode": 33188, "oid": "a", "object": {"__typename": "Blob", "byteSize": 3, "isBinary": false, "isTruncated": false, "text": "a\u{fffd}"}}),
            None,
        ),
    ];
    for (entry, why) in cases {
        let commit = json!({"oid": SHA, "f0": entry, "o0": null, "b0": suites(json!([]))});
        let facts = read(data(commit, timeline(json!([]), None)));
        match why {
            Some(why) => match &facts.files[..] {
                [(_, ConfigFile::Unreadable(message))] => {
                    assert!(message.contains(why), "{message}")
                }
                other => panic!("{other:?}"),
            },
            None => assert!(facts.files.is_empty(), "{:?}", facts.files),
        }
    }
}

#[test]
fn builds_in_doubt_are_left_to_rest() {
    let too_many = json!({"totalCount": 4, "nodes": []});
    let no_id = suites(
        json!([{"databaseId": null, "name": "preview-ready", "status": "COMPLETED", "conclusion": "SUCCESS"}]),
    );
    for build in [too_many, no_id] {
        let commit = json!({"oid": SHA, "f0": null, "o0": null, "b0": build});
        let facts = read(data(commit, timeline(json!([]), None)));
        assert!(facts.builds.is_empty(), "{:?}", facts.builds);
    }
    let running = suites(json!([
        run(3, "IN_PROGRESS", None),
        run(2, "COMPLETED", Some("TIMED_OUT"))
    ]));
    let facts = read(data(
        json!({"oid": SHA, "f0": null, "o0": null, "b0": running}),
        timeline(json!([]), None),
    ));
    assert_eq!(
        facts.builds,
        vec![(key("preview-ready"), BuildStatus::Pending)]
    );
    let failed = suites(json!([run(3, "COMPLETED", Some("TIMED_OUT"))]));
    let facts = read(data(
        json!({"oid": SHA, "f0": null, "o0": null, "b0": failed}),
        timeline(json!([]), None),
    ));
    assert_eq!(
        facts.builds,
        vec![(
            key("preview-ready"),
            BuildStatus::Failed {
                conclusion: "timed_out".into()
            }
        )]
    );
}

#[test]
fn an_error_spoils_only_the_facts_under_its_path() {
    let mut body = data(
        json!({"oid": SHA, "f0": blob("a: 1\n"), "o0": null, "b0": null}),
        json!(null),
    );
    body["errors"] = json!([
        {"type": "FORBIDDEN", "path": ["repository", "c0", "b0"], "message": "Resource not accessible by integration"},
        {"type": "NOT_FOUND", "path": ["repository", "p12"], "message": "Could not resolve to a PullRequest with the number of 12."}
    ]);
    let facts = read(body);
    assert_eq!(facts.files.len(), 1);
    assert_eq!(facts.objects, vec![(key("db/seed"), None)]);
    assert!(facts.builds.is_empty(), "a forbidden build is not pending");
    assert!(
        facts.timelines.is_empty(),
        "a PR GitHub cannot resolve is not quiet"
    );
    assert_eq!(facts.faults.len(), 2);
    let mut whole = data(json!(null), json!(null));
    whole["errors"] =
        json!([{"type": "INTERNAL", "path": ["repository", "c0"], "message": "boom"}]);
    let facts = read(whole);
    assert!(facts.files.is_empty() && facts.objects.is_empty() && facts.builds.is_empty());
}

#[test]
fn rate_limits_refusals_and_missing_repositories_are_told_apart() {
    let limited = json!({"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": "API rate limit exceeded for installation ID 7."}]});
    assert!(matches!(answer(limited), Ok(Answered::RateLimited(_))));
    let refused = json!({"errors": [{"path": ["query HeadFacts"], "extensions": {"code": "undefinedField", "typeName": "CheckRunFilter", "fieldName": "checkType"}, "message": "Field 'checkType' doesn't exist on type 'CheckRunFilter'"}]});
    assert!(matches!(answer(refused), Ok(Answered::Refused(_))));
    let gone = json!({"data": {"rateLimit": null, "repository": null}, "errors": [{"type": "NOT_FOUND", "path": ["repository"], "message": "Could not resolve to a Repository with the name 'acme/web'."}]});
    assert!(matches!(answer(gone), Err(GitHubError::Unauthorized(_))));
    let timeout = json!({"data": null, "errors": [{"message": "Something went wrong while executing your query. This may be the result of a timeout."}]});
    assert!(matches!(
        answer(timeout),
        Err(GitHubError::Upstream { status: 200, .. })
    ));
    assert!(matches!(
        answer(json!("not an object")),
        Err(GitHubError::Malformed(_))
    ));
}

#[test]
fn an_earlier_page_is_announced_by_its_cursor() {
    let facts = read(data(json!(null), timeline(json!([]), Some("Y3Vyc29y"))));
    assert_eq!(facts.timelines[0].1.earlier.as_deref(), Some("Y3Vyc29y"));
}

#[test]
fn an_error_that_names_nothing_asked_for_spoils_the_whole_answer() {
    let commit = json!({"oid": SHA, "f0": null, "o0": null, "b0": suites(json!([]))});
    for path in [
        json!([]),
        json!(["viewer"]),
        json!(["repository", "c9"]),
        json!(["repository", "p99"]),
    ] {
        let mut body = data(commit.clone(), timeline(json!([]), None));
        body["errors"] = json!([{"type": "INTERNAL", "path": path, "message": "boom"}]);
        assert!(
            answer(body).is_err(),
            "{path}: a null must not become a missing file"
        );
    }
}

#[test]
fn a_field_error_keeps_its_null_from_becoming_a_fact() {
    let commit = json!({"oid": SHA, "f0": null, "o0": null, "b0": suites(json!([]))});
    let mut body = data(commit, timeline(json!([]), None));
    body["errors"] = json!([
        {"type": "INTERNAL", "path": ["repository", "c0", "f0"], "message": "boom"},
        {"type": "INTERNAL", "path": ["repository", "c0", "o0"], "message": "boom"}
    ]);
    let facts = read(body);
    assert!(
        facts.files.is_empty() && facts.objects.is_empty(),
        "{facts:?}"
    );
    assert_eq!(facts.builds.len(), 1);
    assert_eq!(facts.faults.len(), 2);
}
