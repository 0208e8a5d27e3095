//! GitHub's REST shapes for what preview-tower writes: deployments, deployment statuses and
//! issue comments. Routes, request bodies and answer decoding; pure functions, no I/O.
//!
//! Request bodies are our own serde structs, so every field GitHub defaults unhelpfully is sent
//! explicitly (`auto_merge`, `required_contexts`, `transient_environment`,
//! `production_environment`, `auto_inactive`).

use percent_encoding::utf8_percent_encode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::UNRESERVED;
use crate::github::{DEPLOYMENT_TASK, IssueComment, NewDeployment, NewStatus, SourceError};
use crate::issues::IssueKey;
use crate::lifecycle::{Shown, State};
use crate::naming::RepoName;
use crate::naming::ServiceName;

/// GitHub's limit on a deployment status description, in characters.
pub(in crate::github::octocrab) const MAX_DESCRIPTION_CHARS: usize = 140;

/// The key of our object in a deployment's `payload`.
const PAYLOAD_KEY: &str = "preview_tower";

fn repo_path(repo: &RepoName) -> String {
    // Owner and name are validated to `[A-Za-z0-9._-]`: nothing to encode.
    format!("/repos/{}/{}", repo.owner(), repo.name())
}

/// `GET` first page of our deployments (task [`DEPLOYMENT_TASK`]), in `environment` if given.
pub(in crate::github::octocrab) fn deployments_route(
    repo: &RepoName,
    environment: Option<&str>,
) -> String {
    let environment = environment
        .map(|e| format!("&environment={}", utf8_percent_encode(e, UNRESERVED)))
        .unwrap_or_default();
    format!(
        "{}/deployments?task={}{environment}&per_page=100",
        repo_path(repo),
        utf8_percent_encode(DEPLOYMENT_TASK, UNRESERVED),
    )
}

/// `POST` a deployment.
pub(in crate::github::octocrab) fn create_deployment_route(repo: &RepoName) -> String {
    format!("{}/deployments", repo_path(repo))
}

/// `POST` a status on deployment `id`; with `?per_page=100`, the first page of its statuses.
pub(in crate::github::octocrab) fn statuses_route(repo: &RepoName, id: u64) -> String {
    format!("{}/deployments/{id}/statuses", repo_path(repo))
}

/// `POST` a comment on issue (or PR) `number`; with `?per_page=100`, the first page of them.
pub(in crate::github::octocrab) fn comments_route(repo: &RepoName, number: u64) -> String {
    format!("{}/issues/{number}/comments", repo_path(repo))
}

/// `PATCH` comment `id`.
pub(in crate::github::octocrab) fn comment_route(repo: &RepoName, id: u64) -> String {
    format!("{}/issues/comments/{id}", repo_path(repo))
}

/// `POST /repos/{o}/{r}/deployments`.
#[derive(Debug, Serialize)]
pub(in crate::github::octocrab) struct DeploymentRequest<'a> {
    #[serde(rename = "ref")]
    reference: &'a str,
    task: &'static str,
    /// `true` (GitHub's default) merges the base branch into a PR that is behind it: a commit
    /// pushed to someone's branch, and a `202` instead of a deployment.
    auto_merge: bool,
    /// Omitted means "every status context must be green": a `409` while CI runs.
    required_contexts: [&'static str; 0],
    payload: Value,
    environment: &'a str,
    description: String,
    transient_environment: bool,
    production_environment: bool,
}

impl<'a> DeploymentRequest<'a> {
    /// The request for `deployment`, with its payload `{"preview_tower": {"service",
    /// "pull_request"}}`.
    pub(in crate::github::octocrab) fn new(deployment: &'a NewDeployment) -> Self {
        Self {
            reference: &deployment.sha,
            task: DEPLOYMENT_TASK,
            auto_merge: false,
            required_contexts: [],
            payload: json!({PAYLOAD_KEY: {
                "service": deployment.service.as_str(),
                "pull_request": deployment.number,
                "issues": deployment.issues.iter().map(IssueKey::as_str).collect::<Vec<_>>(),
            }}),
            environment: &deployment.environment,
            description: truncate(&deployment.description),
            transient_environment: true,
            production_environment: false,
        }
    }
}

/// `POST /repos/{o}/{r}/deployments/{id}/statuses`.
#[derive(Debug, Serialize)]
pub(in crate::github::octocrab) struct StatusRequest<'a> {
    state: &'static str,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_url: Option<&'a str>,
    /// Always `false`: the lifecycle posts `inactive` on superseded deployments itself, so
    /// that what GitHub shows is what it decided. (GitHub's default `true` would only touch
    /// non-transient deployments anyway, and ours are all transient.)
    auto_inactive: bool,
}

impl<'a> StatusRequest<'a> {
    /// The request for `status`, its description cut to 140 characters.
    pub(in crate::github::octocrab) fn new(status: &'a NewStatus) -> Self {
        Self {
            state: state_name(status.state),
            description: truncate(&status.description),
            environment_url: status.environment_url.as_deref(),
            log_url: status.log_url.as_deref(),
            auto_inactive: false,
        }
    }
}

