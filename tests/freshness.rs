//! Freshness end to end: the real sync and octocrab adapter against the fake GitHub, the real
//! ApplicationSet refresher against the fake Kubernetes API, both over HTTP. A poke (what the
//! webhook receiver does on a delivery) must reach the ApplicationSet once, bursts must be
//! coalesced, nothing must be patched when nothing changed, and a missing ApplicationSet or a
//! slow repo must not hold anything else back. No timing assertions: generous deadlines only.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use preview_tower::argocd::refresh::{ApplicationSetRefresher, REFRESH_ANNOTATION, RefreshError};
use preview_tower::fleet::Fleet;
use preview_tower::freshness::Freshness;
use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::metrics::Metrics;
use preview_tower::naming::RepoName;
use preview_tower::snapshot::{Snapshot, SnapshotStore};
use preview_tower::sync::Syncer;
use support::fake_github::{Endpoint, FakeGitHub, FakePull, Fault, FaultRule, sha1_hex};
use support::fake_kube::{FakeKube, applicationset};

/// The GitHub client's timeout.
const TIMEOUT: Duration = Duration::from_secs(2);

fn sha(seed: &str) -> String {
    sha1_hex(seed.as_bytes())
}

fn repo(name: &str) -> RepoName {
    name.parse().unwrap()
}

/// The fakes, the sync, and freshness running over them (the poll loop does not run, so
/// every listing is a poke's).
struct World {
    github: FakeGitHub,
    kube: FakeKube,
    syncer: Arc<Syncer>,
    freshness: Arc<Freshness>,
    registry: Registry,
    cancel: CancellationToken,
    running: JoinHandle<()>,
}

impl World {
    /// The demo fleet (`web` → `api` → `billing`, ApplicationSet `previews`), synced once,
    /// with the ApplicationSet `previews` installed when `with_appset`.
    async fn new(with_appset: bool) -> Self {
        Self::with(with_appset, None).await
    }

    /// Like [`World::new`], patching through `kube` instead of the fake when given.
    async fn with(with_appset: bool, kube_client: Option<kube::Client>) -> Self {
        let github = FakeGitHub::start().await;
        for name in ["acme/web", "acme/api", "acme/billing"] {
            github.add_repo(name);
        }
        let kube = FakeKube::start().await;
        if with_appset {
            kube.put_applicationset(applicationset("previews"));
        }
        let mut fleet = Fleet::from_yaml(preview_tower::demo::FLEET_YAML).unwrap();
        assert_eq!(fleet.applicationsets, ["previews"]);
        // The demo also names web's matrix ApplicationSet, `previews-web`; these tests run the
        // default setup, every service under `previews` alone.
        for service in &mut fleet.services {
            service.applicationsets = fleet.applicationsets.clone();
        }
        let fleet = Arc::new(fleet);
        let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
            &fleet,
        ))));
        let mut registry = Registry::default();
        let metrics = Arc::new(Metrics::new(&mut registry));
        let source = GitHubSource::new(
            github.url(),
            Credentials::token("ghp_sync").unwrap(),
            TIMEOUT,
        )
        .unwrap();
        let syncer = Arc::new(Syncer::new(
            Arc::clone(&fleet),
            Arc::new(source),
            store,
            Arc::clone(&metrics),
        ));
        syncer.refresh_all().await.unwrap();
        let client = kube_client.unwrap_or_else(|| kube.client());
        let refresher = ApplicationSetRefresher::new(client, "argocd");
        let freshness = Arc::new(Freshness::new(
            Arc::clone(&syncer),
            fleet,
            Some(refresher),
            metrics,
        ));
        let cancel = CancellationToken::new();
        let running = tokio::spawn(Arc::clone(&freshness).run(cancel.clone()));
        Self {
            github,
            kube,
            syncer,
            freshness,
            registry,
            cancel,
            running,
        }
    }

    fn open(&self, repo: &str, number: u64, commit: &str) {
        let pull = FakePull::new(number)
            .branch(&format!("feature/{number}"))
            .head_sha(&sha(commit))
            .labels(&["preview"]);
        self.github.open_pull(repo, pull);
    }

    /// Waits until `repo` has completed at least `rounds` rounds and nothing of it is left.
    async fn settle(&self, name: &str, rounds: u64) {
        let repo = repo(name);
        eventually(&format!("{name} settled after {rounds} round(s)"), || {
            self.freshness.rounds(&repo) >= rounds && self.freshness.is_idle(&repo)
        })
        .await;
    }

    fn previews(&self, service: &str) -> Vec<(u64, String)> {
        let snapshot = self.syncer.snapshot();
        let previews = &snapshot.plan().previews;
        previews
            .iter()
            .filter(|p| p.service.as_str() == service)
            .map(|p| (p.pr.number, p.pr.head_sha.clone()))
            .collect()
    }

    /// Every patch's answer status, in order.
    fn patch_statuses(&self) -> Vec<u16> {
        let patches = self.kube.applicationset_patches();
        patches.iter().map(|p| p.status).collect()
    }

    fn metrics_text(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).unwrap();
        text
    }

    async fn stop(self) {
        self.cancel.cancel();
        self.running.await.unwrap();
    }
}

