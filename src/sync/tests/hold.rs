//! The hold rule across a restart: each test's syncer is a process that just started, knowing
//! the previews only from the Applications (or not at all).

use kube::runtime::watcher::Event;

use super::*;
use crate::argocd::{Application, ApplicationIndex};
use crate::plan::HoldReason;
use crate::snapshot::AnswerError;
use crate::testing::key;

/// An index that listed these previews' Applications: `(service, PR)`.
fn applications(previews: &[(&str, u64)]) -> Arc<ApplicationIndex> {
    let index = Arc::new(ApplicationIndex::default());
    list(&index, previews);
    index
}

/// A (re)list of these previews' Applications into `index`.
fn list(index: &ApplicationIndex, previews: &[(&str, u64)]) {
    index.apply(Event::Init);
    for (service, number) in previews {
        let app: Application = serde_json::from_value(serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {
                "name": format!("preview-{service}-pr-{number}"),
                "namespace": "argocd",
                "labels": {
                    "preview-tower.io/service": service,
                    "preview-tower.io/pr": number.to_string(),
                },
            },
            "spec": {"project": "previews"},
        }))
        .expect("an Application");
        index.apply(Event::InitApply(app));
    }
    index.apply(Event::InitDone);
}

fn restarted(index: Option<Arc<ApplicationIndex>>) -> Harness {
    let mut h = harness();
    if let Some(index) = index {
        h.syncer = h.syncer.with_applications(index);
    }
    h
}

fn held(h: &Harness, service: &str) -> Vec<(u64, HoldReason)> {
    h.store
        .load()
        .plan()
        .held
        .iter()
        .filter(|held| held.service.as_str() == service)
        .map(|held| (held.number, held.reason.clone()))
        .collect()
}

fn web(h: &Harness) -> Result<Vec<u64>, AnswerError> {
    let body = h.store.load().answer(&Query::Service("web".into()))?;
    let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
    Ok(value["output"]["parameters"]
        .as_array()
        .expect("sets")
        .iter()
        .map(|set| set["number"].as_str().expect("number").parse().expect("n"))
        .collect())
}

#[tokio::test]
async fn after_a_restart_a_preview_whose_files_fail_holds_its_service_and_a_new_pr_waits() {
    let h = restarted(Some(applications(&[("web", 1), ("web", 2), ("api", 42)])));
    h.source.with(|s| {
        let mut new = pr(5);
        new.head_sha = sha(5005);
        s.pulls.insert("acme/web".into(), vec![pr(1), pr(2), new]);
        s.failing_shas = vec![sha(2), sha(5005)];
    });
    assert!(h.syncer.refresh_all().await.is_err());
    assert_eq!(held(&h, "web"), [(2, HoldReason::Files)]);
    let Err(AnswerError::Held { held: message, .. }) = web(&h) else {
        panic!("web answered while PR 2 is held");
    };
    assert!(message.contains("web PR 2 ("), "{message}");
    assert!(
        h.store.load().answer(&Query::Service("api".into())).is_ok(),
        "api is read"
    );
    // PR 2 becomes readable; PR 5 (no Application) still is not, and only waits.
    h.source.with(|s| s.failing_shas = vec![sha(5005)]);
    assert!(h.syncer.refresh(&repo("acme/web")).await.is_err());
    assert_eq!(web(&h).expect("answered"), [1, 2]);
}

#[tokio::test]
async fn an_application_of_a_pr_missing_from_the_listing_leaves_once_github_says_it_closed() {
    // PR 3 closed while the service was down: only its Application remembers it.
    let h = restarted(Some(applications(&[("web", 1), ("web", 2), ("web", 3)])));
    h.syncer.refresh_all().await.expect("sync");
    assert_eq!(h.source.calls("get acme/web 3"), 1);
    assert_eq!(web(&h).expect("answered"), [1, 2]);
    // Argo CD is deleting it meanwhile: GitHub is not asked again.
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(h.source.calls("get acme/web 3"), 1);
}

