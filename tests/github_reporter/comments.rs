//! The sticky comment: created once, found again across pages (the oldest comment starting
//! with the marker wins), edited in place.

use preview_tower::github::PreviewReporter;

use super::support::fake_github::{Endpoint, FakeGitHub, FakePull};
use super::{PR, REPO, fake, repo, source};

const MARKER: &str = "<!-- preview-tower:acme/web#7 -->";

#[tokio::test]
async fn the_sticky_comment_is_created_found_across_pages_and_updated() {
    let github = fake().await;
    for n in 0..120 {
        github.comment_as(REPO, PR, "octocat", &format!("review comment {n}"));
    }
    // Quoting or mentioning the marker does not make a comment ours.
    github.comment_as(
        REPO,
        PR,
        "octocat",
        &format!("> {MARKER}\nwhy is this here?"),
    );
    // Nor does starting with it: only preview-tower's own account writes the comment.
    github.comment_as(REPO, PR, "mallory", &format!("{MARKER}\nall yours now"));
    let source = source(&github);
    assert_eq!(
        source.find_comment(&repo(), PR, MARKER).await.unwrap(),
        None
    );
    assert_eq!(github.count(Endpoint::Comments), 2, "two pages of 100");

    let body = format!("{MARKER}\n**Preview**: building");
    let id = source.create_comment(&repo(), PR, &body).await.unwrap();
    let found = source
        .find_comment(&repo(), PR, MARKER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, found.body.as_str()), (id, body.as_str()));

    let ready = format!("{MARKER}\n**Preview**: ready");
    source.update_comment(&repo(), id, &ready).await.unwrap();
    let found = source
        .find_comment(&repo(), PR, MARKER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, found.body), (id, ready.clone()));
    assert_eq!(
        github.comments(REPO, PR).last().unwrap(),
        &(id, ready.clone())
    );

    // A duplicate (say, from a crashed run) loses to the oldest.
    source
        .create_comment(&repo(), PR, &format!("{MARKER}\nduplicate"))
        .await
        .unwrap();
    let found = source
        .find_comment(&repo(), PR, MARKER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    assert_eq!(github.comments(REPO, PR).len(), 124);
    assert_eq!(source.find_comment(&repo(), PR, "").await.unwrap(), None);
}

#[tokio::test]
async fn comments_are_paged_on_github_enterprise_too() {
    let github = FakeGitHub::start_enterprise().await;
    github.add_repo(REPO);
    github.open_pull(REPO, FakePull::new(PR));
    let source = source(&github);
    let id = source.create_comment(&repo(), PR, MARKER).await.unwrap();
    for n in 0..250 {
        github.comment_as(
            REPO,
            PR,
            "octocat",
            &format!("{MARKER} said someone else {n}"),
        );
    }
    let found = source
        .find_comment(&repo(), PR, MARKER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    let pages: Vec<String> = github
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::Comments)
        .map(|r| r.path)
        .collect();
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|p| p.starts_with("/api/v3/")), "{pages:?}");
}
