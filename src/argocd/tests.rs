use serde_json::json;

use super::*;
use crate::lifecycle::{AppSync, Health, Phase};

fn app(value: serde_json::Value) -> Application {
    serde_json::from_value(value).expect("an Application reads")
}

fn named(name: &str, status: serde_json::Value) -> Application {
    app(json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {"project": "previews"},
        "status": status,
    }))
}

#[test]
fn the_status_subset_reads_sync_health_operation_and_urls() {
    let a = named(
        "preview-web-pr-1",
        json!({
            "sync": {"status": "Synced", "revision": "abc"},
            "health": {"status": "Degraded", "message": "CrashLoopBackOff"},
            "operationState": {"phase": "Succeeded", "message": "successfully synced"},
            "summary": {"externalURLs": ["https://web-pr-1.example.com"]},
        }),
    );
    let o = observe(&a).expect("named");
    assert_eq!(o.sync, AppSync::Synced);
    assert_eq!(o.revision.as_deref(), Some("abc"));
    assert_eq!(o.health, Health::Degraded);
    assert_eq!(o.phase, Some(Phase::Succeeded));
    assert_eq!(o.message.as_deref(), Some("CrashLoopBackOff"));
    assert_eq!(o.external_urls, ["https://web-pr-1.example.com"]);
    assert!(!o.deleting);
}

#[test]
fn a_failed_sync_reports_the_operation_message_and_multi_source_revisions_read() {
    let a = named(
        "x",
        json!({
            "sync": {"status": "OutOfSync", "revisions": ["r1", "r2"]},
            "health": {"status": "Healthy", "message": "fine"},
            "operationState": {"phase": "Failed", "message": "one or more objects failed"},
        }),
    );
    let o = observe(&a).expect("named");
    assert_eq!(o.revision.as_deref(), Some("r1"));
    assert_eq!(o.message.as_deref(), Some("one or more objects failed"));
}

#[test]
fn odd_shapes_read_as_unknown_instead_of_failing() {
    for status in [
        json!(42),
        json!("weird"),
        json!({"sync": "Synced", "health": {"status": 42}, "operationState": []}),
        json!({"summary": {"externalURLs": "not a list"}}),
    ] {
        let o = observe(&named("odd", status.clone())).expect("named");
        assert_eq!(o.health, Health::Unknown, "{status}");
        assert_eq!(o.phase, None, "{status}");
        assert!(o.external_urls.is_empty(), "{status}");
    }
    let no_spec = app(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "s"}, "spec": "not an object",
    }));
    assert_eq!(observe(&no_spec).expect("named").sync, AppSync::Unknown);
}

#[test]
fn the_index_is_unknown_until_a_full_list_and_a_relist_replaces_it_whole() {
    let index = ApplicationIndex::default();
    assert!(index.observed().is_none(), "nothing is known before a list");
    index.apply(Event::Init);
    index.apply(Event::InitApply(named("a", json!({}))));
    index.apply(Event::InitApply(named("b", json!({}))));
    assert!(index.observed().is_none(), "a half list is not the truth");
    index.apply(Event::InitDone);
    let names = |i: &ApplicationIndex| -> Vec<String> {
        i.observed()
            .expect("listed")
            .into_iter()
            .map(|o| o.name)
            .collect()
    };
    assert_eq!(names(&index), ["a", "b"]);
    index.apply(Event::Apply(named("c", json!({}))));
    index.apply(Event::Delete(named("a", json!({}))));
    assert_eq!(names(&index), ["b", "c"]);
    // The watch expired and relisted: "b" was deleted meanwhile.
    index.apply(Event::Init);
    index.apply(Event::InitApply(named("c", json!({}))));
    assert_eq!(
        names(&index),
        ["b", "c"],
        "the old view stands during a relist"
    );
    index.apply(Event::InitDone);
    assert_eq!(names(&index), ["c"]);
}

fn labelled(name: &str, labels: serde_json::Value, revision: &str) -> Application {
    app(json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd", "labels": labels},
        "spec": {"project": "previews"},
        "status": {"sync": {"status": "Synced", "revision": revision}},
    }))
}

