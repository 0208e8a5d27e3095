//! Writes through `kube::Api`: leases with optimistic concurrency, ApplicationSet patches
//! recorded and validated, deletion held by finalizers.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ObjectMeta, Patch, PatchParams,
    PostParams,
};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::support::fake_kube::{FakeKube, application, applicationset};

const REFRESH: &str = "argocd.argoproj.io/application-set-refresh";

fn lease(holder: &str) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some("preview-tower".to_owned()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.to_owned()),
            lease_duration_seconds: Some(15),
            ..LeaseSpec::default()
        }),
    }
}

fn holder(lease: &Lease) -> Option<&str> {
    lease.spec.as_ref()?.holder_identity.as_deref()
}

fn api_status(error: kube::Error) -> (u16, String) {
    match error {
        kube::Error::Api(status) => (status.code, status.reason),
        other => panic!("expected a Status, got {other:?}"),
    }
}

#[tokio::test]
async fn a_lease_replaced_with_a_stale_resource_version_conflicts() {
    let kube = FakeKube::start().await;
    let leases: Api<Lease> = Api::namespaced(kube.client(), "argocd");
    let pp = PostParams::default();

    let created = leases.create(&pp, &lease("pod-a")).await.unwrap();
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    assert_eq!(created.metadata.namespace.as_deref(), Some("argocd"));
    let error = leases.create(&pp, &lease("pod-b")).await.unwrap_err();
    assert_eq!(api_status(error), (409, "AlreadyExists".to_owned()));

    let mut renewed = created.clone();
    renewed.spec.as_mut().unwrap().lease_transitions = Some(1);
    let renewed = leases
        .replace("preview-tower", &pp, &renewed)
        .await
        .unwrap();
    assert_ne!(renewed.resource_version(), created.resource_version());

    let mut stolen = created.clone();
    stolen.spec.as_mut().unwrap().holder_identity = Some("pod-b".to_owned());
    let error = leases
        .replace("preview-tower", &pp, &stolen)
        .await
        .unwrap_err();
    assert_eq!(api_status(error), (409, "Conflict".to_owned()));
    assert_eq!(
        holder(&kube.lease("argocd", "preview-tower").unwrap()),
        Some("pod-a")
    );

    let mut taken = renewed.clone();
    taken.spec.as_mut().unwrap().holder_identity = Some("pod-b".to_owned());
    let taken = leases.replace("preview-tower", &pp, &taken).await.unwrap();
    assert_eq!(holder(&taken), Some("pod-b"));
    assert_eq!(taken.metadata.uid, created.metadata.uid);
}

#[tokio::test]
async fn leases_take_merge_and_apply_patches_and_deletes() {
    let kube = FakeKube::start().await;
    let leases: Api<Lease> = Api::namespaced(kube.client(), "argocd");
    let apply = PatchParams::apply("preview-tower");
    let applied = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "preview-tower"},
        "spec": {"holderIdentity": "pod-a", "leaseDurationSeconds": 15},
    });
    let created = leases
        .patch("preview-tower", &apply, &Patch::Apply(&applied))
        .await
        .unwrap();
    assert_eq!(holder(&created), Some("pod-a"));

    let merge = Patch::Merge(json!({"spec": {"holderIdentity": "pod-b"}}));
    let merged = leases
        .patch("preview-tower", &PatchParams::default(), &merge)
        .await
        .unwrap();
    assert_eq!(holder(&merged), Some("pod-b"));
    let stale = Patch::Merge(json!({
        "metadata": {"resourceVersion": created.resource_version()},
        "spec": {"holderIdentity": "pod-c"},
    }));
    let error = leases
        .patch("preview-tower", &PatchParams::default(), &stale)
        .await
        .unwrap_err();
    assert_eq!(api_status(error), (409, "Conflict".to_owned()));

    let deleted = leases
        .delete("preview-tower", &DeleteParams::default())
        .await
        .unwrap();
    assert!(deleted.is_right(), "a lease's DELETE answers a Status");
    assert_eq!(leases.get_opt("preview-tower").await.unwrap(), None);
    assert!(kube.lease("argocd", "preview-tower").is_none());
}

