//! The lifecycle end to end: the real sync, watch, election, worker and adapters against a fake
//! GitHub, a fake Kubernetes API and a fake Jira, all speaking HTTP and checking what they get
//! against the vendors' schemas.
//!
//! A PR's life: labelled → progressing → healthy → new push → healthy → degraded → healthy →
//! closed, with a restart in the middle. The exact deployments, statuses, the one comment and
//! the Jira comments are asserted at the end; [`faults`] does the same life through GitHub
//! errors, a secondary limit, a Jira outage and dropped watches; [`app`] a GitHub App among
//! other bots; [`board`] the previews board following the Applications beside the lifecycle;
//! [`cost`] the comment's cost line across a restart;
//! [`replicas`] two pods; [`restart`] a restart of preview-tower while GitHub cannot be read.
#![allow(clippy::unwrap_used)]

mod support;

#[path = "lifecycle/app.rs"]
mod app;
#[path = "lifecycle/board.rs"]
mod board;
#[path = "lifecycle/cost.rs"]
mod cost;
#[path = "lifecycle/faults.rs"]
mod faults;
#[path = "lifecycle/replicas.rs"]
mod replicas;
#[path = "lifecycle/restart.rs"]
mod restart;
#[path = "lifecycle/waiting.rs"]
mod waiting;
#[path = "lifecycle/world.rs"]
mod world;

use std::time::Duration;

use serde_json::Value;

use preview_tower::jira::rest::Edition;
use support::fake_github::{Endpoint, sha1_hex};
use world::{Pod, World};

pub(crate) const REPO: &str = "acme/web";
pub(crate) const PR: u64 = 7;
pub(crate) const APP: &str = "preview-web-pr-7";
pub(crate) const URL: &str = "https://web-pr-7.preview.example.com";
pub(crate) const ARGOCD: &str = "https://argocd.example.com";
pub(crate) const ISSUE: &str = "SHOP-1";

pub(crate) fn sha(seed: &str) -> String {
    sha1_hex(seed.as_bytes())
}

