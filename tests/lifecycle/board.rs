//! The previews board beside the real lifecycle: the board's router, served in-process, reads
//! the Applications from the same watch as the pod's lifecycle (as `serve` wires it), and its
//! row for the preview follows what Argo CD says, in step with the GitHub deployment statuses
//! the lifecycle writes.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use preview_tower::http::{BoardState, Observe, board_router};
use preview_tower::jira::rest::Edition;

use super::support::fake_github::FakeDeployment;
use super::world::{Pod, World};
use super::{APP, ARGOCD, PR, REPO, URL, eventually, last_states, pair, sha};

/// A failed sync, as Argo CD words it.
const SYNC_FAILED: &str = "one or more objects failed to apply, reason: Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].image: Required value";
/// Broken pods, as Argo CD words it.
const CRASHING: &str = "Deployment \"web\" exceeded its progress deadline (CrashLoopBackOff)";

/// The board as `serve` makes it, reading the Applications from `pod`'s watch.
fn board(world: &World, pod: &Pod) -> Router {
    let index = Arc::clone(&pod.index);
    let observe: Observe = Arc::new(move || index.observed());
    board_router(BoardState {
        fleet: Arc::clone(&world.fleet),
        store: Arc::clone(&world.store),
        observe,
        meter: pod.meter.clone(),
        jira_url: None,
        jira_projects: vec![],
        applications_url: Some(format!("{ARGOCD}/applications/argocd")),
    })
}

/// `GET /api/v1/previews`.
async fn board_json(board: &Router) -> Value {
    let request = Request::get("/api/v1/previews")
        .body(Body::empty())
        .unwrap();
    let response = board.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE].clone();
    assert_eq!(content_type, "application/json");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// The board's row for web #7, with whether the board knows the Applications.
async fn row(board: &Router) -> (bool, Value) {
    let json = board_json(board).await;
    let known = json["applications_known"] == json!(true);
    let rows: Vec<&Value> = json["previews"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["service"] == json!("web") && r["number"] == json!(PR))
        .collect();
    assert_eq!(rows.len(), 1, "one row for web #{PR}: {json:#}");
    (known, rows[0].clone())
}

