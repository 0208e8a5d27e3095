//! Acceptance 1 of issue 5, end to end: "a labelled PR's parameters change within a second of
//! its webhook; the ApplicationSet is refreshed". The real `preview-tower serve` binary, in its
//! own process, with a webhook secret, the fake GitHub, and the fake Kubernetes API reached
//! through a kubeconfig (`KUBECONFIG`). It polls GitHub once an hour, so only a webhook can
//! change what it serves. A forged signature and a replayed delivery change nothing.
//!
//! No timing assertion (speed is measured in `benches/freshness_budget/reaction.rs`): generous
//! deadlines only.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::json;

use preview_tower::argocd::refresh::REFRESH_ANNOTATION;
use preview_tower::http::WEBHOOK_PATH;
use support::fake_github::{FakeGitHub, FakePull, sha1_hex};
use support::fake_kube::{ARGOCD_NAMESPACE, FakeKube, PatchRecord, applicationset};
use support::serve::{Options, Serve};
use support::webhook_payload;

const SECRET: &str = "whsec-serve-0123456789";
const REPO: &str = "acme/web";
/// Long enough for a loaded CI machine; the bench measures how long it really takes.
const DEADLINE: Duration = Duration::from_secs(20);
/// How long a delivery that must change nothing is given to change something anyway.
const QUIET: Duration = Duration::from_millis(750);

const FLEET: &str = "base_domain: preview.example.com
refresh_interval: 30s
refresh_interval_with_webhooks: 1h
services:
  - name: web
    repo: acme/web
    kind: backend
    image: registry.example.com/web
    overlay_path: deploy/preview
    staging_url: https://web.staging.example.com
";

fn start(dir: &std::path::Path, github: &FakeGitHub, kube: &FakeKube) -> Serve {
    let options = Options {
        fleet: FLEET.to_owned(),
        github_url: github.url().to_string(),
        kubeconfig: Some(kube.kubeconfig()),
        env: vec![("PREVIEW_TOWER_WEBHOOK_SECRET".into(), SECRET.into())],
        ..Options::default()
    };
    Serve::start(dir, "serve", &options)
}

/// The PR numbers of service `web`'s parameter sets, as Argo CD would get them, with the
/// head SHA of each.
async fn previews(serve: &Serve) -> Vec<(String, String)> {
    let (status, body) = serve.plugin(&json!({"service": "web"})).await;
    assert_eq!(status, 200, "{body}\n{}", serve.output());
    let sets = body["output"]["parameters"].as_array().unwrap().clone();
    sets.iter()
        .map(|set| {
            let text = |key: &str| set[key].as_str().unwrap_or_default().to_owned();
            (text("number"), text("head_sha"))
        })
        .collect()
}

/// A `pull_request` delivery about PR `number`: its body and GitHub's headers, signed with
/// `secret`.
fn delivery(
    action: &str,
    number: u64,
    id: &str,
    secret: &str,
) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let body = serde_json::to_vec(&webhook_payload::pull_request(action, REPO, number)).unwrap();
    let headers = webhook_payload::headers("pull_request", id, secret, &body);
    (headers, body)
}

fn numbers(previews: &[(String, String)]) -> Vec<&str> {
    let mut numbers: Vec<&str> = previews.iter().map(|(n, _)| n.as_str()).collect();
    numbers.sort_unstable();
    numbers
}

fn is_refresh(patch: &PatchRecord) -> bool {
    patch.name == "previews"
        && patch.namespace == ARGOCD_NAMESPACE
        && patch.status == 200
        && patch.patch["metadata"]["annotations"][REFRESH_ANNOTATION].is_string()
}

const POKES: &str = "preview_tower_freshness_pokes_total";
const UNAUTHORIZED: &str =
    r#"preview_tower_webhook_deliveries_total{event="pull_request",outcome="unauthorized"}"#;
