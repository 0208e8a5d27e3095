//! The image-readiness gate end to end: the real octocrab adapter against the fake GitHub over
//! HTTP, the real sync, the real router. A SHA whose image build has not succeeded is never
//! emitted, in any key; the preview stays on its last built commit meanwhile, also across a
//! restart; an unchanged pending build costs no rate limit.
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
const REPO: &str = "acme/api";
const CHECK: &str = "preview-ready";

/// `api` waits for `preview-ready`; `web` (another repo) is not gated.
const FLEET: &str = r#"
base_domain: preview.example.com
services:
  - name: web
    repo: acme/web
    kind: frontend
    image: registry.example.com/web
    overlay_path: deploy/preview
    staging_url: https://web.staging.example.com
  - name: api
    repo: acme/api
    kind: backend
    image: registry.example.com/api
    overlay_path: deploy/preview
    staging_url: https://api.staging.example.com
    overrides:
      build_check: preview-ready
"#;

fn sha(seed: &str) -> String {
    sha1_hex(seed.as_bytes())
}

struct World {
    github: FakeGitHub,
    fleet: Arc<Fleet>,
    syncer: Syncer,
    router: axum::Router,
}

impl World {
    async fn start() -> Self {
        let github = FakeGitHub::start().await;
        github.add_repo(REPO);
        github.add_repo("acme/web");
        github.open_pull("acme/web", labelled(1, "web#1"));
        let fleet = Arc::new(Fleet::from_yaml(FLEET).unwrap());
        let (syncer, router) = Self::process(&github, &fleet);
        Self {
            github,
            fleet,
            syncer,
            router,
        }
    }

    /// A fresh process against the same GitHub: empty memory, unsynced snapshot.
    fn process(github: &FakeGitHub, fleet: &Arc<Fleet>) -> (Syncer, axum::Router) {
        let credentials = Credentials::token("ghp_gate").unwrap();
        let source = GitHubSource::new(github.url(), credentials, Duration::from_secs(5)).unwrap();
        let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
            fleet,
        ))));
        let metrics = Arc::new(Metrics::unregistered());
        let syncer = Syncer::new(
            Arc::clone(fleet),
            Arc::new(source),
            Arc::clone(&store),
            Arc::clone(&metrics),
        );
        let router = http::router(PluginState {
            store,
            token: Arc::new(SecretString::from(TOKEN)),
            metrics,
        });
        (syncer, router)
    }

    fn restart(&mut self) {
        (self.syncer, self.router) = Self::process(&self.github, &self.fleet);
    }

    async fn refresh(&self) {
        self.syncer.refresh_all().await.unwrap();
    }

    fn build(&self, head: &str, status: &str, conclusion: Option<&str>) {
        self.github
            .set_check_run(REPO, head, CHECK, status, conclusion);
    }

    /// What the plugin answers for `api`: the status and the body.
    async fn api_answer(&self) -> (StatusCode, axum::body::Bytes) {
        let request = Request::post(PLUGIN_PATH)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                r#"{"applicationSetName":"previews","input":{"parameters":{"service":"api"}}}"#,
            ))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        (
            status,
            response.into_body().collect().await.unwrap().to_bytes(),
        )
    }

    /// The whole answer for `api`, as bytes, and `(number, revision)` of each set.
    async fn api_sets(&self) -> (String, Vec<(u64, String)>) {
        let (status, bytes) = self.api_answer().await;
        assert_eq!(status, StatusCode::OK);
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        let sets = body["output"]["parameters"].as_array().unwrap();
        let revisions = sets
            .iter()
            .map(|set| {
                let number = set["number"].as_str().unwrap().parse().unwrap();
                for key in ["head_sha", "image_tag"] {
                    assert_eq!(set[key], set["revision"], "{key}");
                }
                let revision = set["revision"].as_str().unwrap();
                assert_eq!(set["image"], format!("registry.example.com/api:{revision}"));
                (number, revision.to_owned())
            })
            .collect();
        (String::from_utf8(bytes.to_vec()).unwrap(), revisions)
    }

    /// Asserts that `api` answers exactly `expected`, and that `unbuilt` appears nowhere.
    async fn assert_api(&self, expected: &[(u64, &str)], unbuilt: &[&str]) {
        let (text, revisions) = self.api_sets().await;
        let expected: Vec<(u64, String)> = expected
            .iter()
            .map(|(n, r)| (*n, (*r).to_owned()))
            .collect();
        assert_eq!(revisions, expected);
        for sha in unbuilt {
            assert!(!text.contains(sha), "unbuilt {sha} emitted: {text}");
            assert!(!text.contains(&sha[..8]), "unbuilt {sha} emitted: {text}");
        }
    }
}

