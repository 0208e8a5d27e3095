//! The service's resident memory: the real `preview-tower serve` binary (built by Cargo for
//! this bench, same profile) in its own process, syncing a fleet from the fake GitHub (which
//! runs in this process, on its own runtime) over loopback, then answering load while its
//! refresh loops run.
//! Memory is read from `/proc/<pid>/status`: `VmRSS` (resident now) and `VmHWM` (the peak
//! resident size since the process started, first sync included).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use preview_tower::http::PLUGIN_PATH;
use tokio::runtime::Handle;

use super::fixture;
use super::load::{self, Load, Outcome};
use crate::support::fake_github::{Endpoint, FakeGitHub, sha1_hex};
use crate::support::serve::{Options, Serve, TOKEN};

/// The fleet's refresh interval: the shortest the fleet accepts, so that refreshes happen
/// while the load runs.
const REFRESH: &str = "12s";
const ONE_SERVICE: &str =
    r#"{"applicationSetName":"previews","input":{"parameters":{"service":"svc-7"}}}"#;
const ALL_SERVICES: &str = r#"{"applicationSetName":"previews","input":{}}"#;
const MIB: f64 = 1024.0 * 1024.0;
/// Longest wait for the first sync of every repo (a stuck service, not a slow one).
const READY_DEADLINE: Duration = Duration::from_secs(300);

/// What to run.
#[derive(Clone)]
pub struct Plan {
    /// Services (one repo each).
    pub services: usize,
    /// Open PRs per repo.
    pub pulls: u64,
    /// Concurrent clients of each load phase.
    pub clients: usize,
    /// Length of each of the two load phases (one service, then all services).
    pub phase: Duration,
    /// Where the service's log goes.
    pub log: PathBuf,
    /// `MALLOC_*` settings for the service (glibc's defaults when empty; inherited ones are
    /// dropped either way).
    pub allocator: Vec<(String, String)>,
}

/// What was measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Previews answered after the first sync.
    pub previews: usize,
    /// From the process start to `/readyz` answering 200.
    pub ready_after: Duration,
    /// `VmRSS` once ready, KiB.
    pub rss_ready_kib: u64,
    /// `VmRSS` after the load, KiB.
    pub rss_end_kib: u64,
    /// `VmHWM` after the load, KiB.
    pub hwm_kib: u64,
    /// Repo refreshes the service made while the load ran (counted as its pull-request list
    /// requests: one page per repo).
    pub repo_refreshes_during_load: usize,
    /// The one-service load phase.
    pub one_service: Outcome,
    /// The all-services load phase.
    pub all_services: Outcome,
    /// Sizes of the answers, asked over HTTP after the load: the all-services answer, every
    /// service's, every preview's matrix answer. Only the services' answers are held: the
    /// all-services answer and each preview's full set are slices of them, and a matrix
    /// answer is rendered per request.
    pub answer_bytes: AnswerBytes,
    /// Bytes of the pull-request list pages (one page per repo here), as the fake serves
    /// them. The service keeps the pull requests they decode to with their `ETag`s, not these.
    pub list_page_bytes: usize,
    /// Lines of the service's log that say a refresh failed (a slow fake, a timeout).
    pub refresh_failures: usize,
    /// `MALLOC_*` variables passed to the service.
    pub allocator_env: Vec<String>,
}

/// Sizes of the answers a snapshot holds.
#[derive(Clone, Debug, Default)]
pub struct AnswerBytes {
    /// The all-services answer.
    pub all: usize,
    /// Every service's answer, summed.
    pub services: usize,
    /// Every preview's matrix answer, summed.
    pub matrix: usize,
}