/// The comment with its expiry time masked: it follows the fake GitHub's clock, which is the
/// machine's. The line must be there: the PR's activity was read.
fn expiry_masked(comment: &str) -> String {
    const EXPIRY: &str = "Deleted when idle after ";
    assert!(comment.contains(EXPIRY), "{comment}");
    comment
        .lines()
        .map(|line| {
            if line.starts_with(EXPIRY) {
                format!("{EXPIRY}[time] UTC.")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until `done` holds (polling; a generous deadline, never a timing assertion).
pub(crate) async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn states(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Whether the last status of every deployment is as listed.
pub(crate) fn last_states(world: &World) -> Vec<(String, String)> {
    world
        .deployments()
        .into_iter()
        .map(|(seed, states)| (seed, states.last().cloned().unwrap_or_default()))
        .collect()
}

fn pair(seed: &str, state: &str) -> (String, String) {
    (seed.to_owned(), state.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pr_life_shows_one_deployment_per_commit_one_comment_and_two_jira_notes() {
    let world = World::new(Duration::from_secs(5), Edition::Cloud).await;
    life(&world, false).await;
    world.github.assert_conformant();
    world.kube.assert_conformant();
    assert_eq!(world.jira.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_after_every_step_duplicates_nothing_on_jira_data_center_too() {
    let world = World::new(Duration::from_secs(5), Edition::DataCenter).await;
    life(&world, true).await;
    world.github.assert_conformant();
    world.kube.assert_conformant();
    assert_eq!(world.jira.violations(), Vec::<String>::new());
}

/// After a step: a restart (a new pod with an empty memory) when `every_step`.
async fn after_step(world: &World, pod: Pod, every_step: bool, n: &mut u32) -> Pod {
    if !every_step {
        return pod;
    }
    pod.stop().await;
    *n += 1;
    world.start_pod(&format!("pod-{n}"))
}

/// A PR's life, with one restart in the middle, or one after every step.
async fn life(world: &World, every_step: bool) {
    let mut n = 1;
    world.sync().await;
    let pod = world.start_pod("pod-1");

    // Labelled: no Application yet.
    eventually("the deployment is queued", || {
        last_states(world) == [pair("A", "queued")]
    })
    .await;
    eventually("the comment says queued", || {
        world.comments().iter().any(|c| c.contains("queued"))
    })
    .await;
    let pod = after_step(world, pod, every_step, &mut n).await;

    // Argo CD syncs, then the preview is healthy.
    world.argo("OutOfSync", "A", "Progressing", "Running");
    eventually("in progress", || {
        last_states(world) == [pair("A", "in_progress")]
    })
    .await;
    let pod = after_step(world, pod, every_step, &mut n).await;
    world.argo("Synced", "A", "Healthy", "Succeeded");
    eventually("success", || last_states(world) == [pair("A", "success")]).await;
    eventually("the comment says ready", || {
        world.comments().iter().any(|c| c.contains("ready"))
    })
    .await;
    eventually("Jira hears ready", || world.jira_texts().len() == 1).await;

    // A restart: the new pod starts with an empty memory and must not write anything again.
    pod.stop().await;
    n += 1;
    let lists = world.github.count(Endpoint::Deployments);
    let pod = world.start_pod(&format!("pod-{n}"));
    eventually("the new pod read the deployments back", || {
        world.github.count(Endpoint::Deployments) > lists
    })
    .await;

    // A new push: a new deployment; the old one is inactive.
    world.github.push(REPO, PR, &sha("B"));
    world.sync().await;
    eventually("B in progress, A inactive", || {
        last_states(world) == [pair("A", "inactive"), pair("B", "in_progress")]
    })
    .await;
    let pod = after_step(world, pod, every_step, &mut n).await;
    world.argo("Synced", "B", "Healthy", "Succeeded");
    eventually("B up", || {
        last_states(world) == [pair("A", "inactive"), pair("B", "success")]
    })
    .await;
    let short_b = &sha("B")[..8];
    eventually("the comment shows the new commit", || {
        world
            .comments()
            .iter()
            .any(|c| c.contains(short_b) && c.contains("ready"))
    })
    .await;
    insta::assert_snapshot!("ready_pr_comment", expiry_masked(&world.comments()[0]));
    let pod = after_step(world, pod, every_step, &mut n).await;

    // Its pods crash, then recover.
    world.argo("Synced", "B", "Degraded", "Succeeded");
    eventually("B failing", || {
        last_states(world) == [pair("A", "inactive"), pair("B", "failure")]
    })
    .await;
    eventually("the comment says failing", || {
        world.comments().iter().any(|c| c.contains("failing"))
    })
    .await;
    let pod = after_step(world, pod, every_step, &mut n).await;
    world.argo("Synced", "B", "Healthy", "Succeeded");
    eventually("B up again", || {
        last_states(world) == [pair("A", "inactive"), pair("B", "success")]
    })
    .await;
    let pod = after_step(world, pod, every_step, &mut n).await;

    // Closed: the preview leaves the plan, Argo CD prunes the Application.
    world.github.close_pull(REPO, PR);
    world.sync().await;
    world.kube.delete_application(APP);
    eventually("every deployment inactive", || {
        last_states(world) == [pair("A", "inactive"), pair("B", "inactive")]
    })
    .await;
    eventually("the comment's last edit", || {
        world.comments().iter().any(|c| c.contains("gone"))
    })
    .await;
    eventually("Jira hears gone", || world.jira_texts().len() == 2).await;
    pod.stop().await;

    assert_eq!(
        world.deployments(),
        [
            (
                "A".to_owned(),
                states(&["queued", "in_progress", "success", "inactive"])
            ),
            (
                "B".to_owned(),
                states(&["in_progress", "success", "failure", "success", "inactive"])
            ),
        ],
        "exactly one deployment per commit, each status once"
    );
    for deployment in world.github.deployments(REPO) {
        assert_eq!(deployment.environment, APP);
        assert!(deployment.transient && !deployment.production);
        let success = deployment
            .statuses
            .iter()
            .find(|s| s.state == "success")
            .unwrap();
        if let Some(failure) = deployment.statuses.iter().find(|s| s.state == "failure") {
            assert!(failure.description.starts_with("degraded"), "{failure:?}");
            assert_eq!(failure.environment_url, "", "no URL to a broken preview");
        }
        assert_eq!(success.environment_url, URL);
        assert_eq!(
            success.log_url,
            format!("{ARGOCD}/applications/argocd/{APP}")
        );
        assert_eq!(
            deployment.payload["preview_tower"]["issues"],
            Value::from(vec!["NOPE-9", ISSUE])
        );
    }
    let comments = world.comments();
    assert_eq!(comments.len(), 1, "one sticky comment: {comments:#?}");
    insta::assert_snapshot!("closed_pr_comment", comments[0]);
    let texts = world.jira_texts();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[0].contains("preview-tower:ready:acme/web#7"),
        "{texts:?}"
    );
    assert!(texts[0].contains(URL), "{texts:?}");
    assert!(
        texts[1].contains("preview-tower:gone:acme/web#7"),
        "{texts:?}"
    );
}
