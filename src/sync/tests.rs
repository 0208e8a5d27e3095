//! The sync's fault semantics, against a scripted in-memory source. (The real adapter against a
//! fake GitHub over HTTP is exercised in `tests/`.)

mod gate;
mod hold;
mod source;

use super::*;
use crate::snapshot::Query;
use crate::testing::{fleet, pr, sha};
use source::ScriptedSource;
use tokio_util::sync::CancellationToken;

struct Harness {
    source: Arc<ScriptedSource>,
    store: Arc<SnapshotStore>,
    syncer: Syncer,
}

fn harness() -> Harness {
    harness_with(fleet())
}

fn harness_with(fleet: crate::fleet::Fleet) -> Harness {
    let fleet = Arc::new(fleet);
    let source = Arc::new(ScriptedSource::default());
    source.with(|s| {
        s.pulls.insert("acme/web".into(), vec![pr(1), pr(2)]);
        s.pulls.insert("acme/api".into(), vec![pr(42)]);
        s.pulls.insert("acme/billing".into(), vec![]);
    });
    let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
        &fleet,
    ))));
    let syncer = Syncer::new(
        fleet,
        Arc::clone(&source) as Arc<dyn PullRequestSource>,
        Arc::clone(&store),
        Arc::new(Metrics::unregistered()),
    );
    Harness {
        source,
        store,
        syncer,
    }
}

fn numbers(store: &SnapshotStore, service: &str) -> Vec<u64> {
    store
        .load()
        .plan()
        .previews
        .iter()
        .filter(|p| p.service.as_str() == service)
        .map(|p| p.pr.number)
        .collect()
}

fn repo(name: &str) -> RepoName {
    name.parse().expect("repo")
}

#[tokio::test]
async fn a_failed_refresh_keeps_every_preview() {
    let h = harness();
    h.syncer.refresh_all().await.expect("first sync");
    let before = h.store.load().answer(&Query::All).expect("complete");
    h.source.with(|s| s.failing_repos.push("acme/web".into()));
    assert!(h.syncer.refresh(&repo("acme/web")).await.is_err());
    assert_eq!(
        h.store.load().answer(&Query::All).expect("still complete"),
        before
    );
    assert_eq!(numbers(&h.store, "web"), [1, 2]);
}

#[tokio::test]
async fn a_failing_repo_does_not_hold_back_the_others() {
    let h = harness();
    h.source.with(|s| s.failing_repos.push("acme/web".into()));
    assert!(h.syncer.refresh_all().await.is_err());
    let snapshot = h.store.load();
    assert!(snapshot.answer(&Query::Service("api".into())).is_ok());
    assert!(matches!(
        snapshot.answer(&Query::Service("web".into())),
        Err(crate::snapshot::AnswerError::NotSynced { .. })
    ));
    assert!(snapshot.answer(&Query::All).is_err());
}

#[tokio::test]
async fn closing_a_pr_removes_exactly_its_preview() {
    let h = harness();
    h.syncer.refresh_all().await.expect("sync");
    h.source.with(|s| {
        s.pulls.insert("acme/web".into(), vec![pr(2)]);
    });
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(numbers(&h.store, "web"), [2]);
    assert_eq!(numbers(&h.store, "api"), [42]);
}

#[tokio::test]
async fn a_pr_missing_from_a_listing_but_still_open_keeps_its_preview() {
    let h = harness();
    h.syncer.refresh_all().await.expect("sync");
    h.source.with(|s| {
        s.pulls.insert("acme/web".into(), vec![pr(2)]);
        s.hidden.push(pr(1));
    });
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(numbers(&h.store, "web"), [1, 2]);
    assert_eq!(h.source.calls("get acme/web 1"), 1);
    // Closed for real: GitHub says so, and the preview goes.
    h.source.with(|s| s.hidden.clear());
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(numbers(&h.store, "web"), [2]);
    // No longer listed before: not asked again.
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(h.source.calls("get acme/web 1"), 2);
}

