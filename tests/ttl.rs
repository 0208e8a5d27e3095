//! Idle expiry, `/preview` commands, sleep and the quota end to end (issue 6): the real sync,
//! octocrab adapter (timelines, permissions) and freshness (webhook pokes, the timer's pokes)
//! against the fake GitHub and the fake Kubernetes API over HTTP. Time is moved by hand: the
//! syncer's clock and the fake's clock jump together, nothing sleeps for real. No timing
//! assertions: generous deadlines only.
#![allow(clippy::unwrap_used)]

mod support;

#[path = "ttl/untrusted.rs"]
mod untrusted;

#[path = "ttl/world.rs"]
mod world;

use chrono::{Datelike, Utc};
use preview_tower::github::PullRequestSource;
use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::naming::RepoName;
use preview_tower::plan::{ExclusionReason, QuotaScope};
use std::time::Duration;
use support::fake_github::{Endpoint, FakeGitHub, FakePull, Fault, FaultRule, sha1_hex};
use world::*;

#[tokio::test]
async fn an_idle_preview_is_warned_then_gone_at_the_next_reconcile_and_back_on_a_push() {
    let w = World::new(|_| {}).await;
    w.open(7, &["preview"]);
    w.poll().await;
    let preview = w.web(7).expect("previewed");
    let expires = preview.expires_at.expect("activity read: an expiry");
    assert!(near(expires, w.now() + hours(TTL_HOURS)), "{expires}");
    assert!(!preview.expiry_warning);

    // Within the warning window: the timer pokes, the PR comment warns.
    w.advance(minutes(100));
    assert_eq!(w.tick().await, [repo()]);
    let preview = w.web(7).expect("still there");
    assert!(preview.expiry_warning);
    let comment = preview_tower::lifecycle::comment::render(
        &[(&preview, None)],
        &[],
        &[],
        &Default::default(),
        ".p.yaml",
    );
    assert!(comment.contains("Idle: deleted after"), "{comment}");

    // Past the expiry (and the two-minute evidence margin): the next reconcile drops it and
    // tells Argo CD.
    let patches = w.patches();
    w.advance(minutes(23));
    assert_eq!(w.tick().await, [repo()]);
    assert_eq!(w.web(7), None);
    assert_eq!(w.excluded(7), Some(ExclusionReason::Expired));
    assert!(w.answer().is_empty(), "{:?}", w.answer());
    assert!(w.patches() > patches, "the ApplicationSet is told");
    assert_eq!(
        w.tick().await,
        Vec::<RepoName>::new(),
        "nothing more is due"
    );

    // A push brings it back (the webhook pokes).
    w.github.push(REPO, 7, &sha1_hex(b"7-B"));
    let rounds = w.rounds();
    w.freshness.poke(&repo());
    w.settle(rounds + 1).await;
    let back = w.web(7).expect("back on new activity");
    assert!(near(back.expires_at.unwrap(), w.now() + hours(TTL_HOURS)));
    // And a comment does too.
    w.advance(hours(3));
    w.poll().await;
    assert_eq!(w.web(7), None);
    w.github
        .comment_as(REPO, 7, "octocat", "still looking at this");
    w.poll().await;
    assert!(w.web(7).is_some(), "a comment is activity");
    w.stop().await;
}

#[tokio::test]
async fn a_github_outage_past_the_expiry_expires_nothing() {
    let w = World::new(|_| {}).await;
    w.open(7, &["preview"]);
    w.poll().await;
    let expires = w.web(7).unwrap().expires_at.unwrap();

    // Everything fails: nothing is refreshed, nothing goes.
    w.github.fail_with(Fault::Status(502));
    w.advance(hours(3));
    assert!(w.syncer.refresh(&repo()).await.is_err());
    assert_eq!(w.web(7).unwrap().expires_at, Some(expires));

    // Only the timeline fails, after new activity: the listing works, the activity read does
    // not, so the old facts (read before the expiry) stay and nothing expires.
    w.github.clear_faults();
    w.github
        .comment_as(REPO, 7, "octocat", "is this still needed?");
    w.github
        .fail(FaultRule::new(Fault::Status(500)).endpoint(Endpoint::Timeline));
    w.poll().await;
    w.advance(hours(1));
    w.poll().await;
    assert!(
        w.web(7).is_some(),
        "activity we could not read is not inactivity"
    );

    // GitHub is back: the comment is read and pushes the expiry out.
    w.github.clear_faults();
    w.poll().await;
    let expires = w.web(7).unwrap().expires_at.unwrap();
    assert!(expires > w.now(), "{expires}");
    w.stop().await;
}