fn labelled(number: u64, head: &str) -> FakePull {
    FakePull::new(number)
        .head_sha(&sha(head))
        .labels(&["preview"])
}

#[tokio::test]
async fn a_sha_whose_image_build_has_not_succeeded_is_never_emitted() {
    let w = World::start().await;
    let (a, b, c) = (sha("A"), sha("B"), sha("C"));
    w.github.open_pull(REPO, labelled(42, "A"));
    w.build(&a, "completed", Some("success"));
    w.refresh().await;
    w.assert_api(&[(42, &a)], &[]).await;

    // A push: queued, then running. The preview stays on A.
    w.github.push(REPO, 42, &b);
    w.refresh().await;
    w.assert_api(&[(42, &a)], &[&b]).await;
    w.build(&b, "queued", None);
    w.refresh().await;
    w.build(&b, "in_progress", None);
    w.refresh().await;
    w.assert_api(&[(42, &a)], &[&b]).await;

    // Built: B goes out.
    w.build(&b, "completed", Some("success"));
    w.refresh().await;
    w.assert_api(&[(42, &b)], &[]).await;

    // A failed build keeps B; a re-run that passes moves on to C.
    w.github.push(REPO, 42, &c);
    w.build(&c, "completed", Some("failure"));
    w.refresh().await;
    w.assert_api(&[(42, &b)], &[&c]).await;
    w.github.rerun_check(REPO, &c, CHECK);
    w.refresh().await;
    w.assert_api(&[(42, &b)], &[&c]).await;
    w.build(&c, "completed", Some("success"));
    w.refresh().await;
    w.assert_api(&[(42, &c)], &[]).await;
    w.github.assert_conformant();
}

#[tokio::test]
async fn a_new_pr_gets_no_set_until_its_first_build_passes() {
    let w = World::start().await;
    let head = sha("new");
    w.github.open_pull(REPO, labelled(43, "new"));
    w.build(&head, "in_progress", None);
    w.refresh().await;
    w.assert_api(&[], &[&head]).await;
    // Skipped is no image either.
    w.build(&head, "completed", Some("skipped"));
    w.refresh().await;
    w.assert_api(&[], &[&head]).await;
    w.github.rerun_check(REPO, &head, CHECK);
    w.build(&head, "completed", Some("success"));
    w.refresh().await;
    w.assert_api(&[(43, &head)], &[]).await;
}

#[tokio::test]
async fn an_unchanged_pending_build_costs_no_rate_limit() {
    let w = World::start().await;
    let head = sha("slow");
    w.github.open_pull(REPO, labelled(44, "slow"));
    w.build(&head, "in_progress", None);
    w.refresh().await;
    // The bulk (GraphQL) read saw it pending; the next read is REST's conditional one, whose
    // first answer (the `ETag` to revalidate with) is counted once.
    w.refresh().await;
    let used = w.github.rate_limit_used();
    w.github.clear_requests();
    w.refresh().await;
    assert_eq!(
        w.github.rate_limit_used(),
        used,
        "a refresh of an unchanged fleet: {:#?}",
        w.github.requests()
    );
    let checks: Vec<u16> = w
        .github
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::CheckRuns)
        .map(|r| r.status)
        .collect();
    assert_eq!(checks, [304], "asked again, revalidated");

    // Once built, the status is never asked again.
    w.build(&head, "completed", Some("success"));
    w.refresh().await;
    w.github.clear_requests();
    w.refresh().await;
    assert_eq!(w.github.count(Endpoint::CheckRuns), 0);
}

#[tokio::test]
async fn a_restart_while_a_head_builds_keeps_the_preview_on_the_built_commit() {
    let mut w = World::start().await;
    let (a, b) = (sha("A"), sha("B"));
    w.github.open_pull(REPO, labelled(42, "A"));
    w.build(&a, "completed", Some("success"));
    w.refresh().await;
    w.github.push(REPO, 42, &b);
    w.build(&b, "in_progress", None);
    w.refresh().await;

    w.restart();
    w.github.clear_requests();
    w.refresh().await;
    w.assert_api(&[(42, &a)], &[&b]).await;
    assert_eq!(w.github.count(Endpoint::PullCommits), 1);
    // Searched once for this head, not at every refresh.
    w.refresh().await;
    assert_eq!(w.github.count(Endpoint::PullCommits), 1);
    w.assert_api(&[(42, &a)], &[&b]).await;
}

