//! The hold rule across a restart: each test's syncer is a process that just started, knowing
//! the previews only from the Applications (or not at all).

use kube::runtime::watcher::Event;

use super::*;
use crate::argocd::{Application, ApplicationIndex};
use crate::plan::HoldReason;
use crate::snapshot::AnswerError;

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
    assert_eq!(metrics.held_previews.get_or_create(&label).get(), 1);
    assert!(metrics.held_since.get_or_create(&label).get() > 0);
    assert!(
        !h.syncer
            .answered
            .lock()
            .expect("lock")
            .contains(&name("web"))
    );
    h.source.with(|s| s.failing_shas.clear());
    h.syncer.refresh(&repo("acme/web")).await.expect("refresh");
    assert_eq!(metrics.held_previews.get_or_create(&label).get(), 0);
    assert_eq!(metrics.held_since.get_or_create(&label).get(), 0);
    assert!(
        h.syncer
            .answered
            .lock()
            .expect("lock")
            .contains(&name("web"))
    );
}

fn name(s: &str) -> crate::fleet::ServiceName {
    crate::testing::name(s)
}