#[tokio::test]
async fn extend_and_keep_from_a_writer_push_expiry_out_and_from_a_reader_do_nothing() {
    let w = World::new(|_| {}).await;
    w.open(7, &["preview"]);
    w.poll().await;

    w.advance(hours(1));
    let rounds = w.rounds();
    w.command(7, "mona", "/preview extend 3d");
    w.settle(rounds + 1).await;
    let expires = w.web(7).unwrap().expires_at.unwrap();
    assert!(near(expires, w.now() + hours(72)), "{expires}");

    // A reader's command is a comment like any other: no poke, no effect beyond activity.
    w.advance(hours(1));
    w.command(7, "eve", "/preview keep");
    w.poll().await;
    assert_eq!(
        w.web(7).unwrap().expires_at,
        Some(expires),
        "eve's keep is refused; her comment is older activity than mona's extension"
    );
    w.command(7, "eve", "/preview extend 30d");
    w.poll().await;
    assert_eq!(w.web(7).unwrap().expires_at, Some(expires));

    // A writer's keep turns expiry off.
    let rounds = w.rounds();
    w.command(7, "mona", "/preview keep");
    w.settle(rounds + 1).await;
    assert_eq!(w.web(7).unwrap().expires_at, None);
    let asked = w.github.count(Endpoint::Permission);
    w.advance(hours(24 * 30));
    w.tick().await;
    w.poll().await;
    w.poll().await;
    assert!(w.web(7).is_some(), "kept");
    assert_eq!(
        w.github.count(Endpoint::Permission),
        asked,
        "permissions are cached while nothing new happens"
    );
    w.stop().await;
}

/// A `/preview keep` whose author's access cannot be checked (GitHub refuses the permission
/// call, as after a restart during an outage) may be a writer's: nothing expires until it is
/// known, and once it is, the keep holds.
#[tokio::test]
async fn a_command_whose_author_cannot_be_checked_expires_nothing() {
    let w = World::new(|_| {}).await;
    w.open(7, &["preview"]);
    w.poll().await;
    w.github
        .fail(FaultRule::new(Fault::Status(502)).endpoint(Endpoint::Permission));
    w.command(7, "mona", "/preview keep");
    w.poll().await;
    w.advance(hours(TTL_HOURS * 10));
    w.tick().await;
    w.poll().await;
    assert!(w.web(7).is_some(), "an unchecked keep may be a real one");

    w.github.clear_faults();
    w.advance(hours(1));
    w.poll().await;
    w.poll().await;
    let kept = w.web(7).expect("kept once mona's access is known");
    assert_eq!(kept.expires_at, None);
    w.stop().await;
}

#[tokio::test]
async fn wake_outside_working_hours_answers_one_replica() {
    // Working hours on a day that is neither today nor tomorrow: asleep now.
    let off = Utc::now().weekday().succ().succ();
    let w = World::new(|fleet| {
        for service in &mut fleet.services {
            service.policy.ttl = Duration::from_secs(72 * 3600);
            service.policy.sleep.enabled = true;
            service.policy.sleep.working_hours.days = vec![off];
        }
    })
    .await;
    w.open(7, &["preview"]);
    w.poll().await;
    assert_eq!(w.answer(), [("7".to_owned(), "0".to_owned())]);

    w.command(7, "eve", "/preview wake");
    w.poll().await;
    assert_eq!(
        w.answer(),
        [("7".into(), "0".into())],
        "a reader cannot wake"
    );

    let rounds = w.rounds();
    w.command(7, "mona", "/preview wake");
    w.settle(rounds + 1).await;
    assert_eq!(w.answer(), [("7".to_owned(), "1".to_owned())]);
    let preview = w.web(7).unwrap();
    assert!(!preview.asleep);
    let until = preview.sleep_changes_at.unwrap();
    assert!(near(until, w.now() + hours(4)), "{until}");

    // The wake ends: the timer puts it back to sleep.
    w.advance(hours(4) + minutes(1));
    assert_eq!(w.tick().await, [repo()]);
    assert_eq!(w.answer(), [("7".to_owned(), "0".to_owned())]);
    w.stop().await;
}

