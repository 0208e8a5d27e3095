//! `GET /repos/{o}/{r}/collaborators/{username}/permission`, and the hook that sets who has
//! which role.
//!
//! GitHub answers `{permission, role_name, user}`: `permission` is the legacy base role
//! (`maintain` reported as `write`, `triage` as `read`), `role_name` the role itself. For a
//! user with no role the fake answers `404 Not Found`, as GitHub does for a non-collaborator of
//! a private repository and for an unknown login. On a public repository GitHub answers
//! `200` with `permission: read` instead (everyone may read it): a test models that with
//! `set_permission(repo, user, "read")`. The conformance data has no schema for this answer.

use axum::http::StatusCode;
use serde_json::Value;

use super::FakeGitHub;
use super::model::State;
use super::serve::{Reply, Route};

impl FakeGitHub {
    /// `user` has `role` on `repo`: `admin`, `maintain`, `write`, `triage`, `read` or a custom
    /// role name (reported with the legacy permission `read`). `none` removes the role.
    pub fn set_permission(&self, repo: &str, user: &str, role: &str) {
        let key = (repo.to_ascii_lowercase(), user.to_ascii_lowercase());
        self.with(|s| {
            if role == "none" {
                s.permissions.remove(&key);
            } else {
                s.permissions.insert(key, role.to_owned());
            }
        });
    }
}

/// The answer for the user named in `route.path`.
pub(super) fn answer(state: &State, route: &Route) -> Reply {
    let Some(repo) = route.repo.as_ref().filter(|r| state.repos.contains_key(*r)) else {
        return Reply::error(404, "Not Found");
    };
    let key = (repo.clone(), route.path.to_ascii_lowercase());
    let Some(role) = state.permissions.get(&key) else {
        return Reply::error(404, "Not Found");
    };
    let permission = match role.as_str() {
        "admin" => "admin",
        "maintain" | "write" => "write",
        _ => "read",
    };
    let mut user = super::reporting::author(&state.base_url, &route.path);
    user["role_name"] = Value::from(role.as_str());
    user["permissions"] = serde_json::json!({
        "admin": permission == "admin",
        "maintain": role == "maintain" || permission == "admin",
        "push": permission != "read",
        "triage": true,
        "pull": true,
    });
    let body = serde_json::json!({"permission": permission, "role_name": role, "user": user});
    Reply {
        schema: None,
        ..Reply::json(StatusCode::OK, body, "")
    }
}