/// Starts the fake GitHub (on `github_runtime`: the fake checks every body it serves against
/// the vendor schemas while holding its lock, which would stall a load generator sharing its
/// runtime) and the service, loads it, reads its memory, stops it.
pub async fn run(binary: &Path, plan: &Plan, github_runtime: &Handle) -> Report {
    let github = github_runtime
        .spawn(FakeGitHub::start())
        .await
        .expect("the fake GitHub starts");
    github.open_labelled_pulls(plan.services, plan.pulls);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let options = Options {
        fleet: fixture::fleet_yaml(plan.services, REFRESH),
        github_url: github.url().to_string(),
        env: plan.allocator.clone(),
        binary: Some(binary.to_owned()),
        log: Some(plan.log.clone()),
        quiet: true,
        ..Options::default()
    };
    let started = Instant::now();
    let mut service = Serve::start(dir.path(), "resident", &options);
    service.wait_ready(READY_DEADLINE).await;
    let ready_after = started.elapsed();
    let listen = service.listen;
    let pid = service.pid();
    let rss_ready_kib = status_kib(pid, "VmRSS");

    let (status, body) = load::fetch(listen, PLUGIN_PATH, ALL_SERVICES, TOKEN).await;
    assert_eq!(status, 200, "the service answers every service once synced");
    let previews = count_sets(&body);

    // A push in every repo: the next refreshes re-render those previews while the load runs.
    for r in 0..plan.services {
        let repo = format!("acme/svc-{r}");
        github.push(
            &repo,
            1,
            &sha1_hex(format!("resident push {repo}").as_bytes()),
        );
    }
    let lists_before = github.count(Endpoint::Pulls);
    let phase = |body| Load {
        addr: listen,
        path: PLUGIN_PATH,
        body,
        token: TOKEN,
        clients: plan.clients,
        warmup: Duration::from_millis(200),
        measure: plan.phase,
    };
    let one_service = load::run(&phase(ONE_SERVICE)).await.outcome();
    let all_services = load::run(&phase(ALL_SERVICES)).await.outcome();
    let repo_refreshes_during_load = github.count(Endpoint::Pulls) - lists_before;
    let report = Report {
        previews,
        ready_after,
        rss_ready_kib,
        rss_end_kib: status_kib(pid, "VmRSS"),
        hwm_kib: status_kib(pid, "VmHWM"),
        repo_refreshes_during_load,
        one_service,
        all_services,
        answer_bytes: answer_bytes(listen, plan).await,
        list_page_bytes: list_page_bytes(&github, plan.services).await,
        refresh_failures: 0,
        allocator_env: plan
            .allocator
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect(),
    };
    drop(service);
    println!(
        "  held by the service: every service's answer once, {:.1} MiB (the all-services answer, \
         {:.1} MiB, and every full set are slices of them; {:.1} MiB of matrix answers are \
         rendered per request); the {} list pages ({:.1} MiB) are kept decoded, not as bodies",
        report.answer_bytes.services as f64 / MIB,
        report.answer_bytes.all as f64 / MIB,
        report.answer_bytes.matrix as f64 / MIB,
        plan.services,
        report.list_page_bytes as f64 / MIB,
    );
    Report {
        refresh_failures: std::fs::read_to_string(&plan.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("refresh failed"))
            .count(),
        ..report
    }
}

async fn answer_bytes(listen: SocketAddr, plan: &Plan) -> AnswerBytes {
    let service = |s: usize| {
        format!(
            r#"{{"applicationSetName":"previews","input":{{"parameters":{{"service":"svc-{s}"}}}}}}"#
        )
    };
    let matrix = |s: usize, n: u64| {
        format!(
            r#"{{"applicationSetName":"previews","input":{{"parameters":{{"service":"svc-{s}","number":"{n}"}}}}}}"#
        )
    };
    let sum = |answers: Vec<(u16, usize)>| {
        assert!(answers.iter().all(|(status, _)| *status == 200));
        answers.iter().map(|(_, len)| len).sum()
    };
    let all = load::fetch_each(listen, PLUGIN_PATH, vec![ALL_SERVICES.to_owned()], TOKEN).await;
    let services = (0..plan.services).map(service).collect();
    let services = load::fetch_each(listen, PLUGIN_PATH, services, TOKEN).await;
    let previews = (0..plan.services)
        .flat_map(|s| (1..=plan.pulls).map(move |n| matrix(s, n)))
        .collect();
    let previews = load::fetch_each(listen, PLUGIN_PATH, previews, TOKEN).await;
    AnswerBytes {
        all: sum(all),
        services: sum(services),
        matrix: sum(previews),
    }
}

/// The first list page of every repo, as the service asks for it.
async fn list_page_bytes(github: &FakeGitHub, repos: usize) -> usize {
    let client = reqwest::Client::new();
    let mut total = 0;
    for r in 0..repos {
        let url = format!(
            "{}/repos/acme/svc-{r}/pulls?state=open&per_page=100",
            github.url().as_str().trim_end_matches('/')
        );
        let page = client
            .get(&url)
            .bearer_auth("ghp_bench")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("the fake lists the pulls");
        total += page.bytes().await.expect("the page").len();
    }
    total
}

/// A `kB` line of `/proc/<pid>/status`.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn count_sets(body: &[u8]) -> usize {
    let answer: serde_json::Value = serde_json::from_slice(body).expect("a JSON answer");
    answer["output"]["parameters"]
        .as_array()
        .map_or(0, Vec::len)
}