/// Polls the board until its row for the preview is in `state` (the watch catching up; a
/// generous deadline, never a timing assertion), and returns that row.
async fn board_until(board: &Router, state: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (known, row) = row(board).await;
        if known && row["state"]["state"] == json!(state) {
            return row;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for the board to say {state}; it says {row:#} \
             (applications known: {known})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The latest deployment of `commit`, as GitHub holds it.
fn deployment(world: &World, commit: &str) -> FakeDeployment {
    world
        .github
        .deployments(REPO)
        .into_iter()
        .rev()
        .find(|d| d.sha == sha(commit))
        .unwrap_or_else(|| panic!("no deployment of {commit}"))
}

/// What the board's row must say of every preview: its PR, its commit, its Argo CD link (the
/// one the GitHub statuses carry).
fn assert_row_facts(row: &Value, commit: &str) {
    assert_eq!(row["commit"], json!(sha(commit)), "{row:#}");
    assert_eq!(
        row["application_url"],
        json!(format!("{ARGOCD}/applications/argocd/{APP}")),
        "{row:#}"
    );
    assert_eq!(
        row["title"],
        json!("SHOP-1: a new login page (not NOPE-9)"),
        "{row:#}"
    );
}

/// A row that is exactly `{"state": state}` and says so in words.
fn assert_plain(row: &Value, state: &str) {
    assert_eq!(row["state"], json!({ "state": state }), "{row:#}");
    assert_eq!(row["state_text"], json!(state), "{row:#}");
}

/// A degraded row carries Argo CD's message, as the GitHub failure status does.
fn assert_degraded(row: &Value, world: &World, commit: &str, prefix: &str, message: &str) {
    assert_eq!(row["state"]["state"], json!("degraded"), "{row:#}");
    let said = row["state"]["message"].as_str().unwrap();
    assert_eq!(said, format!("{prefix}: {message}"), "{row:#}");
    // The page shows Argo CD's message under the badge.
    assert_eq!(row["state_text"], json!(said), "{row:#}");
    let failure = deployment(world, commit)
        .statuses
        .into_iter()
        .next_back()
        .unwrap();
    assert_eq!(failure.state, "failure");
    assert!(
        said.starts_with(&failure.description),
        "the board says {said:?}, GitHub {:?}",
        failure.description
    );
    assert!(failure.description.starts_with(prefix), "{failure:?}");
}

/// GitHub's success status for `commit`, with the address the board's healthy `row` shows.
fn assert_success(world: &World, commit: &str, row: &Value) {
    assert_eq!(row["url"], json!(URL), "{row:#}");
    let success = deployment(world, commit)
        .statuses
        .into_iter()
        .next_back()
        .unwrap();
    assert_eq!(success.state, "success");
    assert_eq!(success.environment_url, URL);
    assert_eq!(
        success.log_url,
        format!("{ARGOCD}/applications/argocd/{APP}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_boards_state_follows_the_application_as_the_deployment_statuses_do() {
    let world = World::new(Duration::from_secs(5), Edition::Cloud).await;
    world.sync().await;
    let pod = world.start_pod("pod-1");
    let board = board(&world, &pod);

    // Labelled, no Application yet: the board knows the Applications (not `unknown`) and
    // the preview is on its way, while GitHub shows the deployment queued.
    eventually("the deployment is queued", || {
        last_states(&world) == [pair("A", "queued")]
    })
    .await;
    let row = board_until(&board, "progressing").await;
    assert_plain(&row, "progressing");
    assert_row_facts(&row, "A");
    assert!(world.kube.application(APP).is_none());

    // Argo CD syncs: once the lifecycle saw it (through the same watch), so does the board.
    world.argo("OutOfSync", "A", "Progressing", "Running");
    eventually("in progress", || {
        last_states(&world) == [pair("A", "in_progress")]
    })
    .await;
    let row = board_until(&board, "progressing").await;
    assert_plain(&row, "progressing");

    // Synced at the preview's commit and healthy: healthy, and GitHub says success.
    world.argo("Synced", "A", "Healthy", "Succeeded");
    let row = board_until(&board, "healthy").await;
    assert_plain(&row, "healthy");
    assert_row_facts(&row, "A");
    eventually("success", || last_states(&world) == [pair("A", "success")]).await;
    assert_success(&world, "A", &row);
    assert_plain(&board_until(&board, "healthy").await, "healthy");

    // The next sync of that commit fails: degraded, with Argo CD's message, and a failure.
    world.argo_saying("OutOfSync", "A", "Healthy", "Failed", Some(SYNC_FAILED));
    let row = board_until(&board, "degraded").await;
    eventually("failure", || last_states(&world) == [pair("A", "failure")]).await;
    assert_degraded(&row, &world, "A", "sync failed", SYNC_FAILED);
    assert_row_facts(&row, "A");

    // A fix is pushed: the old commit's failed sync is not the new commit's, so the board
    // shows the new commit on its way rather than degraded.
    world.github.push(REPO, PR, &sha("B"));
    world.sync().await;
    eventually("B in progress, A inactive", || {
        last_states(&world) == [pair("A", "inactive"), pair("B", "in_progress")]
    })
    .await;
    let row = board_until(&board, "progressing").await;
    assert_plain(&row, "progressing");
    assert_row_facts(&row, "B");

    // Argo CD syncs the fix: healthy again.
    world.argo("Synced", "B", "Healthy", "Succeeded");
    let row = board_until(&board, "healthy").await;
    assert_plain(&row, "healthy");
    assert_row_facts(&row, "B");
    eventually("B up", || {
        last_states(&world) == [pair("A", "inactive"), pair("B", "success")]
    })
    .await;
    assert_success(&world, "B", &row);

    // Its pods crash at that commit: degraded with the health's message, and a failure.
    world.argo_saying("Synced", "B", "Degraded", "Succeeded", Some(CRASHING));
    let row = board_until(&board, "degraded").await;
    eventually("B failing", || {
        last_states(&world) == [pair("A", "inactive"), pair("B", "failure")]
    })
    .await;
    assert_degraded(&row, &world, "B", "degraded", CRASHING);

    // They recover: healthy, and success again.
    world.argo("Synced", "B", "Healthy", "Succeeded");
    let row = board_until(&board, "healthy").await;
    assert_plain(&row, "healthy");
    eventually("B up again", || {
        last_states(&world) == [pair("A", "inactive"), pair("B", "success")]
    })
    .await;
    assert_success(&world, "B", &row);
    assert_plain(&board_until(&board, "healthy").await, "healthy");
    pod.stop().await;

    let to_strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        world.deployments(),
        [
            (
                "A".to_owned(),
                to_strings(&["queued", "in_progress", "success", "failure", "inactive"])
            ),
            (
                "B".to_owned(),
                to_strings(&["in_progress", "success", "failure", "success"])
            ),
        ],
        "one deployment per commit, each status once"
    );
    world.github.assert_conformant();
    world.kube.assert_conformant();
}
