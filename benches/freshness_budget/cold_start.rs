//! The cold start at scale, REST-only against GraphQL bulk reads, in one run: the real
//! `Syncer` and `GitHubSource` against two fake GitHubs of the same world (every PR labelled,
//! a repo config file and a successful build check at every head), each answer delayed as
//! GitHub's are (REST and GraphQL latencies set apart). Then, with GraphQL, what a push and an
//! unchanged refresh cost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use preview_tower::fleet::Fleet;
use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::{GitHubSource, GraphqlMode};
use preview_tower::metrics::Metrics;
use preview_tower::snapshot::{Snapshot, SnapshotStore};
use preview_tower::sync::Syncer;

use super::fixture;
use crate::support::fake_github::{Endpoint, FakeGitHub, FakePull, sha1_hex};

/// The check every service's image is built by.
const CHECK: &str = "preview-ready";

/// What to run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Repositories (one service each).
    pub repos: usize,
    /// Labelled PRs per repository.
    pub pulls: u64,
    /// Each REST answer's latency.
    pub rest_latency: Duration,
    /// Each GraphQL answer's latency.
    pub graphql_latency: Duration,
}

/// One cold start.
#[derive(Clone, Debug)]
pub struct Start {
    /// `REST only` or `GraphQL`.
    pub mode: &'static str,
    /// REST requests charged to the rate limit.
    pub counted: u64,
    /// GraphQL queries sent.
    pub queries: usize,
    /// GraphQL points charged.
    pub points: u64,
    /// Until every service answered.
    pub wall: Duration,
    /// Services answering after it.
    pub answering: usize,
}

/// A cycle after the cold start (GraphQL mode).
#[derive(Clone, Debug)]
pub struct After {
    /// What happened before it.
    pub name: String,
    /// REST requests counted.
    pub counted: u64,
    /// GraphQL points charged.
    pub points: u64,
    /// GraphQL queries sent.
    pub queries: usize,
}

/// The section.
#[derive(Clone, Debug)]
pub struct Report {
    /// The plan it ran.
    pub plan: Plan,
    /// REST-only, then GraphQL.
    pub starts: Vec<Start>,
    /// GraphQL mode, after its cold start.
    pub after: Vec<After>,
}

/// Runs both cold starts, then the cycles after the GraphQL one.
pub async fn run(plan: &Plan) -> Report {
    let fleet = fleet(plan.repos);
    let mut starts = Vec::new();
    let rest = world(plan).await;
    let (start, ..) = cold_start(&rest, &fleet, GraphqlMode::Off, "REST only").await;
    super::report::print_start(&start);
    starts.push(start);
    drop(rest);
    let github = world(plan).await;
    let (start, syncer, clock) =
        cold_start(&github, &fleet, GraphqlMode::On(None), "GraphQL").await;
    super::report::print_start(&start);
    starts.push(start);
    let mut after = vec![cycle(&github, &syncer, "unchanged").await];
    let sha = sha1_hex(b"a push to acme/svc-0#1");
    github.push("acme/svc-0", 1, &sha);
    github.put_file("acme/svc-0", &sha, ".preview.yaml", "ttl: 2d\n");
    github.set_check_run("acme/svc-0", &sha, CHECK, "completed", Some("success"));
    after.push(cycle(&github, &syncer, "one PR pushed (built)").await);
    after.push(cycle(&github, &syncer, "unchanged again").await);
    // A read sent within a minute of the push is read once more when it can settle (a
    // comment in the same second would not have moved `updated_at`).
    advance(&github, &clock, chrono::Duration::minutes(2));
    after.push(cycle(&github, &syncer, "two minutes later (settling read)").await);
    after.push(cycle(&github, &syncer, "unchanged after it").await);
    for cycle in &after {
        super::report::print_after(cycle);
    }
    Report {
        plan: plan.clone(),
        starts,
        after,
    }
}

fn fleet(repos: usize) -> Arc<Fleet> {
    let yaml = fixture::fleet_yaml(repos, "30s").replace(
        "staging_url: https://",
        &format!("overrides:\n      build_check: {CHECK}\n    staging_url: https://"),
    );
    Arc::new(Fleet::from_yaml(&yaml).unwrap_or_else(|e| panic!("the fleet: {e:?}")))
}

/// `repos` × `pulls` labelled PRs, each head with a repo config file and a built check.
async fn world(plan: &Plan) -> FakeGitHub {
    let github = FakeGitHub::start().await;
    for r in 0..plan.repos {
        let repo = format!("acme/svc-{r}");
        github.add_repo(&repo);
        for number in 1..=plan.pulls {
            let pull = FakePull::new(number).labels(&["preview"]);
            let sha = pull.head_sha.clone();
            github.open_pull(&repo, pull);
            github.put_file(&repo, &sha, ".preview.yaml", "ttl: 2d\n");
            github.set_check_run(&repo, &sha, CHECK, "completed", Some("success"));
        }
    }
    github.set_latency(plan.rest_latency, plan.graphql_latency);
    // The PRs were last updated an hour before the start, as at a rollout: their activity
    // reads are settled at once.
    github.advance_clock(chrono::Duration::hours(1));
    github
}

/// The sync's clock: the machine's, plus what [`advance`] added (an hour to start with, as the
/// fake GitHub's).
type Offset = Arc<std::sync::Mutex<chrono::Duration>>;

fn advance(github: &FakeGitHub, clock: &Offset, by: chrono::Duration) {
    *clock.lock().expect("the clock") += by;
    github.advance_clock(by);
}

async fn cold_start(
    github: &FakeGitHub,
    fleet: &Arc<Fleet>,
    mode: GraphqlMode,
    name: &'static str,
) -> (Start, Syncer, Offset) {
    let source = GitHubSource::new(
        github.url(),
        Credentials::token("ghp_bench").expect("a valid token"),
        Duration::from_secs(30),
    )
    .and_then(|s| s.with_graphql(mode))
    .expect("the GitHub client");
    let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
        fleet,
    ))));
    let offset: Offset = Arc::new(std::sync::Mutex::new(chrono::Duration::hours(1)));
    let read = Arc::clone(&offset);
    let syncer = Syncer::new(
        Arc::clone(fleet),
        Arc::new(source),
        Arc::clone(&store),
        Arc::new(Metrics::unregistered()),
    )
    .with_clock(Arc::new(move || {
        chrono::Utc::now() + *read.lock().expect("the clock")
    }));
    let started = Instant::now();
    syncer
        .refresh_all()
        .await
        .unwrap_or_else(|e| panic!("the cold start ({name}) failed: {e}"));
    let wall = started.elapsed();
    let snapshot = store.load();
    let answering = fleet
        .services
        .iter()
        .filter(|s| snapshot.answers(&s.name))
        .count();
    let start = Start {
        mode: name,
        counted: github.rate_limit_used(),
        queries: github.count(Endpoint::Graphql),
        points: github.graphql_points(),
        wall,
        answering,
    };
    (start, syncer, offset)
}

async fn cycle(github: &FakeGitHub, syncer: &Syncer, name: &str) -> After {
    let (used, points, queries) = (
        github.rate_limit_used(),
        github.graphql_points(),
        github.count(Endpoint::Graphql),
    );
    syncer
        .refresh_all()
        .await
        .unwrap_or_else(|e| panic!("refresh `{name}` failed: {e}"));
    After {
        name: name.to_owned(),
        counted: github.rate_limit_used() - used,
        points: github.graphql_points() - points,
        queries: github.count(Endpoint::Graphql) - queries,
    }
}
