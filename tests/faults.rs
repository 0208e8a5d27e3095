//! Fault semantics end to end: the real octocrab adapter against the fake GitHub over HTTP, the
//! real sync, the real router. After a good sync, whatever GitHub does, every answer keeps every
//! preview (or is a 5xx); once GitHub recovers, closing a PR removes exactly that preview.
//!
//! The background loop is `Syncer::refresh` on a timer; here each refresh is driven by hand, so
//! "five minutes of faults" is ten refresh cycles at a 30 s interval, without waiting for them.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use secrecy::SecretString;
use serde_json::Value;
use tower::ServiceExt;

use preview_tower::fleet::Fleet;
use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::http::{self, PLUGIN_PATH, PluginState};
use preview_tower::metrics::Metrics;
use preview_tower::snapshot::{Snapshot, SnapshotStore};
use preview_tower::sync::Syncer;
use support::fake_github::{Endpoint, FakeGitHub, FakePull, Fault, FaultRule, sha1_hex};

const TOKEN: &str = "plugin-token";
/// Refreshes per fault: five minutes at a 30 s interval.
const CYCLES: usize = 10;

struct World {
    github: FakeGitHub,
    syncer: Syncer,
    router: axum::Router,
}

fn sha(seed: &str) -> String {
    sha1_hex(seed.as_bytes())
}

async fn world(timeout: Duration) -> World {
    let github = FakeGitHub::start().await;
    for repo in ["acme/web", "acme/api", "acme/billing"] {
        github.add_repo(repo);
    }
    for (repo, number) in [
        ("acme/web", 1),
        ("acme/web", 2),
        ("acme/api", 42),
        ("acme/billing", 8),
    ] {
        let head = sha(&format!("{repo}#{number}"));
        github.open_pull(
            repo,
            FakePull::new(number).head_sha(&head).labels(&["preview"]),
        );
        if repo != "acme/web" {
            github.put_dir_entry(repo, &head, "db/seed", &sha(&format!("seed {repo}")));
        }
        // The demo fleet's billing waits for its image build.
        github.set_check_run(repo, &head, "preview-ready", "completed", Some("success"));
    }
    github.put_file(
        "acme/web",
        &sha("acme/web#1"),
        ".preview.yaml",
        "dependencies:\n  api: pr-42\n",
    );
    // An unlabelled PR: listed, never previewed.
    github.open_pull("acme/web", FakePull::new(3).head_sha(&sha("acme/web#3")));

    let fleet = Arc::new(Fleet::from_yaml(preview_tower::demo::FLEET_YAML).unwrap());
    let source = GitHubSource::new(
        github.url(),
        Credentials::token("ghp_faults").unwrap(),
        timeout,
    )
    .unwrap();
    let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
        &fleet,
    ))));
    let metrics = Arc::new(Metrics::unregistered());
    let syncer = Syncer::new(
        fleet,
        Arc::new(source),
        Arc::clone(&store),
        Arc::clone(&metrics),
    );
    let router = http::router(PluginState {
        store,
        token: Arc::new(SecretString::from(TOKEN)),
        metrics,
    });
    World {
        github,
        syncer,
        router,
    }
}

/// The plugin's answer for every service: status and the parameter sets.
async fn answer_sets(router: &axum::Router) -> (StatusCode, Vec<Value>) {
    let request = Request::post(PLUGIN_PATH)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"applicationSetName":"previews","input":{}}"#,
        ))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let sets = body["output"]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (status, sets)
}

/// Asserts that `now` keeps every preview of `good`, value for value, except that a preview's
/// `expires_at` may have moved later: a push made while its commit cannot be read is still
/// activity (the timeline shows it), so it pushes the expiry out, and never brings it closer.
fn assert_kept(now: &(StatusCode, Vec<Value>), good: &(StatusCode, Vec<Value>), what: &str) {
    let without_expiry = |(status, sets): &(StatusCode, Vec<Value>)| {
        let sets: Vec<Value> = sets
            .iter()
            .cloned()
            .map(|mut set| {
                set.as_object_mut().map(|set| set.remove("expires_at"));
                set
            })
            .collect();
        (*status, sets)
    };
    assert_eq!(without_expiry(now), without_expiry(good), "{what}");
    for (now, good) in now.1.iter().zip(&good.1) {
        let (now, good) = (now["expires_at"].as_str(), good["expires_at"].as_str());
        // RFC 3339 in UTC, same width: the text order is the time order.
        assert!(
            now >= good,
            "{what}: expiry moved closer, {good:?} → {now:?}"
        );
    }
}

/// The plugin's answer for every service: status and the Application names.
async fn answer(router: &axum::Router) -> (StatusCode, Vec<String>) {
    let (status, sets) = answer_sets(router).await;
    let names = sets
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    (status, names)
}

const ALL: [&str; 4] = [
    "preview-web-pr-1",
    "preview-web-pr-2",
    "preview-api-pr-42",
    "preview-billing-pr-8",
];

#[tokio::test]
async fn nothing_is_answered_until_github_has_answered_once() {
    let w = world(Duration::from_secs(5)).await;
    w.github.fail_with(Fault::Status(500));
    for _ in 0..3 {
        assert!(w.syncer.refresh_all().await.is_err());
        let (status, names) = answer(&w.router).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "never 200 with nothing"
        );
        assert!(names.is_empty());
    }
    w.github.clear_faults();
    w.syncer.refresh_all().await.unwrap();
    assert_eq!(
        answer(&w.router).await,
        (StatusCode::OK, ALL.map(String::from).to_vec())
    );
}