#[tokio::test]
async fn a_pr_missing_from_the_listing_that_github_cannot_tell_about_is_held() {
    let h = restarted(Some(applications(&[("web", 1), ("web", 2), ("web", 3)])));
    h.source.with(|s| s.failing_gets = vec![3]);
    assert!(h.syncer.refresh_all().await.is_err(), "reported");
    assert_eq!(held(&h, "web"), [(3, HoldReason::Unlisted)]);
    assert!(web(&h).is_err());
    assert!(h.store.load().answer(&Query::Service("api".into())).is_ok());
    h.source.with(|s| s.failing_gets.clear());
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(web(&h).expect("answered"), [1, 2]);
}

#[tokio::test]
async fn without_the_applications_every_labelled_pr_counts_until_each_was_read_once() {
    let h = restarted(None);
    h.source.with(|s| s.failing_shas = vec![sha(2)]);
    assert!(h.syncer.refresh_all().await.is_err());
    assert_eq!(
        held(&h, "web"),
        [(2, HoldReason::Files)],
        "PR 2 may have a preview"
    );
    h.source.with(|s| s.failing_shas.clear());
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(web(&h).expect("answered"), [1, 2]);
    // Resolved once: a PR labelled since, unreadable, has no preview this process knows of.
    h.source.with(|s| {
        let mut new = pr(7);
        new.head_sha = sha(7007);
        s.pulls.insert("acme/web".into(), vec![pr(1), pr(2), new]);
        s.failing_shas = vec![sha(7007)];
    });
    assert!(h.syncer.refresh(&repo("acme/web")).await.is_err());
    assert_eq!(web(&h).expect("answered"), [1, 2]);
    // A served preview whose new commit cannot be read keeps its last good revision.
    let mut pushed = pr(2);
    pushed.head_sha = sha(2002);
    h.source.with(|s| {
        s.pulls.insert("acme/web".into(), vec![pr(1), pushed]);
        s.failing_shas = vec![sha(2002)];
    });
    assert!(h.syncer.refresh(&repo("acme/web")).await.is_err());
    assert_eq!(web(&h).expect("answered"), [1, 2]);
}

#[tokio::test]
async fn applications_read_after_the_first_refresh_are_held_until_asked_about() {
    let index = Arc::new(ApplicationIndex::default());
    let h = restarted(Some(Arc::clone(&index)));
    h.syncer.refresh_all().await.expect("sync");
    assert_eq!(web(&h).expect("conservative, then resolved"), [1, 2]);
    // The list arrives: PR 9 has an Application and is not in the listing.
    list(&index, &[("web", 1), ("web", 9)]);
    h.syncer.replan();
    assert_eq!(held(&h, "web"), [(9, HoldReason::Unlisted)]);
    // Asked about by the next refresh: closed.
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(h.source.calls("get acme/web 9"), 1);
    assert_eq!(web(&h).expect("answered"), [1, 2]);
}

#[tokio::test]
async fn a_held_service_is_counted_and_its_first_answer_noted() {
    let h = restarted(Some(applications(&[("web", 1), ("web", 2)])));
    h.source.with(|s| s.failing_shas = vec![sha(1)]);
    assert!(h.syncer.refresh_all().await.is_err());
    let label = crate::metrics::ServiceLabel {
        service: "web".into(),
    };
    let metrics = &h.syncer.metrics;
    assert_eq!(metrics.sync.held_previews.get_or_create(&label).get(), 1);
    assert!(metrics.sync.held_since.get_or_create(&label).get() > 0);
    assert!(
        !h.syncer
            .answered
            .lock()
            .expect("lock")
            .contains(&name("web"))
    );
    h.source.with(|s| s.failing_shas.clear());
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(metrics.sync.held_previews.get_or_create(&label).get(), 0);
    assert_eq!(metrics.sync.held_since.get_or_create(&label).get(), 0);
    assert!(
        h.syncer
            .answered
            .lock()
            .expect("lock")
            .contains(&name("web"))
    );
}

fn name(s: &str) -> crate::naming::ServiceName {
    crate::testing::name(s)
}

