//! The `Collaborators` adapter of `GitHubSource` against the fake GitHub, over real HTTP.

use std::time::Duration;

use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::github::{Collaborators, GitHubError};
use preview_tower::sync::may_command;

use super::REPO;
use super::support::fake_github::{Endpoint, FakeGitHub, Fault, FaultRule};

async fn fake() -> (FakeGitHub, GitHubSource) {
    let github = FakeGitHub::start().await;
    github.add_repo(REPO);
    let credentials = Credentials::token("ghp_0123456789abcdefTOPSECRET").unwrap();
    let source = GitHubSource::new(github.url(), credentials, Duration::from_secs(5)).unwrap();
    (github, source)
}

#[tokio::test]
async fn roles_come_back_as_githubs_legacy_permissions() {
    let (github, source) = fake().await;
    let repo = super::repo();
    for (role, permission, may) in [
        ("admin", "admin", true),
        ("maintain", "write", true),
        ("write", "write", true),
        ("triage", "read", false),
        ("read", "read", false),
    ] {
        github.set_permission(REPO, "mona", role);
        let answer = source.permission(&repo, "mona").await.unwrap();
        assert_eq!(answer, permission, "{role}");
        assert_eq!(may_command(&answer), may, "{role}");
    }
    assert_eq!(github.count(Endpoint::Permission), 5, "never cached");
}

#[tokio::test]
async fn a_non_collaborator_is_none() {
    let (github, source) = fake().await;
    let answer = source.permission(&super::repo(), "stranger").await.unwrap();
    assert_eq!(answer, "none");
    assert!(!may_command(&answer));
    assert_eq!(github.requests()[0].status, 404);
}

#[tokio::test]
async fn bot_logins_are_asked_about_encoded() {
    let (github, source) = fake().await;
    github.set_permission(REPO, "renovate[bot]", "write");
    let answer = source
        .permission(&super::repo(), "renovate[bot]")
        .await
        .unwrap();
    assert_eq!(answer, "write");
    let path = &github.requests()[0].path;
    assert_eq!(
        path,
        "/repos/acme/web/collaborators/renovate%5Bbot%5D/permission"
    );
}

#[tokio::test]
async fn a_login_that_is_not_github_syntax_is_none_without_a_request() {
    let (github, source) = fake().await;
    for login in [
        "../../user",
        "mona?x=1",
        "",
        "mona/permission#",
        &"m".repeat(40),
    ] {
        let answer = source.permission(&super::repo(), login).await.unwrap();
        assert_eq!(answer, "none", "{login:?}");
    }
    assert!(github.requests().is_empty());
}

#[tokio::test]
async fn failures_are_errors_not_permissions() {
    let (github, source) = fake().await;
    github.set_permission(REPO, "mona", "write");
    github.fail(
        FaultRule::new(Fault::Status(502))
            .endpoint(Endpoint::Permission)
            .times(1),
    );
    let error = source.permission(&super::repo(), "mona").await.unwrap_err();
    assert!(
        matches!(error, GitHubError::Upstream { status: 502, .. }),
        "{error:?}"
    );
    github.fail(
        FaultRule::new(Fault::RateLimited)
            .endpoint(Endpoint::Permission)
            .times(1),
    );
    let error = source.permission(&super::repo(), "mona").await.unwrap_err();
    assert!(
        matches!(error, GitHubError::RateLimited { .. }),
        "{error:?}"
    );
    assert_eq!(
        source.permission(&super::repo(), "mona").await.unwrap(),
        "write"
    );
}
