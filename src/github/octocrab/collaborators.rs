//! [`Collaborators`] for [`GitHubSource`]: `GET /repos/{o}/{r}/collaborators/{user}/permission`.
//!
//! The login comes from a webhook comment: it is checked against GitHub's login syntax before
//! it goes into a path, and percent-encoded even then (`[bot]`). A 404 (not a collaborator, no
//! such user, or a repository these credentials cannot see) is `none`: the command is refused,
//! which is the safe reading of every one of those. Not cached: commands are rare, and a role
//! removed a minute ago must not still be honoured.

use std::time::Instant;

use async_trait::async_trait;
use http::StatusCode;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{GitHubSource, transport};
use crate::github::{Collaborators, GitHubError, valid_login};
use crate::naming::RepoName;

/// Left as they are in a login: the rest of its syntax (`[bot]`'s brackets) is encoded.
const LOGIN_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

/// The permission of a user with no role.
const NONE: &str = "none";

#[async_trait]
impl Collaborators for GitHubSource {
    async fn permission(&self, repo: &RepoName, user: &str) -> Result<String, GitHubError> {
        if !valid_login(user) {
            tracing::debug!(%repo, "not a GitHub login: no permission");
            return Ok(NONE.to_owned());
        }
        let started = Instant::now();
        let result = self.read_permission(repo, user).await;
        self.finish(repo, "permission", started, &result);
        result
    }
}

impl GitHubSource {
    async fn read_permission(&self, repo: &RepoName, user: &str) -> Result<String, GitHubError> {
        let client = self.client(repo).await?;
        let answer =
            transport::get(&client, &permission_route(repo, user), None, &self.exchange).await?;
        match answer.status {
            StatusCode::NOT_FOUND => Ok(NONE.to_owned()),
            status if status.is_success() => decode(&answer.body),
            _ => Err(transport::status_error(&answer)),
        }
    }
}

/// The route for `user` (already a valid login: only `[` and `]` need encoding).
fn permission_route(repo: &RepoName, user: &str) -> String {
    let user = utf8_percent_encode(user, LOGIN_SAFE);
    format!(
        "/repos/{}/{}/collaborators/{user}/permission",
        repo.owner(),
        repo.name()
    )
}

/// The legacy `permission` field, lower-cased and bounded.
fn decode(body: &[u8]) -> Result<String, GitHubError> {
    #[derive(serde::Deserialize)]
    struct Permission {
        permission: String,
    }
    let answer: Permission = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable collaborator permission: {e}")))?;
    Ok(answer
        .permission
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_logins_are_encoded_in_the_route() {
        let repo: RepoName = "acme/web".parse().expect("repo");
        assert_eq!(
            permission_route(&repo, "dependabot[bot]"),
            "/repos/acme/web/collaborators/dependabot%5Bbot%5D/permission"
        );
        assert_eq!(
            permission_route(&repo, "mona_acme-2"),
            "/repos/acme/web/collaborators/mona_acme-2/permission"
        );
    }

    #[test]
    fn the_legacy_permission_is_read() {
        let body = br#"{"permission": "Write", "role_name": "maintain", "user": null}"#;
        assert_eq!(decode(body).expect("decodes"), "write");
        assert!(matches!(decode(b"{}"), Err(GitHubError::Malformed(_))));
    }
}
