//! Listing a repo's open pull requests: every page, each field mapped, a short head SHA
//! refused, a failing page failing the list, unchanged lists revalidated with `ETag`s, one PR
//! asked alone, a PR a page shift hides still listed.

use std::collections::BTreeSet;

use preview_tower::github::GitHubError;
use preview_tower::github::PullRequestSource;

use super::support::fake_github::{AuthSeen, Endpoint, FakePull, Fault, FaultRule};
use super::{REPO, fake, repo, sha, source};

#[tokio::test]
async fn lists_every_page_of_250_pull_requests() {
    let github = fake().await;
    for number in 1..=250 {
        github.open_pull(REPO, FakePull::new(number));
    }
    github.open_pull(REPO, FakePull::new(251));
    github.close_pull(REPO, 251);

    let source = source(&github);
    let pulls = source.open_pull_requests(&repo()).await.unwrap();

    let numbers: BTreeSet<u64> = pulls.iter().map(|p| p.number).collect();
    assert_eq!(numbers, (1..=250).collect());
    let pages = github.requests();
    let statuses: Vec<u16> = pages.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [200, 200, 200, 304, 304, 304],
        "read, then revalidated"
    );
    assert!(pages.iter().all(|r| r.auth == AuthSeen::Token));
    assert!(
        pages[1].path.starts_with("/repositories/"),
        "GitHub's next links use repository ids"
    );
    // The budget GitHub reported is this client's, and every answer is counted, 304s included.
    let rate = source.rate_limits();
    assert_eq!(rate.limit.get(), 5000);
    assert!(rate.remaining.get() <= rate.limit.get());
    assert_eq!(rate.requests(), u64::try_from(pages.len()).unwrap());
}

#[tokio::test]
async fn maps_labels_drafts_forks_and_authors() {
    let github = fake().await;
    let head = sha("labelled");
    github.open_pull(
        REPO,
        FakePull::new(1)
            .title("Add checkout")
            .labels(&["preview", "Keep Alive"])
            .author("alice")
            .branch("feat/checkout")
            .base("develop")
            .head_sha(&head),
    );
    github.open_pull(REPO, FakePull::new(2).draft());
    github.open_pull(REPO, FakePull::new(3).fork().author("mallory"));
    github.open_pull(REPO, FakePull::new(4).deleted_fork());

    let mut pulls = source(&github).open_pull_requests(&repo()).await.unwrap();
    pulls.sort_by_key(|p| p.number);

    let first = &pulls[0];
    assert_eq!(first.title, "Add checkout");
    assert_eq!(first.labels, ["preview", "Keep Alive"]);
    assert!(first.has_label("keep alive"));
    assert_eq!(
        (first.author.as_str(), first.branch.as_str()),
        ("alice", "feat/checkout")
    );
    assert_eq!(
        (first.target_branch.as_str(), first.head_sha.as_str()),
        ("develop", head.as_str())
    );
    assert_eq!(first.updated_at, FakePull::new(1).updated_at);
    assert!(!first.draft && !first.from_fork);
    assert!(pulls[1].draft && !pulls[1].from_fork);
    assert!(pulls[2].from_fork);
    assert_eq!(pulls[2].author, "mallory");
    assert!(
        pulls[3].from_fork,
        "a deleted fork (head.repo null) is still a fork"
    );
}

#[tokio::test]
async fn a_head_sha_that_is_not_full_is_malformed() {
    let github = fake().await;
    github.open_pull(REPO, FakePull::new(9).head_sha("abc123"));
    let error = source(&github)
        .open_pull_requests(&repo())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, GitHubError::Malformed(m) if m.contains("#9")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_failing_later_page_fails_the_whole_list() {
    let github = fake().await;
    for number in 1..=150 {
        github.open_pull(REPO, FakePull::new(number));
    }
    github.fail(
        FaultRule::new(Fault::Status(502))
            .endpoint(Endpoint::Pulls)
            .page(2),
    );
    let error = source(&github)
        .open_pull_requests(&repo())
        .await
        .unwrap_err();
    assert!(
        matches!(error, GitHubError::Upstream { status: 502, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn unchanged_lists_are_revalidated_with_etags() {
    let github = fake().await;
    for number in 1..=120 {
        github.open_pull(REPO, FakePull::new(number));
    }
    let source = source(&github);
    let first = source.open_pull_requests(&repo()).await.unwrap();
    let used = github.rate_limit_used();

    let second = source.open_pull_requests(&repo()).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(github.rate_limit_used(), used, "304s cost no rate limit");
    // Two pages, each read then revalidated (a list of several pages is read twice).
    let statuses: Vec<u16> = github.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 304, 304, 304, 304, 304, 304]);

    let pushed = sha("pushed");
    github.push(REPO, 120, &pushed);
    let third = source.open_pull_requests(&repo()).await.unwrap();
    assert!(
        third
            .iter()
            .any(|p| p.number == 120 && p.head_sha == pushed)
    );
}

#[tokio::test]
async fn one_pull_request_is_open_or_not() {
    let github = fake().await;
    github.open_pull(REPO, FakePull::new(7).labels(&["preview"]));
    github.open_pull(REPO, FakePull::new(8));
    github.close_pull(REPO, 8);
    let source = source(&github);

    let open = source.open_pull_request(&repo(), 7).await.unwrap();
    assert_eq!(
        open.map(|p| (p.number, p.labels)),
        Some((7, vec!["preview".to_owned()]))
    );
    assert!(
        source
            .open_pull_request(&repo(), 8)
            .await
            .unwrap()
            .is_none(),
        "closed"
    );
    let missing = source.open_pull_request(&repo(), 9).await;
    assert!(
        matches!(missing, Err(GitHubError::Upstream { status: 404, .. })),
        "a 404 is no evidence of a closed PR: {missing:?}"
    );
    assert_eq!(github.count(Endpoint::Pull), 3);
    github.assert_conformant();
}

#[tokio::test]
async fn a_pr_hidden_by_a_page_shift_is_still_listed() {
    let github = fake().await;
    for number in 1..=150 {
        github.open_pull(REPO, FakePull::new(number));
    }
    // Newest first: page 1 holds 150..=51, page 2 holds 50..=1. Just before page 2 is read,
    // PR 150 closes: PR 50 moves up to page 1, which was already read, so one pass misses it.
    github.fail(
        FaultRule::new(Fault::ClosePullFirst(150))
            .endpoint(Endpoint::Pulls)
            .page(2)
            .times(1),
    );
    let listed = source(&github).open_pull_requests(&repo()).await.unwrap();
    let numbers: BTreeSet<u64> = listed.iter().map(|p| p.number).collect();
    assert!(
        (1..150).all(|n| numbers.contains(&n)),
        "every open PR listed"
    );
}
