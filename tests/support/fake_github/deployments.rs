//! The fake's deployments and deployment statuses: lists (newest first, filtered, paginated)
//! and creation, with the rules GitHub applies that no schema states (unknown ref, auto-merge,
//! pending checks, 140-character descriptions, `auto_inactive`).

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Value, json};

use super::model::{State, sha1_hex};
use super::render::time;
use super::reporting::{FakeDeployment, FakeStatus, author, paged, validation_failed};
use super::serve::Reply;

/// GitHub's limit on a status description, in characters.
const MAX_DESCRIPTION: usize = 140;

/// `GET /repos/{o}/{r}/deployments`, filtered by `task`, `environment`, `sha` and `ref`.
pub(super) fn list(state: &State, repo: &str, query: &HashMap<String, String>) -> Reply {
    let Some(held) = state.repos.get(repo) else {
        return Reply::error(404, "Not Found");
    };
    let matches = |d: &&FakeDeployment| {
        let filter = |name: &str, value: &str| query.get(name).is_none_or(|v| v == value);
        filter("task", &d.task)
            && filter("environment", &d.environment)
            && filter("sha", &d.sha)
            && filter("ref", &d.reference)
    };
    let items: Vec<Value> = held
        .deployments
        .iter()
        .rev()
        .filter(matches)
        .map(|d| render(&state.base_url, &held.full_name(), d))
        .collect();
    let schema = "repos.list-deployments.response-200.schema.json";
    paged(state, repo, "deployments", query, items, schema)
}

/// `GET /repos/{o}/{r}/deployments/{id}/statuses`, newest first.
pub(super) fn statuses(
    state: &State,
    repo: &str,
    id: &str,
    query: &HashMap<String, String>,
) -> Reply {
    let Some(held) = state.repos.get(repo) else {
        return Reply::error(404, "Not Found");
    };
    let Some(deployment) = held.deployments.iter().find(|d| id == d.id.to_string()) else {
        return Reply::error(404, "Not Found");
    };
    let full = held.full_name();
    let items: Vec<Value> = deployment
        .statuses
        .iter()
        .rev()
        .map(|s| render_status(&state.base_url, &full, deployment, s))
        .collect();
    let path = format!("deployments/{id}/statuses");
    let schema = "repos.list-deployment-statuses.response-200.schema.json";
    paged(state, repo, &path, query, items, schema)
}

/// `POST /repos/{o}/{r}/deployments`, by `writer`.
pub(super) fn create(state: &mut State, repo: &str, request: &Value, writer: &str) -> Reply {
    let reference = request["ref"].as_str().unwrap_or_default().to_owned();
    let Some(sha) = resolve(state, repo, &reference) else {
        return validation_failed(&format!("No ref found for: {reference}"));
    };
    if state.reporting.behind_base && request["auto_merge"] != Value::Bool(false) {
        // GitHub pushes a merge commit to the branch here; the fake only answers.
        return Reply::json(
            StatusCode::ACCEPTED,
            json!({"message": format!("Auto-merged main into {reference} on deployment.")}),
            "repos.create-deployment.response-202.schema.json",
        );
    }
    if state.reporting.checks_pending && request["required_contexts"] != json!([]) {
        return Reply::error(
            409,
            &format!("Conflict: Commit status checks failed for {reference}."),
        );
    }
    let id = insert(state, repo, writer, &reference, &sha);
    let environment = request["environment"].as_str().unwrap_or("production");
    let base = state.base_url.clone();
    let held = state.repo_mut(repo);
    let deployment = held.deployments.last_mut().expect("just added");
    deployment.task = request["task"].as_str().unwrap_or("deploy").to_owned();
    deployment.environment = environment.to_owned();
    deployment.payload = request.get("payload").cloned().unwrap_or(json!(""));
    deployment.description = request["description"].as_str().unwrap_or("").to_owned();
    deployment.transient = request["transient_environment"].as_bool().unwrap_or(false);
    deployment.production = request["production_environment"]
        .as_bool()
        .unwrap_or(environment == "production");
    debug_assert_eq!(deployment.id, id);
    let full = format!("{}/{}", held.owner, held.name);
    let body = render(&base, &full, held.deployments.last().expect("just added"));
    let schema = "repos.create-deployment.response-201.schema.json";
    Reply::json(StatusCode::CREATED, body, schema)
}

/// The commit `reference` names: a known commit, or the head of a PR's branch.
fn resolve(state: &State, repo: &str, reference: &str) -> Option<String> {
    let held = state.repos.get(repo)?;
    if let Some(pull) = held.pulls.values().find(|p| p.branch == reference) {
        return Some(pull.head_sha.clone());
    }
    held.trees.contains_key(reference).then(|| {
        let is_sha = reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit());
        if is_sha {
            reference.to_owned()
        } else {
            sha1_hex(format!("commit of {reference}").as_bytes())
        }
    })
}