#[tokio::test]
async fn the_quota_keeps_live_previews_and_queues_in_order_of_labelling() {
    let w = World::new(|fleet| fleet.quota.max_previews = Some(1)).await;
    w.open(7, &["preview"]);
    w.poll().await;
    assert!(w.web(7).is_some());

    // Labelled later, PR 10 before PR 9; PR 8 has the priority label. PR 7 is live: it keeps
    // its place across refreshes, whatever the others' order.
    w.advance(minutes(1));
    w.open(10, &["preview"]);
    w.advance(minutes(1));
    w.open(9, &["preview"]);
    w.open(8, &["preview", "preview-priority"]);
    for _ in 0..2 {
        w.poll().await;
        assert!(w.web(7).is_some(), "live");
        let queued = |n| match w.excluded(n) {
            Some(ExclusionReason::Queued {
                position, scope, ..
            }) => {
                assert_eq!(scope, QuotaScope::Fleet);
                position
            }
            other => panic!("#{n}: {other:?}"),
        };
        assert_eq!([queued(8), queued(10), queued(9)], [1, 2, 3]);
    }

    // PR 7 closes: the head of the queue goes live, and stays so.
    w.github.close_pull(REPO, 7);
    w.poll().await;
    assert!(w.web(8).is_some());
    w.poll().await;
    assert!(w.web(8).is_some());
    assert!(matches!(
        w.excluded(10),
        Some(ExclusionReason::Queued { position: 1, .. })
    ));
    w.stop().await;
}

#[tokio::test]
async fn an_unchanged_fleet_costs_no_rate_limit_even_when_time_moves() {
    let w = World::new(|_| {}).await;
    w.open(7, &["preview"]);
    w.open(8, &["preview"]);
    w.poll().await;
    let rounds = w.rounds();
    w.command(7, "mona", "/preview extend 1d");
    w.settle(rounds + 1).await;
    w.poll().await;
    let queries = w.github.count(Endpoint::Graphql);
    let used = w.github.rate_limit_used();

    w.poll().await;
    assert_eq!(
        w.github.count(Endpoint::Graphql),
        queries,
        "reads sent within a minute of their PR's update wait until one can settle them"
    );
    w.advance(minutes(100));
    assert_eq!(w.tick().await, [repo()], "PR 8's warning is due");
    w.poll().await;
    assert_eq!(
        w.github.rate_limit_used(),
        used,
        "listings answer 304; no timeline or permission is read over REST"
    );
    assert_eq!(
        w.github.count(Endpoint::Graphql),
        queries + 1,
        "both PRs' timelines are read once more, settled, in one query"
    );
    let points = w.github.graphql_points();
    w.poll().await;
    assert_eq!(
        (w.github.rate_limit_used(), w.github.graphql_points()),
        (used, points),
        "then nothing is read at all"
    );
    assert!(
        w.web(8).unwrap().expiry_warning,
        "read_at advanced with the listings"
    );
    w.stop().await;
}

#[tokio::test]
async fn the_adapter_reads_every_timeline_page_once_and_revalidates_for_free() {
    let github = FakeGitHub::start().await;
    github.add_repo(REPO);
    github.open_pull(REPO, FakePull::new(7).labels(&["preview"]));
    for n in 0..120 {
        github.comment_as(REPO, 7, "octocat", &format!("comment {n}"));
    }
    github.comment_as(REPO, 7, "preview-tower[bot]", "<!-- sticky -->");
    github.review(REPO, 7, "mona");
    let source = GitHubSource::new(
        github.url(),
        Credentials::token("ghp_sync").unwrap(),
        Duration::from_secs(2),
    )
    .unwrap();
    let events = source
        .pull_request_activity(&repo(), 7)
        .await
        .unwrap()
        .unwrap();
    // The head's commit, the label, 120 comments and the review; not the bot's comment.
    assert_eq!(events.len(), 123, "{:?}", &events[..3]);
    assert_eq!(github.count(Endpoint::Timeline), 2, "two pages of 100");
    let used = github.rate_limit_used();
    let again = source
        .pull_request_activity(&repo(), 7)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, events);
    assert_eq!(github.rate_limit_used(), used, "unchanged pages answer 304");
    assert_eq!(github.count(Endpoint::Timeline), 4);
}
