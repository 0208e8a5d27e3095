//! Reading back what GitHub shows of our writes: our deployments (by task, creator and
//! payload), their statuses, the comments of a PR, the id of what was created. Answer
//! decoding; pure functions, no I/O.

use serde::Deserialize;
use serde_json::Value;

use super::{PAYLOAD_KEY, state_name};
use crate::github::{DEPLOYMENT_TASK, GitHubError, IssueComment};
use crate::issues::IssueKey;
use crate::lifecycle::{Shown, State};
use crate::naming::ServiceName;

fn parse_state(name: &str) -> Option<State> {
    State::ALL
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
) -> Result<Vec<Shown>, GitHubError> {
    let page: Vec<WireDeployment> = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable deployment list: {e}")))?;
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
) -> Result<Vec<(u64, State)>, GitHubError> {
    let page: Vec<WireStatus> = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable deployment statuses: {e}")))?;
    page.into_iter()
        .map(|status| match parse_state(&status.state) {
            Some(state) => Ok((status.id, state)),
            None => Err(GitHubError::Malformed(format!(
                "deployment status {} has unknown state {:?}",
                status.id, status.state
            ))),
        })
        .collect()
}

/// The `id` of a created object (deployment, comment).
pub(in crate::github::octocrab) fn decode_id(body: &[u8], what: &str) -> Result<u64, GitHubError> {
    #[derive(Deserialize)]
    struct Created {
        id: u64,
    }
    serde_json::from_slice::<Created>(body)
        .map(|created| created.id)
        .map_err(|e| GitHubError::Malformed(format!("unreadable created {what}: {e}")))
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
) -> Result<Vec<(IssueComment, Option<WireAuthor>)>, GitHubError> {
    let page: Vec<WireComment> = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable comment list: {e}")))?;
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
    use serde_json::json;

    use super::*;

    fn web() -> ServiceName {
        ServiceName::new("web").expect("name")
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
        for state in State::ALL {
            assert_eq!(parse_state(state_name(state)), Some(state));
        }
        let body = br#"[{"id": 1, "state": "destroyed"}]"#;
        assert!(matches!(
            decode_statuses(body),
            Err(GitHubError::Malformed(_))
        ));
    }
}
