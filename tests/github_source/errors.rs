//! Failures: every fault of the fake maps to the right `GitHubError`, once, without retries.

use std::time::Duration;

use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::github::{GitHubError, PullRequestSource};
use preview_tower::pull_request::ConfigFile;

use super::support::fake_github::{Endpoint, FakePull, Fault, FaultRule};
use super::{REPO, TOKEN, fake, repo, sha, source, source_with_timeout};

#[tokio::test]
async fn faults_map_to_source_errors_and_are_requested_once() {
    let github = fake().await;
    github.open_pull(REPO, FakePull::new(1));
    let source = source(&github);
    type Expected = fn(&GitHubError) -> bool;
    let cases: Vec<(Fault, Expected)> = vec![
        (Fault::Status(500), |e| {
            matches!(e, GitHubError::Upstream { status: 500, .. })
        }),
        (Fault::Status(503), |e| {
            matches!(e, GitHubError::Upstream { status: 503, .. })
        }),
        (Fault::Status(401), |e| {
            matches!(e, GitHubError::Unauthorized(_))
        }),
        (Fault::Status(403), |e| {
            matches!(e, GitHubError::Unauthorized(_))
        }),
        (Fault::Status(404), |e| {
            matches!(e, GitHubError::Unauthorized(_))
        }),
        (
            Fault::RateLimited,
            |e| matches!(e, GitHubError::RateLimited { retry_after: Some(d) } if *d <= Duration::from_secs(60) && *d >= Duration::from_secs(50)),
        ),
        (
            Fault::TooManyRequests { retry_after: 7 },
            |e| matches!(e, GitHubError::RateLimited { retry_after: Some(d) } if *d == Duration::from_secs(7)),
        ),
        (Fault::Malformed, |e| matches!(e, GitHubError::Malformed(_))),
    ];
    for (fault, expected) in cases {
        github.clear_requests();
        github.fail_repo_with(REPO, fault.clone());
        let error = source.open_pull_requests(&repo()).await.unwrap_err();
        github.fail_with(Fault::None);
        assert!(expected(&error), "{fault:?} gave {error:?}");
        assert_eq!(
            github.count(Endpoint::Pulls),
            1,
            "{fault:?}: no hidden retries"
        );
    }
    let gone = source
        .open_pull_requests(&"acme/gone".parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(gone, GitHubError::Unauthorized(_)), "{gone:?}");
}

#[tokio::test]
async fn file_reads_map_faults_too() {
    let github = fake().await;
    let commit = sha("c");
    github.put_file(REPO, &commit, "a.yaml", "a\n");
    let source = source(&github);
    github.fail(
        FaultRule::new(Fault::Status(500))
            .endpoint(Endpoint::Contents)
            .times(1),
    );
    let error = source
        .file_at(&repo(), &commit, "a.yaml")
        .await
        .unwrap_err();
    assert!(
        matches!(error, GitHubError::Upstream { status: 500, .. }),
        "{error:?}"
    );
    github.fail(
        FaultRule::new(Fault::RateLimited)
            .endpoint(Endpoint::Contents)
            .times(1),
    );
    let error = source
        .object_sha_at(&repo(), &commit, "a.yaml")
        .await
        .unwrap_err();
    assert!(
        matches!(error, GitHubError::RateLimited { .. }),
        "{error:?}"
    );
    assert_eq!(github.count(Endpoint::Contents), 2);
    assert_eq!(
        source.file_at(&repo(), &commit, "a.yaml").await.unwrap(),
        ConfigFile::Present("a\n".into())
    );
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let github = fake().await;
    github.fail_with(Fault::Timeout(Duration::from_secs(5)));
    let source = source_with_timeout(&github, Duration::from_millis(300));
    let error = source.open_pull_requests(&repo()).await.unwrap_err();
    assert!(matches!(error, GitHubError::Timeout), "{error:?}");
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    drop(listener);
    let source = GitHubSource::new(
        url,
        Credentials::token(TOKEN).unwrap(),
        Duration::from_secs(2),
    )
    .unwrap();
    let error = source.open_pull_requests(&repo()).await.unwrap_err();
    assert!(matches!(error, GitHubError::Transport(_)), "{error:?}");
}

#[test]
fn building_outside_a_runtime_is_an_error_not_a_panic() {
    let url = "https://ghe.example.com/api/v3".parse().unwrap();
    let result = GitHubSource::new(
        url,
        Credentials::token(TOKEN).unwrap(),
        Duration::from_secs(1),
    );
    assert!(matches!(result, Err(GitHubError::Transport(_))));
    let ftp = "ftp://example.com".parse().unwrap();
    let result = GitHubSource::new(
        ftp,
        Credentials::token(TOKEN).unwrap(),
        Duration::from_secs(1),
    );
    assert!(matches!(result, Err(GitHubError::Transport(_))));
}

#[tokio::test]
async fn tokens_built_by_hand_are_trimmed_and_bad_keys_refused_up_front() {
    let github = fake().await;
    github.open_pull(REPO, FakePull::new(1));
    let padded = Credentials::Token(format!("  {TOKEN}\n").into());
    let source = GitHubSource::new(github.url(), padded, Duration::from_secs(5)).unwrap();
    assert_eq!(source.open_pull_requests(&repo()).await.unwrap().len(), 1);

    let bad_key = Credentials::App {
        app_id: 1,
        private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
    };
    let error = GitHubSource::new(github.url(), bad_key, Duration::from_secs(5)).unwrap_err();
    assert!(
        matches!(&error, GitHubError::Auth(m) if m.contains("PEM")),
        "{error:?}"
    );
}
