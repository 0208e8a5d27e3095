//! Two replicas: only the Lease holder writes; when it goes away the other takes over and
//! finishes the job, and nothing is written twice.

use std::time::Duration;

use preview_tower::jira::rest::Edition;

use super::{World, eventually, last_states, pair, sha};

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_writes_and_the_other_replica_takes_over() {
    let world = World::new(Duration::from_secs(5), Edition::Cloud).await;
    world.sync().await;
    let first = world.start_pod("pod-1");
    eventually("pod-1 leads", || {
        world
            .kube
            .lease("preview-tower", "preview-tower-lifecycle")
            .and_then(|l| l.spec?.holder_identity)
            .as_deref()
            == Some("pod-1")
    })
    .await;
    let second = world.start_pod("pod-2");
    eventually("queued", || last_states(&world) == [pair("A", "queued")]).await;
    world.argo("Synced", "A", "Healthy", "Succeeded");
    eventually("success", || last_states(&world) == [pair("A", "success")]).await;
    eventually("Jira hears ready", || world.jira_texts().len() == 1).await;
    let holder = world
        .kube
        .lease("preview-tower", "preview-tower-lifecycle")
        .and_then(|l| l.spec?.holder_identity);
    assert_eq!(
        holder.as_deref(),
        Some("pod-1"),
        "the leader kept its lease"
    );

    // The leader shuts down (releasing the lease); pod-2 takes over.
    first.stop().await;
    world.github.push(super::REPO, super::PR, &sha("B"));
    world.sync().await;
    eventually("B in progress under pod-2", || {
        last_states(&world) == [pair("A", "inactive"), pair("B", "in_progress")]
    })
    .await;
    world.argo("Synced", "B", "Healthy", "Succeeded");
    eventually("B up under pod-2", || {
        last_states(&world) == [pair("A", "inactive"), pair("B", "success")]
    })
    .await;
    second.stop().await;

    assert_eq!(
        world.deployments(),
        [
            ("A".to_owned(), strings(&["queued", "success", "inactive"])),
            ("B".to_owned(), strings(&["in_progress", "success"])),
        ],
        "one writer at a time, nothing twice"
    );
    assert_eq!(world.comments().len(), 1);
    assert_eq!(world.jira_texts().len(), 1);
}
