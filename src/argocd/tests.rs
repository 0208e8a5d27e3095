use serde_json::json;

use super::*;

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
    assert_eq!(o.sync, Sync::Synced);
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
    assert_eq!(observe(&no_spec).expect("named").sync, Sync::Unknown);
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