#[tokio::test]
async fn github_faults_on_the_build_check_keep_the_last_built_commit() {
    let w = World::start().await;
    let (a, b) = (sha("A"), sha("B"));
    w.github.open_pull(REPO, labelled(42, "A"));
    w.build(&a, "completed", Some("success"));
    w.refresh().await;
    w.github.push(REPO, 42, &b);
    w.build(&b, "completed", Some("success"));
    for fault in [Fault::Status(500), Fault::Malformed, Fault::Status(422)] {
        w.github
            .fail(FaultRule::new(fault.clone()).endpoint(Endpoint::CheckRuns));
        assert!(w.syncer.refresh_all().await.is_err(), "{fault:?} reported");
        w.assert_api(&[(42, &a)], &[&b]).await;
        w.github.clear_faults();
    }
    w.refresh().await;
    w.assert_api(&[(42, &b)], &[]).await;
}

#[tokio::test]
async fn the_adapter_finds_a_check_by_its_exact_name_and_a_prs_commits_newest_first() {
    use preview_tower::github::PullRequestSource;
    use preview_tower::pull_request::BuildStatus;

    let w = World::start().await;
    let credentials = Credentials::token("ghp_gate").unwrap();
    let source = GitHubSource::new(w.github.url(), credentials, Duration::from_secs(5)).unwrap();
    let repo = REPO.parse().unwrap();
    let head = sha("head");
    w.github.open_pull(REPO, labelled(45, "head"));
    let name = "build / image (api)";
    w.github
        .set_check_run(REPO, &head, "build / image", "completed", Some("success"));
    w.github
        .set_check_run(REPO, &head, name, "completed", Some("timed_out"));
    let failed = BuildStatus::Failed {
        conclusion: "timed_out".into(),
    };
    assert_eq!(
        source.build_status(&repo, &head, name).await.unwrap(),
        failed
    );
    let unknown = source.build_status(&repo, &sha("never pushed"), name).await;
    assert!(unknown.is_err(), "422 No commit found is no status");

    // 230 earlier commits: three pages, oldest first on GitHub; newest first here.
    let earlier: Vec<String> = (0..230).map(|i| sha(&format!("c{i}"))).collect();
    let refs: Vec<&str> = earlier.iter().map(String::as_str).collect();
    w.github.set_earlier_commits(REPO, 45, &refs);
    let commits = source.pull_request_commits(&repo, 45, 11).await.unwrap();
    assert_eq!(commits.len(), 11);
    assert_eq!(commits[0], head);
    assert_eq!(commits[1], earlier[229]);
    assert_eq!(commits[10], earlier[220]);
    assert_eq!(w.github.count(Endpoint::PullCommits), 3);
}

#[tokio::test]
async fn a_graphql_fault_after_a_restart_never_rolls_a_built_head_back() {
    // PR 46 runs its built head; an earlier commit of it was built too. After a restart the
    // bulk read of the head fails: its status is unknown, not "unbuilt", so no search for an
    // earlier built commit may run and deploy that one instead.
    let mut w = World::start().await;
    let (earlier, head) = (sha("rollback-earlier"), sha("rollback-head"));
    w.github.open_pull(REPO, labelled(46, "rollback-head"));
    w.github.set_earlier_commits(REPO, 46, &[earlier.as_str()]);
    w.build(&earlier, "completed", Some("success"));
    w.build(&head, "completed", Some("success"));
    w.refresh().await;
    w.assert_api(&[(46, &head)], &[]).await;

    w.restart();
    let fault = FaultRule::new(Fault::GraphqlServerTimeout).endpoint(Endpoint::Graphql);
    w.github.fail(fault);
    w.github.clear_requests();
    assert!(
        w.syncer.refresh_all().await.is_err(),
        "the withheld facts are the refresh's error"
    );
    assert_eq!(
        w.github.count(Endpoint::PullCommits),
        0,
        "no search for a built commit"
    );
    let (status, bytes) = w.api_answer().await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains(&earlier[..12]),
        "rolled back to the earlier commit: {text}"
    );
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");

    w.github.clear_faults();
    w.refresh().await;
    w.assert_api(&[(46, &head)], &[]).await;
}