fn appsets(kube: &FakeKube) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "ApplicationSet");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "applicationsets");
    Api::namespaced_with(kube.client(), "argocd", &resource)
}

#[tokio::test]
async fn applicationset_merge_patches_are_recorded_and_validated() {
    let kube = FakeKube::start().await;
    kube.put_applicationset(applicationset("previews"));
    let api = appsets(&kube);
    let pp = PatchParams::default();

    let refresh = json!({"metadata": {"annotations": {REFRESH: "true"}}});
    let patched = api
        .patch("previews", &pp, &Patch::Merge(&refresh))
        .await
        .unwrap();
    assert_eq!(
        patched.annotations().get(REFRESH).map(String::as_str),
        Some("true")
    );
    assert_eq!(
        patched.metadata.generation,
        Some(1),
        "metadata alone keeps the generation"
    );

    let broken = Patch::Merge(json!({"spec": {"generators": "every pull request"}}));
    let error = api.patch("previews", &pp, &broken).await.unwrap_err();
    assert_eq!(api_status(error), (422, "Invalid".to_owned()));
    assert_eq!(
        kube.take_violations().len(),
        1,
        "the client sent an invalid object"
    );

    let patches = kube.applicationset_patches();
    let seen: Vec<(&str, u16)> = patches
        .iter()
        .map(|p| (p.content_type.as_str(), p.status))
        .collect();
    let merge = "application/merge-patch+json";
    assert_eq!(seen, [(merge, 200), (merge, 422)]);
    assert_eq!(patches[0].patch, refresh);
    let stored = kube.applicationset("previews").unwrap();
    assert_eq!(
        stored["spec"]["generators"][0]["plugin"]["configMapRef"]["name"],
        "preview-tower"
    );
}

#[tokio::test]
async fn applicationset_json_patches_apply_and_spec_changes_bump_the_generation() {
    let kube = FakeKube::start().await;
    let mut appset = applicationset("previews");
    appset["metadata"]["annotations"] = json!({REFRESH: "true"});
    kube.put_applicationset(appset);
    let api = appsets(&kube);

    let operations: json_patch::Patch = serde_json::from_value(json!([
        {"op": "remove", "path": "/metadata/annotations/argocd.argoproj.io~1application-set-refresh"},
        {"op": "replace", "path": "/spec/generators/0/plugin/requeueAfterSeconds", "value": 30},
    ]))
    .unwrap();
    let patch = Patch::Json::<()>(operations);
    let patched = api
        .patch("previews", &PatchParams::default(), &patch)
        .await
        .unwrap();
    assert!(!patched.annotations().contains_key(REFRESH));
    assert_eq!(
        patched.metadata.generation,
        Some(2),
        "a spec change is a new generation"
    );
    let record = &kube.applicationset_patches()[0];
    assert_eq!(
        (record.content_type.as_str(), record.status),
        ("application/json-patch+json", 200)
    );
    let stored = kube.applicationset("previews").unwrap();
    assert_eq!(
        stored["spec"]["generators"][0]["plugin"]["requeueAfterSeconds"],
        30
    );
}

#[tokio::test]
async fn a_deleted_application_waits_for_its_finalizer() {
    let kube = FakeKube::start().await;
    kube.put_application(application("web-1", &[]));
    let apps: Api<DynamicObject> = Api::namespaced_with(
        kube.client(),
        "argocd",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"),
            "applications",
        ),
    );
    let answer = apps
        .delete("web-1", &DeleteParams::default())
        .await
        .unwrap();
    let held = answer
        .left()
        .expect("a held Application is answered as itself");
    assert!(held.metadata.deletion_timestamp.is_some());
    assert_eq!(held.metadata.generation, Some(2));

    let release = Patch::Merge(json!({"metadata": {"finalizers": null}}));
    apps.patch("web-1", &PatchParams::default(), &release)
        .await
        .unwrap();
    assert!(apps.get_opt("web-1").await.unwrap().is_none());
    assert!(kube.application("web-1").is_none());
}
