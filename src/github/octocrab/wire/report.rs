//! GitHub's REST shapes for what preview-tower writes: deployments, deployment statuses and
//! issue comments. Routes and request bodies here, the decoding of what GitHub shows back in
//! `shown`; pure functions, no I/O.
//!
//! Request bodies are our own serde structs, so every field GitHub defaults unhelpfully is sent
//! explicitly (`auto_merge`, `required_contexts`, `transient_environment`,
//! `production_environment`, `auto_inactive`).

mod shown;

use percent_encoding::utf8_percent_encode;
use serde::Serialize;
use serde_json::{Value, json};

use super::UNRESERVED;
use crate::github::{DEPLOYMENT_TASK, NewDeployment, NewStatus};
use crate::issues::IssueKey;
use crate::lifecycle::State;
use crate::naming::RepoName;

pub(in crate::github::octocrab) use shown::{
    decode_comments, decode_deployments, decode_id, decode_statuses,
};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::ServiceName;

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
}
