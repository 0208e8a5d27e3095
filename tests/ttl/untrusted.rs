//! What anyone can write on a pull request must not keep its preview alive (issue 12): a
//! commit's date is its author's to set, and on a public repository any account can comment
//! and review.

use chrono::TimeZone;

use super::support::fake_github::sha1_hex;
use super::{ExclusionReason, REPO, TTL_HOURS, World, hours, minutes, near};

/// A commit dated 2099 counts from when preview-tower first saw it, not from its date nor from
/// each later read: its PR expires on time, with a control PR of the same TTL.
#[tokio::test]
async fn a_commit_dated_in_the_future_expires_on_time_like_any_other() {
    let w = World::new(|_| {}).await;
    w.open(7, &["preview"]);
    w.open(8, &["preview"]);
    let future = chrono::Utc
        .with_ymd_and_hms(2099, 1, 1, 0, 0, 0)
        .single()
        .unwrap();
    w.github.push_dated(REPO, 8, &sha1_hex(b"8-B"), future);
    w.poll().await;
    let control = w.web(7).unwrap().expires_at.unwrap();
    let dated = w.web(8).unwrap().expires_at.unwrap();
    assert!(near(dated, w.now() + hours(TTL_HOURS)), "{dated}");
    assert!(near(dated, control), "{dated} vs {control}");

    // Nothing happens on either PR while the polls go on: neither expiry moves (the first
    // poll reads PR 8's timeline again: it was read within a minute of its push).
    for _ in 0..4 {
        w.advance(minutes(30));
        w.poll().await;
        assert_eq!(w.web(7).unwrap().expires_at, Some(control));
        assert_eq!(w.web(8).unwrap().expires_at, Some(dated), "slid forward");
    }
    w.advance(minutes(5));
    w.poll().await;
    assert_eq!(w.excluded(7), Some(ExclusionReason::Expired));
    assert_eq!(w.excluded(8), Some(ExclusionReason::Expired));
    w.stop().await;
}

/// Comments and reviews count only from the repository's own people (`author_association`
/// `OWNER`, `MEMBER` or `COLLABORATOR` by default): a drive-by comment on a public repository
/// keeps nothing alive, a collaborator's does.
#[tokio::test]
async fn comments_and_reviews_from_outside_the_project_do_not_keep_a_preview_alive() {
    let w = World::new(|_| {}).await;
    w.open(7, &["preview"]);
    w.open(8, &["preview"]);
    w.poll().await;
    let opened = w.web(7).unwrap().expires_at.unwrap();

    w.advance(hours(1));
    w.github
        .comment_with(REPO, 7, "drive-by", "NONE", "any news? +1");
    w.github
        .comment_with(REPO, 7, "newcomer", "FIRST_TIME_CONTRIBUTOR", "hello");
    w.github.review_with(REPO, 7, "someone", "CONTRIBUTOR");
    w.github
        .comment_with(REPO, 8, "carol", "COLLABORATOR", "checked on the preview");
    w.poll().await;
    assert_eq!(
        w.web(7).unwrap().expires_at,
        Some(opened),
        "outsiders' comments and reviews are not activity"
    );
    let commented = w.web(8).unwrap().expires_at.unwrap();
    assert!(near(commented, w.now() + hours(TTL_HOURS)), "{commented}");

    w.advance(hours(TTL_HOURS - 1) + minutes(3));
    w.poll().await;
    assert_eq!(w.excluded(7), Some(ExclusionReason::Expired));
    assert!(w.web(8).is_some(), "a collaborator's comment keeps it");
    w.stop().await;
}