#[tokio::test]
async fn lookups_by_sha_are_read_once() {
    let h = harness();
    h.syncer.refresh_all().await.expect("sync");
    h.syncer.refresh_all().await.expect("sync again");
    assert_eq!(h.source.calls("list acme/web"), 2);
    assert_eq!(h.source.calls(&format!("file acme/web {}", sha(1))), 1);
    assert_eq!(h.source.calls(&format!("object acme/api {}", sha(42))), 1);
    // A push: only the new SHA is read.
    let mut pushed = pr(1);
    pushed.head_sha = sha(1001);
    h.source.with(|s| {
        s.pulls.insert("acme/web".into(), vec![pushed, pr(2)]);
    });
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(h.source.calls("file acme/web"), 3);
}

#[tokio::test]
async fn a_failed_file_read_commits_nothing() {
    let h = harness();
    h.syncer.refresh_all().await.expect("sync");
    let mut pushed = pr(2);
    pushed.head_sha = sha(2002);
    h.source.with(|s| {
        s.pulls.insert("acme/web".into(), vec![pr(1), pushed]);
        s.failing_files = true;
    });
    assert!(h.syncer.refresh(&repo("acme/web")).await.is_err());
    let snapshot = h.store.load();
    let revisions: Vec<&str> = snapshot
        .plan()
        .previews
        .iter()
        .filter(|p| p.service.as_str() == "web")
        .map(|p| p.revision.as_str())
        .collect();
    assert_eq!(revisions, [sha(1), sha(2)]);
}

#[tokio::test]
async fn an_invalid_config_push_keeps_the_last_valid_config() {
    let h = harness();
    h.source.with(|s| {
        s.files.insert(sha(1), "spot: false\n".into());
    });
    h.syncer.refresh_all().await.expect("sync");
    let mut pushed = pr(1);
    pushed.head_sha = sha(1001);
    h.source.with(|s| {
        s.pulls.insert("acme/web".into(), vec![pushed, pr(2)]);
        s.files.insert(sha(1001), "spot: nope\n".into());
    });
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    let snapshot = h.store.load();
    let preview = &snapshot.plan().previews[0];
    assert_eq!(preview.revision, sha(1001));
    assert_eq!(preview.config.source, crate::plan::ConfigSource::LastValid);
    assert_eq!(preview.capacity, crate::plan::CapacityType::OnDemand);
}

#[tokio::test]
async fn one_unreadable_commit_does_not_freeze_its_repo() {
    let h = harness();
    h.syncer.refresh_all().await.expect("sync");
    let mut pushed = pr(1);
    pushed.head_sha = sha(1001);
    h.source.with(|s| {
        // PR 1 is pushed to a commit that cannot be read, PR 2 closes, PR 3 opens but its
        // commit cannot be read either.
        let mut new = pr(3);
        new.head_sha = sha(3003);
        s.pulls.insert("acme/web".into(), vec![pushed, new]);
        s.failing_shas = vec![sha(1001), sha(3003)];
    });
    assert!(
        h.syncer.refresh(&repo("acme/web")).await.is_err(),
        "still reported"
    );
    let snapshot = h.store.load();
    let web: Vec<(u64, &str)> = snapshot
        .plan()
        .previews
        .iter()
        .filter(|p| p.service.as_str() == "web")
        .map(|p| (p.pr.number, p.revision.as_str()))
        .collect();
    assert_eq!(
        web,
        [(1, sha(1).as_str())],
        "PR 1 keeps its revision, PR 2 is gone"
    );
    let pending: Vec<_> = snapshot
        .plan()
        .excluded
        .iter()
        .filter(|e| e.reason == crate::plan::ExclusionReason::Pending)
        .map(|e| e.number)
        .collect();
    assert_eq!(pending, [3]);
    // Once readable, both move on.
    h.source.with(|s| s.failing_shas.clear());
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    let snapshot = h.store.load();
    let revisions: Vec<&str> = snapshot
        .plan()
        .previews
        .iter()
        .filter(|p| p.service.as_str() == "web")
        .map(|p| p.revision.as_str())
        .collect();
    assert_eq!(revisions, [sha(1001), sha(3003)]);
}

