//! A PR whose image is not built yet gets no preview (the build gate), and its sticky comment
//! says what it waits for: until the build succeeds, or until the PR stops asking.

use std::time::Duration;

use preview_tower::jira::rest::Edition;

use super::support::fake_github::FakePull;
use super::{World, eventually, sha};

/// The demo fleet's `billing` deploys a commit only once check run `preview-ready` succeeded.
const BILLING: &str = "acme/billing";
const CHECK: &str = "preview-ready";

fn billing_comments(world: &World, number: u64) -> Vec<String> {
    world
        .github
        .comments(BILLING, number)
        .into_iter()
        .map(|(_, body)| body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pr_waiting_for_its_build_is_told_so_then_gets_its_preview() {
    let world = World::new(Duration::from_secs(5), Edition::Cloud).await;
    let head = sha("billing-head");
    world.github.open_pull(
        BILLING,
        FakePull::new(12)
            .branch("feature/invoices")
            .head_sha(&head)
            .labels(&["preview"]),
    );
    world
        .github
        .set_check_run(BILLING, &head, CHECK, "in_progress", None);
    world.sync().await;
    let pod = world.start_pod("pod-1");

    eventually("the comment says the build is awaited", || {
        billing_comments(&world, 12)
            .iter()
            .any(|c| c.contains("waiting for the head commit's image build"))
    })
    .await;
    assert!(
        world.github.deployments(BILLING).is_empty(),
        "no deployment for an image that may not exist"
    );

    world
        .github
        .set_check_run(BILLING, &head, CHECK, "completed", Some("success"));
    world.sync().await;
    eventually("the comment shows the preview instead", || {
        let comments = billing_comments(&world, 12);
        comments.len() == 1
            && comments[0].contains("https://billing-pr-12.preview.example.com")
            && !comments[0].contains("waiting for")
    })
    .await;
    eventually("a deployment is queued", || {
        world.github.deployments(BILLING).len() == 1
    })
    .await;
    pod.stop().await;
    world.github.assert_conformant();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pr_unlabelled_while_it_waited_is_told_it_has_no_preview() {
    let world = World::new(Duration::from_secs(5), Edition::Cloud).await;
    world.github.open_pull(
        BILLING,
        FakePull::new(13)
            .branch("feature/refunds")
            .head_sha(&sha("refunds"))
            .labels(&["preview"]),
    );
    world.sync().await;
    let pod = world.start_pod("pod-1");
    eventually("the comment says the build is awaited", || {
        billing_comments(&world, 13)
            .iter()
            .any(|c| c.contains("waiting for"))
    })
    .await;

    world.github.set_labels(BILLING, 13, &[]);
    world.sync().await;
    eventually("the same comment says the preview is gone", || {
        let comments = billing_comments(&world, 13);
        comments.len() == 1 && comments[0].contains("gone") && !comments[0].contains("waiting")
    })
    .await;
    assert!(world.github.deployments(BILLING).is_empty());
    pod.stop().await;
    world.github.assert_conformant();
}