/// Polls `done` every 10 ms for up to 20 s.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_labelled_pr_reaches_the_applicationset_with_one_patch() {
    let world = World::new(true).await;
    world.open("acme/web", 7, "A");
    assert!(world.freshness.poke(&repo("acme/web")));
    world.settle("acme/web", 1).await;

    assert_eq!(world.previews("web"), [(7, sha("A"))]);
    let patches = world.kube.applicationset_patches();
    assert_eq!(patches.len(), 1, "{patches:#?}");
    let patch = &patches[0];
    assert_eq!(
        (patch.name.as_str(), patch.namespace.as_str(), patch.status),
        ("previews", "argocd", 200)
    );
    assert_eq!(patch.content_type, "application/merge-patch+json");
    assert_eq!(
        patch.patch,
        json!({"metadata": {"annotations": {REFRESH_ANNOTATION: "true"}}})
    );
    let stored = world.kube.applicationset("previews").unwrap();
    assert_eq!(
        stored["metadata"]["annotations"][REFRESH_ANNOTATION],
        "true"
    );
    assert_eq!(
        stored["spec"],
        applicationset("previews")["spec"],
        "nothing else changed"
    );
    let text = world.metrics_text();
    for line in [
        "preview_tower_freshness_pokes_total 1",
        "preview_tower_freshness_refreshes_total{outcome=\"ok\"} 1",
        "preview_tower_freshness_patches_total{outcome=\"ok\"} 1",
        "preview_tower_freshness_poke_to_patch_seconds_count 1",
    ] {
        assert!(text.contains(line), "no `{line}` in\n{text}");
    }
    world.stop().await;
}

#[tokio::test]
async fn a_burst_of_pokes_is_at_most_two_refreshes() {
    let world = World::new(true).await;
    world.open("acme/web", 7, "A");
    // What one refresh of the repo costs in listing requests (pages, re-reads).
    let before = world.github.count(Endpoint::Pulls);
    world.syncer.refresh(&repo("acme/web")).await.unwrap();
    let one_refresh = world.github.count(Endpoint::Pulls) - before;
    assert!(one_refresh >= 1);

    world.github.push("acme/web", 7, &sha("B"));
    let before = world.github.count(Endpoint::Pulls);
    for _ in 0..5 {
        assert!(world.freshness.poke(&repo("acme/web")));
    }
    world.settle("acme/web", 1).await;

    let listings = world.github.count(Endpoint::Pulls) - before;
    assert!(
        listings <= 2 * one_refresh,
        "{listings} listing requests for five pokes (one refresh: {one_refresh})"
    );
    let rounds = world.freshness.rounds(&repo("acme/web"));
    assert!((1..=2).contains(&rounds), "{rounds} rounds");
    assert_eq!(world.previews("web"), [(7, sha("B"))]);
    assert_eq!(
        world.patch_statuses(),
        [200],
        "the push changed the answer once: one patch"
    );
    world.stop().await;
}

#[tokio::test]
async fn a_poke_that_changes_nothing_patches_nothing() {
    let world = World::new(true).await;
    let before = world.github.count(Endpoint::Pulls);
    assert!(world.freshness.poke(&repo("acme/api")));
    world.settle("acme/api", 1).await;
    assert!(world.github.count(Endpoint::Pulls) > before, "it refreshed");
    assert!(world.kube.applicationset_patches().is_empty());
    assert!(
        world
            .kube
            .applicationset("previews")
            .unwrap()
            .pointer("/metadata/annotations")
            .is_none()
    );
    world.stop().await;
}

