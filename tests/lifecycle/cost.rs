//! The comment's cost line across a restart of preview-tower: the cost meter lives in memory,
//! so the new pod carries the figure the comment shows (read back with the comment) instead of
//! starting from zero, and the comment is not rewritten with a lower figure: its next edit is
//! the figure moving on.

use std::time::Duration;

use chrono::{TimeDelta, Utc};

use preview_tower::jira::rest::Edition;
use preview_tower::lifecycle::money;

use super::support::fake_github::Endpoint;
use super::world::World;
use super::{eventually, last_states, pair};

/// The comment's cost line of `web`, if it has one.
fn cost_line(world: &World) -> Option<String> {
    world
        .comments()
        .iter()
        .flat_map(|c| c.lines().map(str::to_owned).collect::<Vec<_>>())
        .find(|l| l.starts_with("- `web`: "))
}

/// Comments written (created or edited).
fn comment_edits(world: &World) -> usize {
    world
        .github
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::UpdateComment || r.endpoint == Endpoint::CreateComment)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_carries_the_comments_cost_and_rewrites_nothing() {
    let world = World::new(Duration::from_secs(5), Edition::Cloud).await;
    world.sync().await;
    let pod = world.start_pod("pod-1");
    world.argo("Synced", "A", "Healthy", "Succeeded");
    eventually("success", || last_states(&world) == [pair("A", "success")]).await;

    // Three days awake, as the meter would have counted them.
    let plan = world.store.load().plan().clone();
    let preview = plan.previews[0].clone();
    let now = Utc::now();
    pod.meter
        .lock()
        .accrue(&plan, now - TimeDelta::days(3), now);
    let cost = pod
        .meter
        .lock()
        .cost_of(&world.fleet, &preview)
        .expect("a priced preview");
    let line = format!(
        "- `web`: {} so far · {} per day awake (spot)",
        money(cost.shown_so_far(), "USD"),
        money(cost.per_day_awake, "USD")
    );
    assert!(cost.shown_so_far() > 0.0, "{cost:?}");
    eventually("the comment shows the cost", || {
        cost_line(&world).as_deref() == Some(line.as_str())
    })
    .await;
    pod.stop().await;
    let edits = comment_edits(&world);

    // A new pod, with an empty meter: it reads the comment back and carries its figure, exactly
    // (it has counted nothing itself yet).
    let pod = world.start_pod("pod-2");
    eventually("the new pod carries the comment's figure", || {
        pod.meter
            .lock()
            .cost_of(&world.fleet, &preview)
            .is_some_and(|c| c.so_far > 0.0)
    })
    .await;
    let carried = pod
        .meter
        .lock()
        .cost_of(&world.fleet, &preview)
        .expect("priced");
    assert!(
        (carried.so_far - cost.shown_so_far()).abs() < 1e-9,
        "{carried:?} carries {}",
        cost.shown_so_far()
    );
    // Two days awake later, counted by the new pod: the figure moves on from where it was, in one
    // edit (a pod that had not carried it would first have written a lower figure).
    let later = {
        let mut meter = pod.meter.lock();
        let now = Utc::now();
        meter.accrue(&plan, now - TimeDelta::days(2), now);
        meter.cost_of(&world.fleet, &preview).expect("priced")
    };
    assert!(later.shown_so_far() > cost.shown_so_far(), "{later:?}");
    let moved = format!(
        "- `web`: {} so far · {} per day awake (spot)",
        money(later.shown_so_far(), "USD"),
        money(later.per_day_awake, "USD")
    );
    eventually("the comment shows the figure moved on", || {
        cost_line(&world).as_deref() == Some(moved.as_str())
    })
    .await;
    assert_eq!(
        comment_edits(&world),
        edits + 1,
        "one edit after the restart, to the higher figure"
    );
    pod.stop().await;
    world.github.assert_conformant();
}