#[tokio::test]
async fn a_pr_turned_ready_with_an_unreadable_push_is_not_judged_by_its_old_draft_record() {
    // Argo CD has PR 1's preview; while web was held (PR 2 unreadable), PR 1 was a draft. It is
    // ready again with a push GitHub cannot read yet: the old draft record must not come back.
    let h = restarted(Some(applications(&[("web", 1), ("web", 2)])));
    let mut draft = pr(1);
    draft.draft = true;
    h.source.with(|s| {
        s.pulls.insert("acme/web".into(), vec![draft, pr(2)]);
        s.failing_shas = vec![sha(2)];
    });
    assert!(h.syncer.refresh_all().await.is_err());
    assert_eq!(held(&h, "web"), [(2, HoldReason::Files)]);
    let mut ready = pr(1);
    ready.head_sha = sha(1001);
    h.source.with(|s| {
        s.pulls.insert("acme/web".into(), vec![ready, pr(2)]);
        s.failing_shas = vec![sha(2), sha(1001)];
    });
    assert!(h.syncer.refresh(&repo("acme/web")).await.is_err());
    assert_eq!(
        held(&h, "web"),
        [(1, HoldReason::Files), (2, HoldReason::Files)],
        "PR 1 is held, not excluded as the draft it was"
    );
}

#[tokio::test]
async fn a_pr_github_has_never_heard_of_leaves_after_404s_in_a_row_over_five_minutes() {
    // A stray Application (hand-made, or of a service that moved to another repo).
    let mut h = restarted(Some(applications(&[("web", 1), ("web", 2), ("web", 77)])));
    let now = Arc::new(std::sync::Mutex::new(crate::testing::now()));
    let clock = Arc::clone(&now);
    h.syncer = h
        .syncer
        .with_clock(Arc::new(move || *clock.lock().expect("clock")));
    let later = |minutes: i64| {
        *now.lock().expect("clock") += chrono::Duration::minutes(minutes);
    };
    h.source.with(|s| s.unknown_pulls = vec![77]);
    assert!(h.syncer.refresh_all().await.is_err());
    assert_eq!(held(&h, "web"), [(77, HoldReason::Unlisted)]);
    // Three 404s within seconds (a lagging replica) are not enough.
    for _ in 0..3 {
        assert!(h.syncer.refresh(&repo("acme/web")).await.is_err());
    }
    assert_eq!(held(&h, "web"), [(77, HoldReason::Unlisted)]);
    // Another answer between them starts the count again.
    h.source.with(|s| s.failing_gets = vec![77]);
    later(6);
    assert!(h.syncer.refresh(&repo("acme/web")).await.is_err());
    h.source.with(|s| s.failing_gets.clear());
    assert!(h.syncer.refresh(&repo("acme/web")).await.is_err());
    assert_eq!(held(&h, "web"), [(77, HoldReason::Unlisted)]);
    later(2);
    assert!(h.syncer.refresh(&repo("acme/web")).await.is_err());
    later(4);
    assert!(
        h.syncer.refresh(&repo("acme/web")).await.is_ok(),
        "the third 404 in a row, six minutes after the first, is evidence"
    );
    assert_eq!(web(&h).expect("answered"), [1, 2]);
    let asked = h.source.calls("get acme/web 77");
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(
        h.source.calls("get acme/web 77"),
        asked,
        "not asked again while its Application goes"
    );
}

#[test]
fn another_repos_commit_never_forgets_what_a_refresh_just_confirmed_closed() {
    // web's refresh confirmed PR 3 closed; its old listing (still committed) shows PR 3. The
    // api commit that lands meanwhile reads the closed PRs, and must not drop that one.
    let fleet = crate::testing::fleet();
    let mut state = super::super::state::SyncState::default();
    state.keep_listing(&repo("acme/web"), vec![pr(1).into(), pr(3).into()]);
    state.keep_listing(&repo("acme/api"), vec![pr(42).into()]);
    state.closed.insert((repo("acme/web"), 3));
    let live: std::collections::HashSet<_> = [key("web", 3), key("api", 42)].into();
    assert!(state.unlisted(&fleet, &live).is_empty());
    state.forget_closed(&fleet, &repo("acme/api"), &live);
    assert!(state.closed.contains(&(repo("acme/web"), 3)));
    // web commits its new listing, without PR 3: still closed, not held.
    state.keep_listing(&repo("acme/web"), vec![pr(1).into()]);
    state.forget_closed(&fleet, &repo("acme/web"), &live);
    assert!(state.unlisted(&fleet, &live).is_empty());
    // Reopened: listed again, forgotten as closed.
    state.keep_listing(&repo("acme/web"), vec![pr(1).into(), pr(3).into()]);
    state.forget_closed(&fleet, &repo("acme/web"), &live);
    assert!(!state.closed.contains(&(repo("acme/web"), 3)));
}
