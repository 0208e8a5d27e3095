//! The Applications watch through real kube-rs against the fake Kubernetes API: one malformed
//! Application stops nothing, a cut connection resumes, an expired watch relists and the index
//! drops what was deleted meanwhile.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use preview_tower::argocd::{ApplicationIndex, watch};
use preview_tower::lifecycle::{AppSync, Health};
use preview_tower::metrics::Metrics;
use support::fake_kube::{FakeKube, application, status};

const LABEL: (&str, &str) = ("preview-tower.io/preview", "true");

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn names(index: &ApplicationIndex) -> Vec<String> {
    index
        .observed()
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_follows_the_applications_through_odd_objects_cuts_and_expiry() {
    let kube = FakeKube::start().await;
    let mut good = application("preview-web-pr-1", &[LABEL]);
    good["status"] = status(
        "Synced",
        &"a".repeat(40),
        "Healthy",
        Some("Succeeded"),
        None,
    );
    kube.put_application(good);
    // Not ours: no preview label.
    kube.put_application(application("staging-web", &[]));
    // An odd one: wrong types where strings are expected.
    let mut odd = application("preview-web-pr-2", &[LABEL]);
    odd["spec"]["project"] = json!(42);
    odd["status"] = json!({"health": {"status": 42}, "sync": "Synced"});
    kube.put_malformed_application(odd);

    let index = Arc::new(ApplicationIndex::default());
    let metrics = Arc::new(Metrics::unregistered());
    let cancel = CancellationToken::new();
    let task = tokio::spawn(watch::run(
        kube.client(),
        "argocd".into(),
        Arc::clone(&index),
        Arc::clone(&metrics),
        cancel.clone(),
    ));
    eventually("the first list", || index.observed().is_some()).await;
    assert_eq!(names(&index), ["preview-web-pr-1", "preview-web-pr-2"]);
    let observed = index.observed().unwrap();
    assert_eq!(
        (observed[0].sync, observed[0].health),
        (AppSync::Synced, Health::Healthy)
    );
    assert_eq!(observed[1].health, Health::Unknown, "odd reads as unknown");

    // Live events, then a cut connection: nothing is lost. kube-rs resumes a cut watch at
    // once, on a worker thread beside this one, so the fake holds the resumption until pr-3
    // is deleted: the deletion comes from the history, not live.
    kube.put_application(application("preview-web-pr-3", &[LABEL]));
    eventually("pr-3 added", || names(&index).len() == 3).await;
    kube.hold_watches();
    kube.drop_watches();
    kube.wait_for_held_watches(1).await;
    kube.delete_application("preview-web-pr-3");
    kube.release_watches();
    eventually("pr-3 deleted after the cut", || names(&index).len() == 2).await;
    assert_eq!(
        metrics.watch.relists.get(),
        1,
        "a resumed watch does not relist"
    );

    // Cut again; pr-1 is deleted and the history compacted before the watch resumes (held
    // meanwhile): it gets 410, relists, and the relist drops pr-1 (no event ever says so).
    kube.wait_for_watches(1).await;
    kube.hold_watches();
    kube.drop_watches();
    kube.wait_for_held_watches(1).await;
    kube.delete_application("preview-web-pr-1");
    kube.compact();
    kube.release_watches();
    eventually("the relist dropped pr-1", || {
        names(&index) == ["preview-web-pr-2"]
    })
    .await;
    assert_eq!(
        metrics.watch.relists.get(),
        2,
        "the first list and the relist"
    );

    cancel.cancel();
    task.await.unwrap();
    kube.assert_conformant();
}