fn owned(name: &str, labels: serde_json::Value, owner: &str) -> Application {
    app(json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name, "namespace": "argocd", "labels": labels,
            "ownerReferences": [{
                "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "name": owner,
                "uid": "2f0e6a52-6a0f-4a7e-9f55-2d4c3c1f0b11", "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": {"project": "previews"},
    }))
}

#[test]
fn applications_are_known_as_previews_by_their_labels_or_else_their_name() {
    let fleet = crate::testing::fleet();
    let sha = "a".repeat(40);
    let index = ApplicationIndex::default();
    assert!(index.previews(&fleet).is_none(), "unknown before a list");
    index.apply(Event::Init);
    for app in [
        // Labelled as our template does.
        labelled(
            "preview-web-pr-1",
            json!({"preview-tower.io/preview": "true", "preview-tower.io/service": "web", "preview-tower.io/pr": "1"}),
            &sha,
        ),
        // No labels (an older template): its name says it.
        labelled("preview-api-pr-42", json!({}), "HEAD"),
        // Generated by the fleet's ApplicationSet under another name: the labels say.
        owned(
            "renamed-by-a-template",
            json!({"preview-tower.io/service": "billing", "preview-tower.io/pr": "8"}),
            "previews",
        ),
        // Another preview-tower's in the same namespace (another ApplicationSet, a prefix that
        // starts like ours): not ours.
        owned(
            "preview-eu-web-pr-5",
            json!({"preview-tower.io/service": "web", "preview-tower.io/pr": "5"}),
            "previews-eu",
        ),
        // Labels that name no preview: the name still does.
        labelled(
            "preview-web-pr-9",
            json!({"preview-tower.io/service": "web", "preview-tower.io/pr": "nine"}),
            &sha,
        ),
        // Not of this fleet: an unknown service, another prefix, a number that is not one.
        labelled("preview-shop-pr-3", json!({}), &sha),
        labelled("staging-web-pr-3", json!({}), &sha),
        labelled("preview-web-pr-007", json!({}), &sha),
    ] {
        index.apply(Event::InitApply(app));
    }
    index.apply(Event::InitDone);
    let previews = index.previews(&fleet).expect("listed");
    let keys: Vec<(String, u64)> = previews
        .keys()
        .map(|key| (key.service.to_string(), key.number))
        .collect();
    assert_eq!(
        keys,
        [
            ("api".to_owned(), 42),
            ("billing".to_owned(), 8),
            ("web".to_owned(), 1),
            ("web".to_owned(), 9),
        ]
    );
    let web = crate::testing::key("web", 1);
    assert_eq!(previews[&web], Some(sha.clone()), "a full SHA is kept");
    let api = crate::testing::key("api", 42);
    assert_eq!(previews[&api], None, "`HEAD` is not a commit");
}

#[test]
fn an_application_being_deleted_holds_nothing() {
    let fleet = crate::testing::fleet();
    let index = ApplicationIndex::default();
    index.apply(Event::Init);
    let deleting = app(json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": "preview-web-pr-1",
            "namespace": "argocd",
            "deletionTimestamp": "2026-12-06T21:00:00Z",
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {"project": "previews"},
    }));
    index.apply(Event::InitApply(deleting));
    index.apply(Event::InitDone);
    assert_eq!(index.previews(&fleet), Some(PreviewRevisions::new()));
}

#[test]
fn the_watch_keeps_what_may_be_a_preview_and_drops_the_rest_of_the_namespace() {
    let preview =
        |name: &str, labels: serde_json::Value| may_be_preview(&labelled(name, labels, "x"));
    assert!(preview("preview-web-pr-1", json!({})));
    assert!(preview(
        "anything",
        json!({"preview-tower.io/preview": "true"})
    ));
    assert!(preview("anything", json!({"preview-tower.io/pr": "4"})));
    assert!(!preview("staging-web", json!({})));
    assert!(!preview("web-pr-x", json!({"team": "web"})));
}