#[tokio::test]
async fn a_missing_applicationset_is_logged_and_nothing_breaks() {
    let world = World::new(false).await;
    world.open("acme/web", 7, "A");
    world.freshness.poke(&repo("acme/web"));
    world.settle("acme/web", 1).await;
    assert_eq!(world.previews("web"), [(7, sha("A"))], "served anyway");
    assert_eq!(world.patch_statuses(), [404]);
    let text = world.metrics_text();
    assert!(text.contains("preview_tower_freshness_patches_total{outcome=\"not_found\"} 1"));

    // Installed later: the next change reaches it.
    world.kube.put_applicationset(applicationset("previews"));
    world.github.push("acme/web", 7, &sha("B"));
    world.freshness.poke(&repo("acme/web"));
    world.settle("acme/web", 2).await;
    assert_eq!(world.patch_statuses(), [404, 200]);
    world.stop().await;
}

#[tokio::test]
async fn the_refresher_reports_a_missing_applicationset_as_such() {
    let kube = FakeKube::start().await;
    let refresher = ApplicationSetRefresher::new(kube.client(), "argocd");
    let error = refresher.refresh("nope").await.unwrap_err();
    assert!(matches!(error, RefreshError::NotFound { .. }), "{error:?}");
    assert_eq!(error.kind(), "not_found");
    assert!(error.to_string().contains("argocd/nope"), "{error}");
}

#[tokio::test]
async fn repos_are_refreshed_independently() {
    let world = World::new(true).await;
    world.open("acme/web", 7, "A");
    world.open("acme/api", 8, "C");
    // api's next listing hangs past the client's timeout.
    world.github.fail(
        FaultRule::new(Fault::Timeout(Duration::from_secs(30)))
            .repo("acme/api")
            .endpoint(Endpoint::Pulls)
            .times(1),
    );
    world.freshness.poke(&repo("acme/api"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    world.freshness.poke(&repo("acme/web"));
    world.settle("acme/web", 1).await;
    assert_eq!(world.previews("web"), [(7, sha("A"))]);
    assert_eq!(world.patch_statuses(), [200], "web's change patched");
    assert_eq!(
        world.freshness.rounds(&repo("acme/api")),
        0,
        "web did not wait for api's listing"
    );

    // api's listing times out; the retry lists it and patches again.
    world.settle("acme/api", 2).await;
    assert_eq!(world.previews("api"), [(8, sha("C"))]);
    assert_eq!(world.patch_statuses(), [200, 200]);
    let text = world.metrics_text();
    assert!(text.contains("preview_tower_freshness_refreshes_total{outcome=\"timeout\"} 1"));
    world.stop().await;
}

#[tokio::test]
async fn a_change_found_by_the_poll_loop_is_told_at_the_next_poke() {
    let world = World::new(true).await;
    world.open("acme/web", 7, "A");
    // The poll loop lists web: the change is served, but nobody tells Argo CD.
    world.syncer.refresh(&repo("acme/web")).await.unwrap();
    assert!(world.kube.applicationset_patches().is_empty());
    // A delivery for another repo that changes nothing there tells it.
    world.freshness.poke(&repo("acme/billing"));
    world.settle("acme/billing", 1).await;
    assert_eq!(world.patch_statuses(), [200]);
    // Told once: the next round has nothing to tell.
    world.freshness.poke(&repo("acme/billing"));
    world.settle("acme/billing", 2).await;
    assert_eq!(world.patch_statuses(), [200]);
    world.stop().await;
}

#[tokio::test]
async fn a_failed_patch_is_tried_again_at_the_next_round() {
    // Nothing listens on port 1: every patch fails to connect.
    preview_tower::tls::install_crypto_provider();
    let mut config = kube::Config::new("http://127.0.0.1:1".parse().unwrap());
    config.default_namespace = "argocd".into();
    let unreachable = kube::Client::try_from(config).unwrap();
    let world = World::with(true, Some(unreachable)).await;
    world.open("acme/web", 7, "A");
    world.freshness.poke(&repo("acme/web"));
    world.settle("acme/web", 1).await;
    assert_eq!(world.previews("web"), [(7, sha("A"))], "served anyway");
    world.freshness.poke(&repo("acme/web"));
    world.settle("acme/web", 2).await;
    let text = world.metrics_text();
    assert!(
        text.contains("preview_tower_freshness_patches_total{outcome=\"api\"} 2"),
        "the untold change is tried again:\n{text}"
    );
    world.stop().await;
}
