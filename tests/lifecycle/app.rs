//! The lifecycle as a GitHub App: what it recognises as its own is what its own bot account
//! (`<slug>[bot]`, the slug from `GET /app`) wrote, never what any bot wrote.

use std::time::Duration;

use preview_tower::github::auth::Credentials;
use preview_tower::jira::rest::Edition;
use preview_tower::lifecycle::comment::MARKER;

use super::support::app_key::TestAppKey;
use super::support::fake_github::{AuthSeen, Endpoint};
use super::{PR, REPO, World, eventually, last_states, pair};

/// The App's bot account in these tests: not `preview-tower[bot]`, so that nothing can match
/// it by accident.
const OWN: &str = "acme-previews[bot]";

/// Any workflow of the repository can post as `github-actions[bot]`, so a PR author can plant
/// a comment that starts with the marker: it is left alone, and preview-tower writes its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_bots_comment_with_the_marker_is_left_alone_and_the_app_writes_its_own() {
    let world = World::new(Duration::from_secs(5), Edition::Cloud).await;
    let key = TestAppKey::shared();
    world.github.register_app(4242, &key.public_der);
    world.github.name_app("acme-previews");
    world.github.app_installation("acme", 77);
    let planted = format!("{MARKER}\nplanted by a workflow");
    let planted_id = world
        .github
        .comment_as(REPO, PR, "github-actions[bot]", &planted);
    world.sync().await;
    let credentials = Credentials::app(4242, key.private_pem.clone()).unwrap();
    let pod = world.start_pod_as("pod-1", credentials);

    world.argo("Synced", "A", "Healthy", "Succeeded");
    eventually("success", || last_states(&world) == [pair("A", "success")]).await;
    eventually("the App's own comment says ready", || {
        let comments = world.github.comment_records(REPO, PR);
        comments
            .iter()
            .any(|c| c.author == OWN && c.body.starts_with(MARKER) && c.body.contains("ready"))
    })
    .await;
    pod.stop().await;

    let comments = world.github.comment_records(REPO, PR);
    assert_eq!(comments.len(), 2, "{comments:#?}");
    assert_eq!(
        (comments[0].id, comments[0].body.as_str()),
        (planted_id, planted.as_str()),
        "left as it was"
    );
    let requests = world.github.requests();
    let edited_planted = requests.iter().any(|r| {
        r.endpoint == Endpoint::UpdateComment && r.path.ends_with(&format!("/{planted_id}"))
    });
    assert!(!edited_planted, "the planted comment was edited");
    let asked: Vec<_> = requests
        .iter()
        .filter(|r| r.endpoint == Endpoint::App)
        .collect();
    assert_eq!(asked.len(), 1, "who the App is, read once: {asked:#?}");
    assert_eq!(asked[0].auth, AuthSeen::AppJwt);
    let deployments = world.github.deployments(REPO);
    assert!(
        deployments.iter().all(|d| d.creator == OWN),
        "{deployments:#?}"
    );
    world.github.assert_conformant();
}
