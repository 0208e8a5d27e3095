//! The fake's pull-request comments (GitHub's issue comments): the list (oldest first,
//! paginated), creation and edits, with GitHub's 65,536-character limit on bodies.

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Value, json};

use super::model::State;
use super::render::time;
use super::reporting::{FakeComment, author, paged, validation_failed};
use super::serve::Reply;

/// GitHub's limit on a comment body, in characters.
const MAX_BODY: usize = 65_536;

/// The PR `number` names, when `repo` has it (the fake has no plain issues).
fn pull_number(state: &State, repo: &str, number: &str) -> Option<u64> {
    let number: u64 = number.parse().ok()?;
    state
        .repos
        .get(repo)?
        .pulls
        .contains_key(&number)
        .then_some(number)
}

/// `GET /repos/{o}/{r}/issues/{n}/comments`, oldest first as GitHub lists them.
pub(super) fn list(
    state: &State,
    repo: &str,
    number: &str,
    query: &HashMap<String, String>,
) -> Reply {
    let Some(number) = pull_number(state, repo, number) else {
        return Reply::error(404, "Not Found");
    };
    let held = &state.repos[repo];
    let full = held.full_name();
    let items: Vec<Value> = held
        .comments
        .iter()
        .filter(|c| c.number == number)
        .map(|c| render(&state.base_url, &full, c))
        .collect();
    let path = format!("issues/{number}/comments");
    let schema = "issues.list-comments.response-200.schema.json";
    paged(state, repo, &path, query, items, schema)
}

/// `POST /repos/{o}/{r}/issues/{n}/comments`, by `writer`.
pub(super) fn create(
    state: &mut State,
    repo: &str,
    number: &str,
    request: &Value,
    writer: &str,
) -> Reply {
    let Some(number) = pull_number(state, repo, number) else {
        return Reply::error(404, "Not Found");
    };
    let body = request["body"].as_str().unwrap_or_default();
    if let Some(refused) = too_long(body) {
        return refused;
    }
    let id = insert(state, repo, number, writer, body);
    let held = &state.repos[repo];
    let comment = held.comments.iter().find(|c| c.id == id).expect("added");
    let answer = render(&state.base_url, &held.full_name(), comment);
    let schema = "issues.create-comment.response-201.schema.json";
    Reply::json(StatusCode::CREATED, answer, schema)
}

/// `PATCH /repos/{o}/{r}/issues/comments/{id}`.
pub(super) fn update(state: &mut State, repo: &str, id: &str, request: &Value) -> Reply {
    let body = request["body"].as_str().unwrap_or_default();
    if let Some(refused) = too_long(body) {
        return refused;
    }
    let base = state.base_url.clone();
    let held = state.repo_mut(repo);
    let full = held.full_name();
    let Some(comment) = held.comments.iter_mut().find(|c| id == c.id.to_string()) else {
        return Reply::error(404, "Not Found");
    };
    comment.body = body.to_owned();
    comment.updated_at = Utc::now();
    let answer = render(&base, &full, comment);
    let schema = "issues.update-comment.response-200.schema.json";
    Reply::json(StatusCode::OK, answer, schema)
}

fn too_long(body: &str) -> Option<Reply> {
    (body.chars().count() > MAX_BODY)
        .then(|| validation_failed("Body is too long (maximum is 65536 characters)"))
}

/// Appends a comment by `login` on PR `number`; its id. Its `author_association` is `NONE` for
/// a bot, `MEMBER` for anyone else (see [`insert_with`]).
pub(super) fn insert(state: &mut State, repo: &str, number: u64, login: &str, body: &str) -> u64 {
    let association = if login.ends_with("[bot]") {
        "NONE"
    } else {
        "MEMBER"
    };
    insert_with(state, repo, number, login, association, body)
}

/// Appends a comment by `login`, whose `author_association` with the repository is
/// `association`, on PR `number`; its id.
pub(super) fn insert_with(
    state: &mut State,
    repo: &str,
    number: u64,
    login: &str,
    association: &str,
    body: &str,
) -> u64 {
    let id = state.reporting.next_comment;
    state.reporting.next_comment += 1;
    let now = state.now();
    state.repo_mut(repo).comments.push(FakeComment {
        id,
        number,
        body: body.to_owned(),
        author: login.to_owned(),
        association: association.to_owned(),
        created_at: now,
        updated_at: now,
    });
    id
}

/// `issue-comment`.
pub(super) fn render(base: &str, full: &str, c: &FakeComment) -> Value {
    let api = format!("{base}/repos/{full}");
    let url = format!("{api}/issues/comments/{}", c.id);
    let reactions = json!({
        "url": format!("{url}/reactions"), "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
        "confused": 0, "heart": 0, "hooray": 0, "eyes": 0, "rocket": 0
    });
    json!({
        "id": c.id, "node_id": format!("IC_kwDO{:08X}", c.id), "url": url,
        "html_url": format!("{base}/{full}/pull/{}#issuecomment-{}", c.number, c.id),
        "body": c.body, "user": author(base, &c.author),
        "created_at": time(c.created_at), "updated_at": time(c.updated_at),
        "issue_url": format!("{api}/issues/{}", c.number),
        "author_association": c.association,
        "performed_via_github_app": null, "reactions": reactions, "pin": null
    })
}
