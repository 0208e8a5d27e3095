//! The fake Kubernetes API server answers the way kube-rs expects: these tests drive it
//! through the real `kube::Api` and `kube::runtime::watcher`, and read the wire where the
//! client hides it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "fake_kube/watching.rs"]
mod watching;
#[path = "fake_kube/wire.rs"]
mod wire;
#[path = "fake_kube/writes.rs"]
mod writes;

use std::time::Duration;

use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::{Api, ResourceExt};

use support::fake_kube::{FakeKube, RequestRecord, application, status};

const PREVIEW: (&str, &str) = ("preview-tower.io/preview", "true");
const SELECT_PREVIEWS: &str = "preview-tower.io/preview=true";

fn app_resource() -> ApiResource {
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application");
    ApiResource::from_gvk_with_plural(&gvk, "applications")
}

fn apps(kube: &FakeKube) -> Api<DynamicObject> {
    Api::namespaced_with(kube.client(), "argocd", &app_resource())
}

/// Polls `check` until it holds, for up to 10 s.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The list requests for Applications (not watches, not gets).
fn lists(kube: &FakeKube) -> Vec<RequestRecord> {
    kube.requests()
        .into_iter()
        .filter(|r| {
            let path = r.path.split('?').next().unwrap_or_default();
            r.method == "GET" && !r.is_watch() && path.ends_with("/applications")
        })
        .collect()
}

fn watches(kube: &FakeKube) -> Vec<RequestRecord> {
    kube.requests()
        .into_iter()
        .filter(RequestRecord::is_watch)
        .collect()
}

/// The names a list with `params` answers.
async fn names(api: &Api<DynamicObject>, params: &ListParams) -> Vec<String> {
    let list = api.list(params).await.unwrap();
    list.items.iter().map(ResourceExt::name_any).collect()
}

#[tokio::test]
async fn lists_select_by_label_and_field() {
    let kube = FakeKube::start().await;
    let service = |s| ("preview-tower.io/service", s);
    kube.put_application(application("web-1", &[PREVIEW, service("web")]));
    kube.put_application(application("api-1", &[PREVIEW, service("api")]));
    kube.put_application(application("infra", &[]));
    let api = apps(&kube);

    let all = api.list(&ListParams::default()).await.unwrap();
    let rv = kube.resource_version().to_string();
    assert_eq!(all.metadata.resource_version, Some(rv));
    let cases: [(&str, &[&str]); 6] = [
        ("", &["api-1", "infra", "web-1"]),
        (SELECT_PREVIEWS, &["api-1", "web-1"]),
        (
            "preview-tower.io/preview,preview-tower.io/service!=api",
            &["web-1"],
        ),
        ("preview-tower.io/service!=api", &["infra", "web-1"]),
        ("!preview-tower.io/preview", &["infra"]),
        ("preview-tower.io/service in (api, db)", &["api-1"]),
    ];
    for (selector, expected) in cases {
        let params = ListParams::default().labels(selector);
        assert_eq!(names(&api, &params).await, expected, "{selector}");
    }
    let params = ListParams::default().fields("metadata.name=infra");
    assert_eq!(names(&api, &params).await, ["infra"]);
}

#[tokio::test]
async fn get_answers_the_object_or_a_404_status() {
    let kube = FakeKube::start().await;
    kube.put_application(application("web-1", &[PREVIEW]));
    let api = apps(&kube);

    let web = api.get("web-1").await.unwrap();
    assert_eq!(web.metadata.generation, Some(1));
    assert!(web.metadata.uid.is_some() && web.metadata.creation_timestamp.is_some());
    match api.get("gone").await.unwrap_err() {
        kube::Error::Api(status) => {
            assert_eq!((status.code, status.reason.as_str()), (404, "NotFound"));
            let message = "applications.argoproj.io \"gone\" not found";
            assert_eq!(status.message, message);
        }
        other => panic!("expected a 404 Status, got {other:?}"),
    }
    assert_eq!(api.get_opt("gone").await.unwrap(), None);
}

#[tokio::test]
async fn pages_come_from_one_snapshot_until_compaction() {
    let kube = FakeKube::start().await;
    for n in 1..=5 {
        kube.put_application(application(&format!("web-{n}"), &[PREVIEW]));
    }
    let api = apps(&kube);
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.metadata.remaining_item_count, Some(3));
    let token = first.metadata.continue_.clone().unwrap();
    kube.patch_status("web-3", status("Synced", "abc123", "Healthy", None, None));

    let second = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    let names: Vec<String> = second.items.iter().map(ResourceExt::name_any).collect();
    assert_eq!(names, ["web-3", "web-4"]);
    assert_eq!(
        second.metadata.resource_version,
        first.metadata.resource_version
    );
    assert!(
        second.items[0].data.get("status").is_none(),
        "served from the first page's snapshot"
    );

    kube.compact();
    let next = second.metadata.continue_.clone().unwrap();
    match api
        .list(&ListParams::default().limit(2).continue_token(&next))
        .await
        .unwrap_err()
    {
        kube::Error::Api(status) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"))
        }
        other => panic!("expected 410 Expired, got {other:?}"),
    }
}

#[tokio::test]
#[should_panic(expected = "the test stores an invalid Application")]
async fn a_hook_given_an_invalid_application_panics_at_once() {
    let kube = FakeKube::start().await;
    let mut app = application("web-1", &[PREVIEW]);
    app["spec"].as_object_mut().unwrap().remove("destination");
    kube.put_application(app);
}

#[tokio::test]
#[should_panic(expected = "fake Kubernetes received non-conformant requests")]
async fn an_invalid_object_from_a_client_fails_the_test_when_the_fake_drops() {
    let kube = FakeKube::start().await;
    let mut app = application("web-1", &[PREVIEW]);
    app["spec"]["project"] = serde_json::json!(7);
    let app: DynamicObject = serde_json::from_value(app).unwrap();
    let error = apps(&kube)
        .create(&kube::api::PostParams::default(), &app)
        .await
        .unwrap_err();
    assert!(matches!(error, kube::Error::Api(status) if status.code == 422));
}
