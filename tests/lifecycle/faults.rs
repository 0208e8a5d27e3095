//! The same PR life through faults: GitHub refuses writes (5xx, a secondary limit, a write
//! carried out whose answer was lost), Jira is down when the preview becomes ready, the watch
//! is cut and expires, and the pod restarts. The end state is right and nothing is duplicated.

use std::time::Duration;

use preview_tower::jira::rest::Edition;

use super::support::fake_github::{Endpoint, Fault, FaultRule};
use super::{World, eventually, last_states, pair, sha};

fn once(fault: Fault, endpoint: Endpoint) -> FaultRule {
    FaultRule::new(fault).endpoint(endpoint).times(1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_delay_updates_but_lose_none_and_duplicate_none() {
    let world = World::new(Duration::from_millis(500), Edition::Cloud).await;
    // Writes closer than half our interval are refused as GitHub's secondary limit would:
    // the pacing must never trip it.
    world.github.enforce_write_spacing(world.write_interval / 2);
    world.sync().await;
    world.github.fail(once(
        Fault::SecondaryLimit { retry_after: 1 },
        Endpoint::CreateDeployment,
    ));
    world
        .github
        .fail(once(Fault::Status(502), Endpoint::CreateStatus));
    let pod = world.start_pod("pod-1");
    eventually("queued despite a secondary limit and a 502", || {
        last_states(&world) == [pair("A", "queued")]
    })
    .await;

    // Jira is down when the preview becomes ready; the watch is cut, then expires.
    world.jira.down();
    world.argo("OutOfSync", "A", "Progressing", "Running");
    world.kube.drop_watches();
    world.argo("Synced", "A", "Healthy", "Succeeded");
    eventually("success", || last_states(&world) == [pair("A", "success")]).await;
    world.kube.compact();
    world.kube.drop_watches();
    assert_eq!(world.jira_texts().len(), 0);
    world.jira.up();
    eventually("Jira hears ready once it is back", || {
        world.jira_texts().len() == 1
    })
    .await;

    // A push whose deployment is created although the answer never arrives, then a restart.
    world.github.fail(once(
        Fault::LoseAnswer(Duration::from_millis(1500)),
        Endpoint::CreateDeployment,
    ));
    world
        .github
        .fail(once(Fault::Status(500), Endpoint::UpdateComment));
    world.github.push(super::REPO, super::PR, &sha("B"));
    world.sync().await;
    eventually("B in progress, A inactive", || {
        last_states(&world) == [pair("A", "inactive"), pair("B", "in_progress")]
    })
    .await;
    pod.stop().await;
    let pod = world.start_pod("pod-2");
    world.argo("Synced", "B", "Healthy", "Succeeded");
    eventually("B up", || {
        last_states(&world) == [pair("A", "inactive"), pair("B", "success")]
    })
    .await;

    // Closed while Jira is down again.
    world.jira.down();
    world.github.close_pull(super::REPO, super::PR);
    world.sync().await;
    world.kube.delete_application(super::APP);
    eventually("every deployment inactive", || {
        last_states(&world) == [pair("A", "inactive"), pair("B", "inactive")]
    })
    .await;
    eventually("the comment's last edit", || {
        world.comments().iter().any(|c| c.contains("gone"))
    })
    .await;
    world.jira.up();
    eventually("Jira hears gone", || world.jira_texts().len() == 2).await;
    pod.stop().await;

    let deployments = world.deployments();
    assert_eq!(
        deployments
            .iter()
            .map(|(seed, _)| seed.as_str())
            .collect::<Vec<_>>(),
        ["A", "B"],
        "one deployment per commit: {deployments:?}"
    );
    for (seed, states) in &deployments {
        let mut unique = states.clone();
        unique.dedup();
        assert_eq!(&unique, states, "{seed}: a status posted twice in a row");
        assert_eq!(states.last().map(String::as_str), Some("inactive"));
        assert!(states.iter().any(|s| s == "success"), "{seed}: {states:?}");
    }
    assert_eq!(
        world.github.count(Endpoint::CreateDeployment),
        3,
        "A refused once then created, B created once: its lost answer was read back, not retried"
    );
    assert_eq!(world.comments().len(), 1, "one sticky comment");
    let texts = world.jira_texts();
    assert!(
        texts[0].contains("[preview-tower:ready:acme/web#7]"),
        "{texts:?}"
    );
    assert!(
        texts[1].contains("[preview-tower:gone:acme/web#7]"),
        "{texts:?}"
    );
    let gap = world.github.min_write_gap().unwrap();
    assert!(
        gap >= world.write_interval / 2,
        "writes came {gap:?} apart: the pacing let a burst through"
    );
    world.github.assert_conformant();
    world.kube.assert_conformant();
}