/// Appends a deployment of `repo` with GitHub's defaults; its id.
pub(super) fn insert(
    state: &mut State,
    repo: &str,
    creator: &str,
    reference: &str,
    sha: &str,
) -> u64 {
    let id = state.reporting.next_deployment;
    state.reporting.next_deployment += 1;
    state.repo_mut(repo).deployments.push(FakeDeployment {
        id,
        environment: "production".to_owned(),
        sha: sha.to_owned(),
        reference: reference.to_owned(),
        task: "deploy".to_owned(),
        payload: json!({}),
        description: String::new(),
        transient: false,
        production: true,
        creator: creator.to_owned(),
        created_at: Utc::now(),
        statuses: Vec::new(),
    });
    id
}

/// `POST /repos/{o}/{r}/deployments/{id}/statuses`.
pub(super) fn create_status(state: &mut State, repo: &str, id: &str, request: &Value) -> Reply {
    let text = |name: &str| request[name].as_str().unwrap_or_default().to_owned();
    let description = text("description");
    if description.chars().count() > MAX_DESCRIPTION {
        return validation_failed(
            "Validation Failed: description is too long (maximum is 140 characters)",
        );
    }
    let base = state.base_url.clone();
    let held = state.repos.get_mut(repo).expect("checked by the caller");
    let Some(index) = held.deployments.iter().position(|d| id == d.id.to_string()) else {
        return Reply::error(404, "Not Found");
    };
    let next_status = &mut state.reporting.next_status;
    let log_url = request["log_url"]
        .as_str()
        .or(request["target_url"].as_str());
    let status = FakeStatus {
        id: *next_status,
        state: text("state"),
        environment_url: text("environment_url"),
        log_url: log_url.unwrap_or_default().to_owned(),
        description,
    };
    *next_status += 1;
    if let Some(environment) = request["environment"].as_str() {
        held.deployments[index].environment = environment.to_owned();
    }
    if status.state == "success" && request["auto_inactive"] != Value::Bool(false) {
        inactivate_before(next_status, held, index);
    }
    held.deployments[index].statuses.push(status.clone());
    let body = render_status(&base, &held.full_name(), &held.deployments[index], &status);
    let schema = "repos.create-deployment-status.response-201.schema.json";
    Reply::json(StatusCode::CREATED, body, schema)
}

/// GitHub's `auto_inactive`: earlier non-transient, non-production deployments of the same
/// environment whose latest state is `success` get an `inactive` status.
fn inactivate_before(next_status: &mut u64, held: &mut super::model::Repo, index: usize) {
    let environment = held.deployments[index].environment.clone();
    for earlier in &mut held.deployments[..index] {
        let succeeded = earlier
            .statuses
            .last()
            .is_some_and(|s| s.state == "success");
        if earlier.environment == environment
            && !earlier.transient
            && !earlier.production
            && succeeded
        {
            earlier.statuses.push(FakeStatus {
                id: *next_status,
                state: "inactive".to_owned(),
                environment_url: String::new(),
                log_url: String::new(),
                description: String::new(),
            });
            *next_status += 1;
        }
    }
}

/// `deployment`.
fn render(base: &str, full: &str, d: &FakeDeployment) -> Value {
    let api = format!("{base}/repos/{full}");
    let url = format!("{api}/deployments/{}", d.id);
    json!({
        "url": url, "id": d.id, "node_id": node_id("DE", d.id), "sha": d.sha, "ref": d.reference,
        "task": d.task, "payload": d.payload, "original_environment": d.environment,
        "environment": d.environment, "description": d.description,
        "creator": author(base, &d.creator), "created_at": time(d.created_at),
        "updated_at": time(d.created_at), "statuses_url": format!("{url}/statuses"),
        "repository_url": api, "transient_environment": d.transient,
        "production_environment": d.production, "performed_via_github_app": null
    })
}

/// `deployment-status`.
fn render_status(base: &str, full: &str, d: &FakeDeployment, s: &FakeStatus) -> Value {
    let api = format!("{base}/repos/{full}");
    let deployment_url = format!("{api}/deployments/{}", d.id);
    let at = time(d.created_at);
    json!({
        "url": format!("{deployment_url}/statuses/{}", s.id), "id": s.id,
        "node_id": node_id("DES", s.id), "state": s.state, "creator": author(base, &d.creator),
        "description": s.description, "environment": d.environment, "target_url": s.log_url,
        "created_at": at, "updated_at": at, "deployment_url": deployment_url,
        "repository_url": api, "environment_url": s.environment_url, "log_url": s.log_url,
        "performed_via_github_app": null
    })
}

/// GitHub's newer node ids: a type prefix and an opaque tail.
fn node_id(prefix: &str, id: u64) -> String {
    format!("{prefix}_kwDO{id:08X}")
}