/// `POST .../issues/{n}/comments` and `PATCH .../issues/comments/{id}`.
#[derive(Debug, Serialize)]
pub(in crate::github::octocrab) struct CommentRequest<'a> {
    /// The Markdown.
    pub body: &'a str,
}

/// At most [`MAX_DESCRIPTION_CHARS`] characters (GitHub counts characters, not bytes); a cut
/// text ends with `…`.
pub(in crate::github::octocrab) fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_DESCRIPTION_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_DESCRIPTION_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// GitHub's name of a deployment state.
pub(in crate::github::octocrab) fn state_name(state: State) -> &'static str {
    match state {
        State::Queued => "queued",
        State::Pending => "pending",
        State::InProgress => "in_progress",
        State::Success => "success",
        State::Failure => "failure",
        State::Error => "error",
        State::Inactive => "inactive",
    }
}

fn parse_state(name: &str) -> Option<State> {
    [
        State::Queued,
        State::Pending,
        State::InProgress,
        State::Success,
        State::Failure,
        State::Error,
        State::Inactive,
    ]
    .into_iter()
    .find(|state| state_name(*state) == name)
}

#[derive(Deserialize)]
struct WireDeployment {
    id: u64,
    sha: String,
    task: String,
    environment: String,
    #[serde(default)]
    payload: Value,
    #[serde(default)]
    creator: Option<WireAuthor>,
}

/// One page of `GET .../deployments`: ours only (made by `own_login`, preview-tower's own
/// account, with task [`DEPLOYMENT_TASK`] and a payload we can read), each without its state
/// yet. Anyone who may deploy can make one with our task and payload; its creator tells.
pub(in crate::github::octocrab) fn decode_deployments(
    body: &[u8],
    own_login: &str,
) -> Result<Vec<Shown>, SourceError> {
    let page: Vec<WireDeployment> = serde_json::from_slice(body)
        .map_err(|e| SourceError::Malformed(format!("unreadable deployment list: {e}")))?;
    let ours = |d: &WireDeployment| {
        let creator = d.creator.as_ref();
        creator.is_some_and(|c| c.login.eq_ignore_ascii_case(own_login))
    };
    Ok(page
        .into_iter()
        .filter(|d| d.task == DEPLOYMENT_TASK && ours(d))
        .filter_map(|d| {
            let (service, number, issues) = preview_of(&d.payload)?;
            Some(Shown {
                id: d.id,
                service,
                number,
                issues,
                environment: d.environment,
                sha: d.sha,
                state: None,
            })
        })
        .collect())
}

/// The service and PR in a deployment payload: an object, or (GitHub's schema allows either)
/// a string holding a JSON object.
fn preview_of(payload: &Value) -> Option<(ServiceName, u64, Vec<IssueKey>)> {
    let parsed;
    let object = match payload {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text).ok()?;
            &parsed
        }
        other => other,
    };
    let ours = object.get(PAYLOAD_KEY)?;
    let service = ServiceName::new(ours.get("service")?.as_str()?)?;
    let number = ours.get("pull_request")?.as_u64()?;
    // Written by preview-tower, but read back from GitHub: parsed again, bounded.
    let issues = ours
        .get("issues")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(Value::as_str)
                .filter_map(IssueKey::parse)
                .take(crate::issues::MAX_KEYS)
                .collect()
        })
        .unwrap_or_default();
    Some((service, number, issues))
}

#[derive(Deserialize)]
struct WireStatus {
    id: u64,
    state: String,
}

/// One page of `GET .../deployments/{id}/statuses`: each status's id and state. A state we do
/// not know makes the answer malformed: acting on a guess could undo what someone else did.
pub(in crate::github::octocrab) fn decode_statuses(
    body: &[u8],
) -> Result<Vec<(u64, State)>, SourceError> {
    let page: Vec<WireStatus> = serde_json::from_slice(body)
        .map_err(|e| SourceError::Malformed(format!("unreadable deployment statuses: {e}")))?;
    page.into_iter()
        .map(|status| match parse_state(&status.state) {
            Some(state) => Ok((status.id, state)),
            None => Err(SourceError::Malformed(format!(
                "deployment status {} has unknown state {:?}",
                status.id, status.state
            ))),
        })
        .collect()
}

/// The `id` of a created object (deployment, comment).
pub(in crate::github::octocrab) fn decode_id(body: &[u8], what: &str) -> Result<u64, SourceError> {
    #[derive(Deserialize)]
    struct Created {
        id: u64,
    }
    serde_json::from_slice::<Created>(body)
        .map(|created| created.id)
        .map_err(|e| SourceError::Malformed(format!("unreadable created {what}: {e}")))
}

#[derive(Deserialize)]
struct WireComment {
    id: u64,
    body: Option<String>,
    user: Option<WireAuthor>,
}

/// Who wrote a comment or made a deployment.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub(in crate::github::octocrab) struct WireAuthor {
    /// The login.
    pub login: String,
}