#[tokio::test]
async fn a_pr_turned_draft_leaves_and_comes_back_when_ready() {
    let h = harness();
    h.syncer.refresh_all().await.expect("sync");
    let mut draft = pr(2);
    draft.draft = true;
    h.source.with(|s| {
        s.pulls.insert("acme/web".into(), vec![pr(1), draft]);
    });
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(numbers(&h.store, "web"), [1]);
    h.source.with(|s| {
        s.pulls.insert("acme/web".into(), vec![pr(1), pr(2)]);
    });
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(numbers(&h.store, "web"), [1, 2]);
}

#[tokio::test]
async fn concurrent_refreshes_of_a_repo_do_not_interleave() {
    let h = harness();
    let web = repo("acme/web");
    let (a, b) = tokio::join!(h.syncer.refresh(&web), h.syncer.refresh(&web));
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(numbers(&h.store, "web"), [1, 2]);
    assert_eq!(
        h.source.calls(&format!("file acme/web {}", sha(1))),
        1,
        "the second reuses the first's reads"
    );
}

#[test]
fn backoff_doubles_to_a_cap_and_honours_retry_after() {
    let cases = [
        (1, None, 5),
        (2, None, 10),
        (3, None, 20),
        (10, None, 300),
        (40, None, 300),
        (1, Some(60), 60),
        (3, Some(1), 20),
        (1, Some(86_400), 3600),
    ];
    for (failures, retry_after, expected) in cases {
        assert_eq!(
            BACKOFF.delay(failures, retry_after.map(Duration::from_secs)),
            Duration::from_secs(expected),
            "{failures} {retry_after:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_loop_backs_off_while_failing_and_recovers() {
    let h = harness();
    h.source.with(|s| s.failing_repos.push("acme/web".into()));
    let syncer = Arc::new(h.syncer);
    assert!(!syncer.first_round_done());
    let cancel = CancellationToken::new();
    let running = tokio::spawn(Arc::clone(&syncer).run(cancel.clone()));
    // Tries at 0 s, then after 5, 10 and 20 s of backoff: 0, 5, 15, 35.
    tokio::time::sleep(Duration::from_secs(40)).await;
    assert_eq!(h.source.calls("list acme/web"), 4);
    assert_eq!(
        h.source.calls("list acme/api"),
        1,
        "healthy repos keep their own pace"
    );
    assert!(
        syncer.first_round_done(),
        "ready although web failed: it answers 503 alone"
    );
    assert!(
        h.store.load().answer(&Query::All).is_err(),
        "web never synced: no answer"
    );
    // GitHub recovers: the next try (at 75 s) succeeds, then the normal interval applies.
    h.source.with(|s| s.failing_repos.clear());
    tokio::time::sleep(Duration::from_secs(40)).await;
    assert_eq!(h.source.calls("list acme/web"), 5);
    assert!(h.store.load().answer(&Query::All).is_ok());
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(h.source.calls("list acme/web"), 6);
    cancel.cancel();
    running.await.expect("loop ends on cancel");
}

#[tokio::test(start_paused = true)]
async fn an_interval_override_sets_the_poll_pace() {
    let h = harness();
    let syncer = Arc::new(h.syncer.with_interval(Duration::from_secs(600)));
    let cancel = CancellationToken::new();
    let running = tokio::spawn(Arc::clone(&syncer).run(cancel.clone()));
    tokio::time::sleep(Duration::from_secs(599)).await;
    assert_eq!(h.source.calls("list acme/web"), 1, "not the fleet's 60 s");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(h.source.calls("list acme/web"), 2);
    cancel.cancel();
    running.await.expect("loop ends on cancel");
}
