//! Failures of the write side: each maps to the `GitHubError` the lifecycle matches on, after
//! exactly one request (no hidden retries), and nothing is invented (no fake ids).

use std::time::Duration;

use preview_tower::github::{GitHubError, PreviewReporter};
use preview_tower::lifecycle::State;

use super::support::fake_github::{Endpoint, Fault, FaultRule};
use super::{PR, REPO, fake, new_deployment, repo, source, source_with_timeout, status};

#[tokio::test]
async fn a_202_or_409_instead_of_a_deployment_is_an_error() {
    let github = fake().await;
    let source = source(&github);
    for code in [202, 409] {
        github.fail(
            FaultRule::new(Fault::Status(code))
                .endpoint(Endpoint::CreateDeployment)
                .times(1),
        );
        let error = source
            .create_deployment(&repo(), &new_deployment("e"))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, GitHubError::Upstream { status, .. } if *status == code),
            "{code}: {error:?}"
        );
    }
    assert_eq!(github.count(Endpoint::CreateDeployment), 2);
    assert!(github.deployments(REPO).is_empty());
}

#[tokio::test]
async fn an_unknown_commit_is_refused() {
    let github = fake().await;
    let mut deployment = new_deployment("e");
    deployment.sha = "f".repeat(40);
    let error = source(&github)
        .create_deployment(&repo(), &deployment)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, GitHubError::Upstream { status: 422, message } if message.contains("No ref found")),
        "{error:?}"
    );
}

#[tokio::test]
async fn secondary_limits_map_to_rate_limited_with_their_wait() {
    let github = fake().await;
    let source = source(&github);
    let id = source
        .create_deployment(&repo(), &new_deployment("e"))
        .await
        .unwrap();
    github.fail(
        FaultRule::new(Fault::SecondaryLimit { retry_after: 60 })
            .endpoint(Endpoint::CreateStatus)
            .times(1),
    );
    let error = source
        .create_status(&repo(), id, &status(State::Queued, None, None))
        .await
        .unwrap_err();
    assert_eq!(
        error.retry_after(),
        Some(Duration::from_secs(60)),
        "{error:?}"
    );
    assert_eq!(github.count(Endpoint::CreateStatus), 1);

    // Writes closer than the spacing rule allows: the second is refused.
    github.enforce_write_spacing(Duration::from_millis(300));
    tokio::time::sleep(Duration::from_millis(350)).await;
    source.create_comment(&repo(), PR, "one").await.unwrap();
    let error = source.create_comment(&repo(), PR, "two").await.unwrap_err();
    assert!(
        matches!(error, GitHubError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(1)),
        "{error:?}"
    );
    assert_eq!(github.comments(REPO, PR).len(), 1);
    assert!(github.min_write_gap().unwrap() < Duration::from_millis(300));
    assert_eq!(
        github.max_writes_per_minute(),
        3,
        "an injected fault is no write"
    );
}

#[tokio::test]
async fn server_errors_and_timeouts_fail_each_call_once() {
    let github = fake().await;
    let source = source_with_timeout(&github, Duration::from_millis(500));
    let id = source
        .create_deployment(&repo(), &new_deployment("e"))
        .await
        .unwrap();
    let comment = source
        .create_comment(&repo(), PR, "<!-- m -->")
        .await
        .unwrap();
    let cases = [
        (Endpoint::CreateDeployment, Fault::Status(500)),
        (Endpoint::CreateStatus, Fault::Status(503)),
        (Endpoint::Deployments, Fault::Status(502)),
        (Endpoint::Statuses, Fault::Status(500)),
        (Endpoint::Comments, Fault::Status(503)),
        (Endpoint::CreateComment, Fault::Status(500)),
        (
            Endpoint::UpdateComment,
            Fault::Timeout(Duration::from_secs(2)),
        ),
    ];
    for (endpoint, fault) in cases {
        github.clear_requests();
        github.fail(FaultRule::new(fault.clone()).endpoint(endpoint));
        let error = match endpoint {
            Endpoint::CreateDeployment => source
                .create_deployment(&repo(), &new_deployment("e"))
                .await
                .map(drop),
            Endpoint::CreateStatus => {
                source
                    .create_status(&repo(), id, &status(State::Queued, None, None))
                    .await
            }
            Endpoint::Deployments | Endpoint::Statuses => {
                source.deployments(&repo(), None, 10).await.map(drop)
            }
            Endpoint::Comments => source
                .find_comment(&repo(), PR, "<!-- m -->")
                .await
                .map(drop),
            Endpoint::CreateComment => source.create_comment(&repo(), PR, "x").await.map(drop),
            _ => source.update_comment(&repo(), comment, "y").await,
        }
        .unwrap_err();
        github.clear_faults();
        match fault {
            Fault::Status(code) => {
                assert!(
                    matches!(error, GitHubError::Upstream { status, .. } if status == code),
                    "{endpoint:?} {fault:?}: {error:?}"
                );
                assert_eq!(github.count(endpoint), 1, "{endpoint:?}: no hidden retries");
            }
            // The fake logs a request when it answers, which it never does here.
            _ => assert!(matches!(error, GitHubError::Timeout), "{error:?}"),
        }
    }
}

#[tokio::test]
async fn a_missing_repository_or_comment_is_told_apart() {
    let github = fake().await;
    let source = source(&github);
    let gone = "acme/gone".parse().unwrap();
    let error = source.deployments(&gone, None, 10).await.unwrap_err();
    assert!(matches!(error, GitHubError::Unauthorized(_)), "{error:?}");
    let error = source
        .create_deployment(&gone, &new_deployment("e"))
        .await
        .unwrap_err();
    assert!(matches!(error, GitHubError::Unauthorized(_)), "{error:?}");
    let error = source.update_comment(&repo(), 42, "x").await.unwrap_err();
    assert!(
        matches!(error, GitHubError::Upstream { status: 404, .. }),
        "{error:?}"
    );
    let error = source
        .create_status(&repo(), 42, &status(State::Queued, None, None))
        .await
        .unwrap_err();
    assert!(
        matches!(error, GitHubError::Upstream { status: 404, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_write_redirected_into_a_read_is_no_success() {
    // octocrab follows a 301 by sending a GET: the POST becomes a list, answered 200.
    let github = fake().await;
    github.rename_repo(REPO, "acme/site");
    let source = source(&github);
    let comment = source.create_comment(&repo(), PR, "x").await.unwrap_err();
    let deployment = source
        .create_deployment(&repo(), &new_deployment("e"))
        .await
        .unwrap_err();
    for error in [comment, deployment] {
        assert!(
            matches!(&error, GitHubError::Upstream { status: 200, message } if message.contains("redirect")),
            "{error:?}"
        );
    }
    assert!(github.comments("acme/site", PR).is_empty());
    assert!(github.deployments("acme/site").is_empty());
}
