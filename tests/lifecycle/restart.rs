//! preview-tower restarts while GitHub's contents API fails: the preview (its Application
//! exists) is held, not gone. Its deployment stays as it is, the sticky comment says it is
//! kept on its last known state, and no Jira note says it is gone; once GitHub answers, the
//! comment is the ordinary one again.

use std::time::Duration;

use preview_tower::jira::rest::Edition;

use super::support::fake_github::{Endpoint, Fault, FaultRule};
use super::{World, eventually, last_states, pair};

const KEPT: &str = "kept on its last known state while GitHub cannot be read";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_while_github_fails_keeps_the_preview_and_says_so() {
    let mut world = World::new(Duration::from_secs(5), Edition::Cloud).await;
    world.sync().await;
    let pod = world.start_pod("pod-1");
    world.argo("Synced", "A", "Healthy", "Succeeded");
    eventually("success", || last_states(&world) == [pair("A", "success")]).await;
    let ready = |world: &World| {
        world
            .comments()
            .iter()
            .any(|c| c.contains("✅ ready") && !c.contains(KEPT))
    };
    eventually("the comment says ready", || ready(&world)).await;
    eventually("Jira heard ready", || world.jira_texts().len() == 1).await;
    pod.stop().await;

    world.restart_sync().await;
    let every_read = FaultRule::new(Fault::Status(502)).endpoint(Endpoint::Contents);
    world.github.fail(every_read);
    assert!(world.syncer.refresh_all().await.is_err(), "the reads fail");
    let pod = world.start_pod("pod-2");
    eventually("the comment says the preview is kept", || {
        world.comments().iter().any(|c| c.contains(KEPT))
    })
    .await;
    assert_eq!(
        last_states(&world),
        [pair("A", "success")],
        "the deployment is left as it is"
    );
    assert_eq!(world.comments().len(), 1, "the same comment, edited");
    assert_eq!(world.jira_texts().len(), 1, "no `gone` note");

    world.github.clear_faults();
    world.sync().await;
    eventually("the comment is the ordinary one again", || ready(&world)).await;
    assert_eq!(last_states(&world), [pair("A", "success")]);
    pod.stop().await;
    world.github.assert_conformant();
}