#[tokio::test]
async fn every_fault_keeps_every_preview_and_closing_a_pr_removes_only_it() {
    let w = world(Duration::from_millis(500)).await;
    w.syncer.refresh_all().await.unwrap();
    let good = answer_sets(&w.router).await;
    assert_eq!(
        answer(&w.router).await,
        (StatusCode::OK, ALL.map(String::from).to_vec())
    );
    assert_eq!(good.1[0]["dependencies"]["api"]["route"], "pr-42");

    let faults = [
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::RateLimited,
        Fault::TooManyRequests { retry_after: 60 },
        Fault::Malformed,
        Fault::Timeout(Duration::from_secs(2)),
    ];
    for fault in faults {
        w.github.fail_with(fault.clone());
        // A push meanwhile: its new SHA cannot be read either.
        w.github
            .push("acme/api", 42, &sha(&format!("push during {fault:?}")));
        let cycles = if matches!(fault, Fault::Timeout(_)) {
            2
        } else {
            CYCLES
        };
        for cycle in 0..cycles {
            assert!(
                w.syncer.refresh_all().await.is_err(),
                "{fault:?} is an error"
            );
            // Every set unchanged, value for value: revisions, routes, config, seed images.
            assert_kept(
                &answer_sets(&w.router).await,
                &good,
                &format!("{fault:?}, cycle {cycle}"),
            );
        }
        w.github.clear_faults();
    }

    // Faults on one endpoint only: the listing works, the new head's files do not.
    w.github
        .fail(FaultRule::new(Fault::Status(500)).endpoint(Endpoint::Contents));
    assert!(w.syncer.refresh_all().await.is_err());
    assert_kept(&answer_sets(&w.router).await, &good, "contents failing");
    w.github.clear_faults();

    // Recovery: the push made during the faults reaches api's set, and only it.
    w.syncer.refresh_all().await.unwrap();
    let (status, recovered) = answer_sets(&w.router).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(recovered.len(), good.1.len());
    for (now, before) in recovered.iter().zip(&good.1) {
        if now["name"] == "preview-api-pr-42" {
            assert_ne!(now["revision"], before["revision"], "the push is deployed");
        } else {
            assert_eq!(now, before);
        }
    }

    // Positive evidence: PR 2 of web is closed.
    w.github.close_pull("acme/web", 2);
    w.syncer.refresh_all().await.unwrap();
    let (status, names) = answer(&w.router).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        names,
        [
            "preview-web-pr-1",
            "preview-api-pr-42",
            "preview-billing-pr-8"
        ]
    );

    // Unlabelling is evidence too.
    w.github.set_labels("acme/billing", 8, &["wontfix"]);
    w.syncer.refresh_all().await.unwrap();
    assert_eq!(
        answer(&w.router).await.1,
        ["preview-web-pr-1", "preview-api-pr-42"]
    );
    w.github.assert_conformant();
}

#[tokio::test]
async fn a_failing_repo_leaves_the_others_answering() {
    let w = world(Duration::from_secs(5)).await;
    w.syncer.refresh_all().await.unwrap();
    w.github.fail_repo_with("acme/web", Fault::Status(500));
    w.github.close_pull("acme/api", 42);
    assert!(w.syncer.refresh_all().await.is_err());
    let (status, names) = answer(&w.router).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        names,
        [
            "preview-web-pr-1",
            "preview-web-pr-2",
            "preview-billing-pr-8"
        ]
    );
}

#[tokio::test]
async fn a_commit_github_does_not_know_yet_is_retried_not_cached_as_missing() {
    let w = world(Duration::from_secs(5)).await;
    w.syncer.refresh_all().await.unwrap();
    let good = answer_sets(&w.router).await;
    // web PR 1 is pushed; GitHub's replicas answer 404 "No commit found" for a moment.
    let pushed = sha("web#1 pushed");
    w.github.push_unreplicated("acme/web", 1, &pushed);
    w.github.put_file(
        "acme/web",
        &pushed,
        ".preview.yaml",
        "dependencies:\n  api: pr-42\n",
    );
    w.github.forget_commit("acme/web", &pushed);
    assert!(w.syncer.refresh_all().await.is_err());
    assert_kept(
        &answer_sets(&w.router).await,
        &good,
        "the old revision is kept meanwhile",
    );
    w.github.know_commit("acme/web", &pushed);
    w.github.put_file(
        "acme/web",
        &pushed,
        ".preview.yaml",
        "dependencies:\n  api: pr-42\n",
    );
    w.syncer.refresh_all().await.unwrap();
    let (_, sets) = answer_sets(&w.router).await;
    assert_eq!(sets[0]["revision"], pushed);
    assert_eq!(
        sets[0]["dependencies"]["api"]["route"], "pr-42",
        "the file was read, not taken as missing"
    );
}

#[tokio::test]
async fn an_unchanged_repo_is_not_read_again() {
    let w = world(Duration::from_secs(5)).await;
    w.syncer.refresh_all().await.unwrap();
    let contents = w.github.count(Endpoint::Contents);
    let used = w.github.rate_limit_used();
    w.syncer.refresh_all().await.unwrap();
    assert_eq!(
        w.github.count(Endpoint::Contents),
        contents,
        "files are read once per SHA"
    );
    assert_eq!(w.github.rate_limit_used(), used, "304s cost no rate limit");
}
