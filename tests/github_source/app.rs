//! GitHub App authentication end to end, and secrets kept out of every printout.

use std::time::Duration;

use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::github::{GitHubError, PullRequestSource};
use preview_tower::pull_request::ConfigFile;

use super::support::app_key::TestAppKey;
use super::support::fake_github::{AuthSeen, Endpoint, FakeGitHub, FakePull, Fault, FaultRule};
use super::{REPO, fake, repo, sha, source};

fn app_source(github: &FakeGitHub, key: &TestAppKey) -> GitHubSource {
    let credentials = Credentials::app(4242, key.private_pem.clone()).unwrap();
    GitHubSource::new(github.url(), credentials, Duration::from_secs(5)).unwrap()
}

#[tokio::test]
async fn github_app_flow_end_to_end() {
    let github = fake().await;
    let key = TestAppKey::shared();
    github.register_app(4242, &key.public_der);
    github.app_installation("acme", 77);
    for number in 1..=150 {
        github.open_pull(REPO, FakePull::new(number));
    }
    let commit = sha("app");
    github.put_file(REPO, &commit, ".preview.yaml", "ttl: 1d\n");
    let source = app_source(&github, key);

    assert_eq!(source.open_pull_requests(&repo()).await.unwrap().len(), 150);
    let file = source
        .file_at(&repo(), &commit, ".preview.yaml")
        .await
        .unwrap();
    assert_eq!(file, ConfigFile::Present("ttl: 1d\n".into()));

    let log = github.requests();
    let auth_of = |endpoint| {
        log.iter()
            .filter(move |r| r.endpoint == endpoint)
            .map(|r| r.auth.clone())
    };
    assert_eq!(
        auth_of(Endpoint::Installation).collect::<Vec<_>>(),
        [AuthSeen::AppJwt]
    );
    assert_eq!(
        auth_of(Endpoint::AccessToken).collect::<Vec<_>>(),
        [AuthSeen::AppJwt]
    );
    assert!(
        auth_of(Endpoint::Pulls)
            .chain(auth_of(Endpoint::Contents))
            .all(|a| a == AuthSeen::Installation(77))
    );

    // An expired installation token is replaced by octocrab, without a second lookup.
    github.revoke_installation_tokens();
    assert_eq!(source.open_pull_requests(&repo()).await.unwrap().len(), 150);
    assert_eq!(github.count(Endpoint::Installation), 1);
    assert_eq!(github.count(Endpoint::AccessToken), 2);
}

#[tokio::test]
async fn app_setup_failures_are_auth_errors() {
    let github = fake().await;
    let key = TestAppKey::shared();
    github.register_app(4242, &key.public_der);
    let not_installed = app_source(&github, key)
        .open_pull_requests(&repo())
        .await
        .unwrap_err();
    assert!(
        matches!(&not_installed, GitHubError::Auth(m) if m.contains("not installed")),
        "{not_installed:?}"
    );

    github.app_installation("acme", 77);
    github.fail(FaultRule::new(Fault::Status(500)).endpoint(Endpoint::AccessToken));
    let exchange = app_source(&github, key)
        .open_pull_requests(&repo())
        .await
        .unwrap_err();
    assert!(matches!(exchange, GitHubError::Auth(_)), "{exchange:?}");
    github.clear_faults();

    let other_key = TestAppKey::generate();
    github.register_app(4242, &other_key.public_der);
    let bad_jwt = app_source(&github, key)
        .open_pull_requests(&repo())
        .await
        .unwrap_err();
    assert!(matches!(bad_jwt, GitHubError::Auth(_)), "{bad_jwt:?}");
}

#[tokio::test]
async fn secrets_never_reach_debug_output_or_errors() {
    let github = fake().await;
    github.accept_only_tokens(&["ghp_the_right_one"]);
    let source = source(&github);
    let error = source.open_pull_requests(&repo()).await.unwrap_err();
    assert!(matches!(error, GitHubError::Unauthorized(_)), "{error:?}");
    for text in [
        format!("{error}"),
        format!("{error:?}"),
        format!("{source:?}"),
    ] {
        assert!(!text.contains("TOPSECRET"), "{text}");
    }
    let key = TestAppKey::shared();
    let credentials = Credentials::app(4242, key.private_pem.clone()).unwrap();
    let key_body = key.private_pem.lines().nth(1).unwrap();
    assert!(!format!("{credentials:?}").contains(key_body));
    let app = GitHubSource::new(github.url(), credentials, Duration::from_secs(5)).unwrap();
    let error = app.open_pull_requests(&repo()).await.unwrap_err();
    for text in [format!("{error}"), format!("{error:?}"), format!("{app:?}")] {
        assert!(!text.contains(key_body), "{text}");
    }
}

#[tokio::test]
async fn first_calls_for_one_owner_share_one_installation_lookup_and_one_token() {
    let github = fake().await;
    let key = TestAppKey::shared();
    github.register_app(4242, &key.public_der);
    github.app_installation("acme", 77);
    let repos = ["acme/web", "acme/api", "ACME/docs"];
    for name in repos {
        if !name.eq_ignore_ascii_case(REPO) {
            github.add_repo(name);
        }
        github.open_pull(name, FakePull::new(1));
    }
    let source = app_source(&github, key);
    let names: Vec<_> = repos.iter().map(|r| r.parse().unwrap()).collect();

    // The first refreshes of an owner's repositories start together after a restart.
    let (web, api, docs) = tokio::join!(
        source.open_pull_requests(&names[0]),
        source.open_pull_requests(&names[1]),
        source.open_pull_requests(&names[2]),
    );
    for listed in [web, api, docs] {
        assert_eq!(listed.unwrap().len(), 1);
    }
    let log = github.requests();
    let count = |endpoint| log.iter().filter(|r| r.endpoint == endpoint).count();
    assert_eq!(count(Endpoint::Installation), 1, "one lookup for the owner");
    assert_eq!(count(Endpoint::AccessToken), 1, "one token for the owner");
}