/// One page of `GET .../issues/{n}/comments`, each comment with its author (absent for a
/// deleted account).
pub(in crate::github::octocrab) fn decode_comments(
    body: &[u8],
) -> Result<Vec<(IssueComment, Option<WireAuthor>)>, SourceError> {
    let page: Vec<WireComment> = serde_json::from_slice(body)
        .map_err(|e| SourceError::Malformed(format!("unreadable comment list: {e}")))?;
    Ok(page
        .into_iter()
        .map(|c| {
            let comment = IssueComment {
                id: c.id,
                body: c.body.unwrap_or_default(),
            };
            (comment, c.user)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> ServiceName {
        ServiceName::new("web").expect("name")
    }

    #[test]
    fn deployment_request_sends_every_field_explicitly() {
        let deployment = NewDeployment {
            environment: "preview-web-pr-7".into(),
            sha: "a".repeat(40),
            service: web(),
            number: 7,
            issues: vec![IssueKey::parse("SHOP-1").expect("key")],
            description: "Preview of #7".into(),
        };
        let body = serde_json::to_value(DeploymentRequest::new(&deployment)).expect("json");
        assert_eq!(
            body,
            json!({
                "ref": "a".repeat(40), "task": "deploy:preview", "auto_merge": false,
                "required_contexts": [], "environment": "preview-web-pr-7",
                "description": "Preview of #7", "transient_environment": true,
                "production_environment": false,
                "payload": {"preview_tower": {"service": "web", "pull_request": 7, "issues": ["SHOP-1"]}}
            })
        );
    }

    #[test]
    fn status_request_omits_absent_urls_and_cuts_long_descriptions() {
        let status = NewStatus {
            state: State::InProgress,
            environment_url: None,
            log_url: Some("https://argo.example/app".into()),
            description: "é".repeat(200),
        };
        let body = serde_json::to_value(StatusRequest::new(&status)).expect("json");
        let description = body["description"].as_str().expect("text");
        assert_eq!(description.chars().count(), 140);
        assert!(description.ends_with('…'));
        assert_eq!(body["state"], "in_progress");
        assert_eq!(body["auto_inactive"], false);
        assert_eq!(body["log_url"], "https://argo.example/app");
        assert!(body.get("environment_url").is_none());
        assert_eq!(truncate(&"x".repeat(140)), "x".repeat(140));
    }

    #[test]
    fn payloads_are_read_as_objects_or_json_strings_and_foreign_ones_skipped() {
        let ours = json!({"preview_tower": {"service": "web", "pull_request": 7}});
        assert_eq!(preview_of(&ours), Some((web(), 7, vec![])));
        assert_eq!(
            preview_of(&Value::String(ours.to_string())),
            Some((web(), 7, vec![]))
        );
        let keyed = json!({"preview_tower": {"service": "web", "pull_request": 7,
            "issues": ["SHOP-1", "not a key", 42]}});
        let shop = IssueKey::parse("SHOP-1").expect("key");
        assert_eq!(preview_of(&keyed), Some((web(), 7, vec![shop])));
        for foreign in [
            json!({}),
            json!(""),
            json!("{ \"deploy\": \"migrate\" }"),
            json!({"preview_tower": {"service": "Not A Label", "pull_request": 7}}),
            json!({"preview_tower": {"service": "web", "pull_request": -1}}),
            json!({"preview_tower": "web"}),
            Value::Null,
        ] {
            assert_eq!(preview_of(&foreign), None, "{foreign}");
        }
    }

    #[test]
    fn listing_keeps_our_task_by_our_own_account_only() {
        let payload = json!({"preview_tower": {"service": "web", "pull_request": 1}});
        let by = |id: u64, task: &str, login: Option<&str>| {
            let creator = login.map(|login| json!({"login": login, "type": "Bot"}));
            json!({"id": id, "sha": "s", "task": task, "environment": "e",
                "payload": payload, "creator": creator})
        };
        let body = json!([
            by(5, "deploy:preview", Some("github-actions[bot]")),
            by(4, "deploy:preview", None),
            by(3, "deploy", Some("preview-tower[bot]")),
            by(2, "deploy:preview", Some("Preview-Tower[bot]")),
        ]);
        let shown =
            decode_deployments(body.to_string().as_bytes(), "preview-tower[bot]").expect("decoded");
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert_eq!((shown[0].id, shown[0].number, shown[0].state), (2, 1, None));
    }

    #[test]
    fn every_state_round_trips_and_unknown_ones_are_malformed() {
        for state in [
            State::Queued,
            State::Pending,
            State::InProgress,
            State::Success,
            State::Failure,
            State::Error,
            State::Inactive,
        ] {
            assert_eq!(parse_state(state_name(state)), Some(state));
        }
        let body = br#"[{"id": 1, "state": "destroyed"}]"#;
        assert!(matches!(
            decode_statuses(body),
            Err(SourceError::Malformed(_))
        ));
    }
}