const DUPLICATE: &str =
    r#"preview_tower_webhook_deliveries_total{event="pull_request",outcome="duplicate"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_labelled_pull_request_is_served_and_refreshed_after_its_webhook_and_forgeries_and_replays_change_nothing()
 {
    let github = FakeGitHub::start().await;
    github.add_repo(REPO);
    for number in [7, 8] {
        let pull = FakePull::new(number).head_sha(&sha1_hex(format!("head {number}").as_bytes()));
        github.open_pull(REPO, pull);
    }
    let kube = FakeKube::start().await;
    kube.put_applicationset(applicationset("previews"));
    let dir = tempfile::tempdir().unwrap();
    let mut serve = start(dir.path(), &github, &kube);
    serve.wait_ready(DEADLINE).await;
    assert!(previews(&serve).await.is_empty(), "no PR is labelled yet");
    assert!(kube.applicationset_patches().is_empty(), "nothing told yet");

    // Labelled on GitHub: the webhook, and only it, brings the preview.
    github.set_labels(REPO, 7, &["preview"]);
    let (labelled_headers, labelled_body) = delivery("labeled", 7, "delivery-7-labeled", SECRET);
    let (status, answer) = serve
        .post(WEBHOOK_PATH, &labelled_headers, &labelled_body)
        .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (202, Some("accepted")),
        "{answer}"
    );
    serve
        .eventually("PR 7's parameter set served", DEADLINE, async |s| {
            numbers(&previews(s).await) == ["7"]
        })
        .await;
    serve
        .eventually("the ApplicationSet refreshed", DEADLINE, async |_| {
            kube.applicationset_patches().iter().any(is_refresh)
        })
        .await;
    let stored = kube.applicationset("previews").unwrap();
    assert!(
        stored["metadata"]["annotations"][REFRESH_ANNOTATION].is_string(),
        "the annotation is on the ApplicationSet: {stored}"
    );
    let patches = kube.applicationset_patches();
    assert_eq!(patches.len(), 1, "one patch for one change: {patches:?}");
    let served = previews(&serve).await;
    let pokes = serve.metric(POKES).await;
    assert_eq!(pokes, 1.0);

    // PR 8 is labelled on GitHub too: any refresh of the repo would now serve it.
    github.set_labels(REPO, 8, &["preview"]);

    // A forgery: the right shape, signed with another secret. Refused, and nothing moves.
    let (forged_headers, forged_body) =
        delivery("labeled", 8, "delivery-8-forged", "not-the-secret");
    let (status, answer) = serve
        .post(WEBHOOK_PATH, &forged_headers, &forged_body)
        .await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(serve.metric(UNAUTHORIZED).await, 1.0);
    // The receiver pokes before it answers: no poke now means no refresh later.
    assert_eq!(
        serve.metric(POKES).await,
        pokes,
        "a forgery poked a refresh"
    );

    // A replay of the delivery already acted on: answered `duplicate`, nothing moves.
    let (status, answer) = serve
        .post(WEBHOOK_PATH, &labelled_headers, &labelled_body)
        .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("duplicate")),
        "{answer}"
    );
    assert_eq!(serve.metric(DUPLICATE).await, 1.0);
    assert_eq!(serve.metric(POKES).await, pokes, "a replay poked a refresh");

    tokio::time::sleep(QUIET).await;
    assert_eq!(
        previews(&serve).await,
        served,
        "parameters changed without a valid delivery"
    );
    assert_eq!(
        kube.applicationset_patches(),
        patches,
        "the ApplicationSet was patched without a valid delivery"
    );

    // The control: a genuine delivery about PR 8 does bring it, so the checks above could fail.
    let (headers, body) = delivery("labeled", 8, "delivery-8-labeled", SECRET);
    let (status, answer) = serve.post(WEBHOOK_PATH, &headers, &body).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (202, Some("accepted")),
        "{answer}"
    );
    serve
        .eventually("PR 8's parameter set served", DEADLINE, async |s| {
            numbers(&previews(s).await) == ["7", "8"]
        })
        .await;
    serve
        .eventually("the ApplicationSet refreshed again", DEADLINE, async |_| {
            kube.applicationset_patches()
                .iter()
                .filter(|p| is_refresh(p))
                .count()
                == 2
        })
        .await;
}
