//! What HTTP does around the calls: Enterprise base paths kept across pages, a renamed
//! repository followed through its redirect, a connection idle for most of the timeout reused.

use std::time::Duration;

use preview_tower::github::PullRequestSource;
use preview_tower::pull_request::ConfigFile;

use super::support::fake_github::{AuthSeen, FakeGitHub, FakePull, Fault};
use super::{REPO, fake, repo, sha, source, source_with_timeout};

#[tokio::test]
async fn enterprise_base_paths_are_kept_across_pages() {
    let github = FakeGitHub::start_enterprise().await;
    github.add_repo(REPO);
    for number in 1..=101 {
        github.open_pull(REPO, FakePull::new(number));
    }
    assert!(github.url().path().starts_with("/api/v3"));
    let pulls = source(&github).open_pull_requests(&repo()).await.unwrap();
    assert_eq!(pulls.len(), 101);
    assert!(
        github
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/api/v3/") && matches!(r.status, 200 | 304))
    );
}

#[tokio::test]
async fn renamed_repositories_are_followed_through_their_redirect() {
    let github = fake().await;
    let commit = sha("renamed");
    github.open_pull(REPO, FakePull::new(1));
    github.put_file(REPO, &commit, ".preview.yaml", "ttl: 1d\n");
    github.rename_repo(REPO, "acme/site");

    let source = source(&github);
    let pulls = source.open_pull_requests(&repo()).await.unwrap();
    assert_eq!(pulls.len(), 1);
    assert!(
        !pulls[0].from_fork,
        "head and base both name the new repository"
    );
    let file = source
        .file_at(&repo(), &commit, ".preview.yaml")
        .await
        .unwrap();
    assert_eq!(file, ConfigFile::Present("ttl: 1d\n".into()));
    let statuses: Vec<u16> = github.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [301, 200, 301, 200]);
    for request in github.requests().iter().filter(|r| r.status == 200) {
        assert_eq!(request.auth, AuthSeen::Token, "{request:?}");
        assert!(request.path.contains("/acme/site/"), "{request:?}");
    }
}

/// A pooled connection that sat idle for most of the timeout still serves a slow answer: the
/// timeout counts from the request, not from when the connection went idle. (hyper-timeout's
/// read timeout starts counting while a kept-alive connection waits idle, and a new request
/// does not restart it: with a poll interval near the timeout, refreshes failed.)
#[tokio::test]
async fn a_connection_idle_for_most_of_the_timeout_serves_the_next_request() {
    let github = fake().await;
    github.open_pull(REPO, FakePull::new(1));
    let source = source_with_timeout(&github, Duration::from_millis(800));
    source.open_pull_requests(&repo()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Answered 400 ms after it is asked: within the timeout, but past 800 ms of idleness.
    github.fail_with(Fault::Timeout(Duration::from_millis(400)));
    let pulls = source.open_pull_requests(&repo()).await;
    assert!(pulls.is_ok(), "{pulls:?}");
}
