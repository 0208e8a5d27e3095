//! GitHub's rate-limit budget: the real `Syncer` and the real octocrab adapter
//! (`GitHubSource`) refreshing every repo of the fleet against the fake GitHub over HTTP, and
//! the request pattern of Argo CD's pull-request generator replayed against the same fake.
//!
//! "Counted" is what the fake charges to the rate limit, as GitHub does: every answer except a
//! `304 Not Modified` to a conditional request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::metrics::Metrics;
use preview_tower::snapshot::{Snapshot, SnapshotStore};
use preview_tower::sync::Syncer;

use super::fixture;
use crate::support::fake_github::{FakeGitHub, FakePull, sha1_hex};

/// Polls per hour at a 30 s interval.
pub const CYCLES_PER_HOUR: u64 = 120;
const GITHUB_TOKEN: &str = "ghp_bench";

/// What to run.
pub struct Plan {
    /// Repositories (one service each).
    pub repos: usize,
    /// Open PRs per repository.
    pub pulls: u64,
    /// Refresh cycles of an unchanged fleet.
    pub unchanged_cycles: usize,
    /// For each entry N, a cycle after N PRs (in N different repos, as far as there are
    /// repos) got a push.
    pub pushes: Vec<usize>,
}

/// One refresh of every repo.
#[derive(Clone, Debug)]
pub struct Cycle {
    /// What happened before it.
    pub name: String,
    /// PRs pushed before the cycle.
    pub pushed: usize,
    /// Requests charged to the rate limit.
    pub counted: u64,
    /// Every request, `304`s included.
    pub requests: usize,
    /// How long the refresh of every repo took.
    pub wall: Duration,
}

/// The whole section.
#[derive(Clone, Debug)]
pub struct Report {
    /// preview-tower's cycles, in order.
    pub cycles: Vec<Cycle>,
    /// One requeue of Argo CD's pull-request generator per repo, replayed.
    pub argo: Cycle,
    /// Pages of the PR list per repo in the Argo CD model (`ceil(pulls / 100)`).
    pub argo_pages_per_repo: u64,
}

/// Runs the refresh cycles, then the Argo CD replay.
pub async fn run(plan: &Plan) -> Report {
    let github = FakeGitHub::start().await;
    for r in 0..plan.repos {
        let repo = repo_name(r);
        github.add_repo(&repo);
        for number in 1..=plan.pulls {
            github.open_pull(&repo, FakePull::new(number).labels(&["preview"]));
        }
    }
    let fleet = fixture::fleet(plan.repos);
    let source = GitHubSource::new(
        github.url(),
        Credentials::token(GITHUB_TOKEN).expect("a valid token"),
        Duration::from_secs(10),
    )
    .expect("the GitHub client");
    let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
        &fleet,
    ))));
    let syncer = Syncer::new(
        fleet,
        Arc::new(source),
        store,
        Arc::new(Metrics::unregistered()),
    );

    let mut cycles = vec![cycle(&github, "first refresh (cold)", 0, &syncer).await];
    for i in 1..=plan.unchanged_cycles {
        cycles.push(cycle(&github, &format!("unchanged #{i}"), 0, &syncer).await);
    }
    for (round, &pushed) in plan.pushes.iter().enumerate() {
        for i in 0..pushed {
            let repo = repo_name(i % plan.repos);
            let number = 1 + (i / plan.repos) as u64 % plan.pulls;
            let sha = sha1_hex(format!("push {round} to {repo}#{number}").as_bytes());
            github.push(&repo, number, &sha);
        }
        let name = format!("{pushed} PRs pushed");
        cycles.push(cycle(&github, &name, pushed, &syncer).await);
        cycles.push(cycle(&github, "unchanged again", 0, &syncer).await);
    }
    let argo = argo_requeue(&github, plan.repos).await;
    Report {
        cycles,
        argo,
        argo_pages_per_repo: plan.pulls.div_ceil(100).max(1),
    }
}

fn repo_name(index: usize) -> String {
    format!("acme/svc-{index}")
}

async fn cycle(github: &FakeGitHub, name: &str, pushed: usize, syncer: &Syncer) -> Cycle {
    let (used, seen) = (github.rate_limit_used(), github.requests().len());
    let started = Instant::now();
    syncer
        .refresh_all()
        .await
        .unwrap_or_else(|e| panic!("refresh `{name}` failed: {e}"));
    let wall = started.elapsed();
    let cycle = Cycle {
        name: name.to_owned(),
        pushed,
        counted: github.rate_limit_used() - used,
        requests: github.requests().len() - seen,
        wall,
    };
    super::report::print_cycle(&cycle);
    cycle
}

/// One requeue of a `pullRequest` generator per repo, as Argo CD's `GithubService.List`
/// (`applicationset/services/pull_request/github.go`) makes it: `GET
/// /repos/{owner}/{repo}/pulls?per_page=100`, following `Link: rel="next"` until the last
/// page, from a client built for this requeue, so without `If-None-Match`.
async fn argo_requeue(github: &FakeGitHub, repos: usize) -> Cycle {
    let client = reqwest::Client::new();
    let (used, seen) = (github.rate_limit_used(), github.requests().len());
    let started = Instant::now();
    for r in 0..repos {
        let mut next = Some(format!(
            "{}/repos/{}/pulls?per_page=100",
            github.url().as_str().trim_end_matches('/'),
            repo_name(r)
        ));
        while let Some(url) = next.take() {
            let response = client
                .get(&url)
                .bearer_auth(GITHUB_TOKEN)
                .header("accept", "application/vnd.github+json")
                .header("user-agent", "argocd-applicationset-model")
                .send()
                .await
                .expect("the fake answers");
            assert!(
                response.status().is_success(),
                "{url}: {}",
                response.status()
            );
            next = next_link(response.headers());
            let _page = response.bytes().await.expect("the page");
        }
    }
    let cycle = Cycle {
        name: "Argo CD pullRequest generator, one requeue".to_owned(),
        pushed: 0,
        counted: github.rate_limit_used() - used,
        requests: github.requests().len() - seen,
        wall: started.elapsed(),
    };
    super::report::print_cycle(&cycle);
    cycle
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains(r#"rel="next""#).then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}
