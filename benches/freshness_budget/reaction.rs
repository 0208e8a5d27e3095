//! The reaction time: from a signed `pull_request` webhook sent to the real `preview-tower
//! serve` binary (its own process, same profile) to the ApplicationSet refresh patch arriving
//! at the fake Kubernetes API server.
//!
//! The service polls GitHub once an hour (`refresh_interval_with_webhooks: 1h`), so only the
//! webhook can cause a refresh; it reaches the fake Kubernetes API through a kubeconfig
//! (`KUBECONFIG`), as it would reach a cluster. Each delivery pushes a new head SHA to one PR of
//! the fake GitHub, then posts the signed `synchronize` delivery and waits for the patch. The
//! time is taken in this process from just before the POST is sent to the patch's arrival as the
//! fake recorded it (`PatchRecord::arrived`, same clock), so how often this side looks does not
//! matter. Deliveries go one at a time, round-robin over the repos and PRs.
//!
//! A second, shorter pass polls the plugin answer of the pushed PR every millisecond (an upper
//! bound, and load on the service) to see when the new parameters are served; the main pass
//! checks them once, after the patch.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use preview_tower::argocd::refresh::REFRESH_ANNOTATION;
use preview_tower::http::{PLUGIN_PATH, WEBHOOK_PATH};
use tokio::runtime::Handle;

use super::fixture;
use crate::support::fake_github::{Endpoint, FakeGitHub, FakePull, sha1_hex};
use crate::support::fake_kube::{FakeKube, PatchRecord, applicationset};
use crate::support::serve::{Options, Serve, TOKEN};
use crate::support::webhook_payload;

const SECRET: &str = "whsec-bench-reaction";
/// Longest wait for one patch before the bench gives up (a stuck service, not a slow one).
const PATCH_DEADLINE: Duration = Duration::from_secs(30);
/// Longest wait for the first sync of every repo.
const READY_DEADLINE: Duration = Duration::from_secs(300);

/// What to run.
#[derive(Clone)]
pub struct Plan {
    /// Services (one repo each).
    pub services: usize,
    /// Open PRs per repo.
    pub pulls: u64,
    /// Deliveries timed in the main pass.
    pub deliveries: usize,
    /// Deliveries of the pass that also polls the plugin answer.
    pub watched_deliveries: usize,
    /// Deliveries sent first and not counted.
    pub warmup: usize,
    /// Pause between one delivery's patch and the next delivery.
    pub gap: Duration,
    /// Where the service's log goes.
    pub log: PathBuf,
}

/// Percentiles of one measured interval.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let at = |p: f64| {
            if samples.is_empty() {
                return Duration::ZERO;
            }
            let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
            samples[index.min(samples.len() - 1)]
        };
        Self {
            count: samples.len(),
            p50: at(0.50),
            p99: at(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

/// What was measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Previews served (services × PRs).
    pub previews: usize,
    /// POST sent → the webhook's answer read (main pass).
    pub answered: Stats,
    /// POST sent → the refresh patch arrived at the fake Kubernetes API (main pass): the result.
    pub patched: Stats,
    /// Second pass: POST sent → the first plugin answer carrying the new head SHA.
    pub watched_params: Stats,
    /// Second pass: POST sent → the patch, with the plugin polled meanwhile.
    pub watched_patched: Stats,
    /// The service's own poke → patch answered (`preview_tower_freshness_poke_to_patch`), mean
    /// over every delivery, warm-up included.
    pub service_poke_to_patch_mean: Duration,
    /// The fake GitHub answering one repo's pull-request page (changed, so a full 200 with its
    /// schema check), asked from this process: the fake's share of each refresh.
    pub fake_list_page: Stats,
    /// Refresh patches received in all, and how many were not answered 200.
    pub patches: usize,
    /// Patches answered other than 200.
    pub patch_failures: usize,
    /// Pull-request list requests the service made during the timed deliveries, per delivery
    /// (1 means each delivery refreshed its repo only, and no poll ran).
    pub lists_per_delivery: f64,
    /// Log lines of the service that say a refresh failed.
    pub refresh_failures: usize,
}

/// The fakes and the service, ready.
struct World {
    github: FakeGitHub,
    kube: FakeKube,
    service: Serve,
    listen: SocketAddr,
    webhook: SocketAddr,
    admin: SocketAddr,
    http: reqwest::Client,
    /// Deliveries sent so far (for delivery ids and new SHAs).
    sent: usize,
    _dir: tempfile::TempDir,
}

/// Starts the fakes (on `fakes`: the fake GitHub checks each body against the schemas under its
/// lock, which would stall a driver sharing its runtime), the service, runs both passes.
pub async fn run(binary: &Path, plan: &Plan, fakes: &Handle) -> Report {
    let mut world = World::start(binary, plan, fakes).await;
    for _ in 0..plan.warmup {
        world.deliver(plan, false).await;
    }
    let lists_before = world.github.count(Endpoint::Pulls);
    let patches_before = world.kube.applicationset_patches().len();
    let mut answered = Vec::with_capacity(plan.deliveries);
    let mut patched = Vec::with_capacity(plan.deliveries);
    for _ in 0..plan.deliveries {
        let timed = world.deliver(plan, false).await;
        answered.push(timed.answered);
        patched.push(timed.patched);
    }
    let lists = world.github.count(Endpoint::Pulls) - lists_before;
    let timed_patches = world.kube.applicationset_patches().len() - patches_before;
    assert_eq!(
        timed_patches,
        plan.deliveries,
        "one refresh patch per delivery; see {}",
        plan.log.display()
    );
    let mut watched_params = Vec::new();
    let mut watched_patched = Vec::new();
    for _ in 0..plan.watched_deliveries {
        let timed = world.deliver(plan, true).await;
        watched_params.extend(timed.params);
        watched_patched.push(timed.patched);
    }
    let all_patches = world.kube.applicationset_patches();
    let report = Report {
        previews: plan.services * plan.pulls as usize,
        answered: Stats::of(answered),
        patched: Stats::of(patched),
        watched_params: Stats::of(watched_params),
        watched_patched: Stats::of(watched_patched),
        service_poke_to_patch_mean: world.poke_to_patch_mean().await,
        fake_list_page: world.fake_list_page(plan).await,
        patches: all_patches.len(),
        patch_failures: all_patches.iter().filter(|p| p.status != 200).count(),
        lists_per_delivery: lists as f64 / plan.deliveries.max(1) as f64,
        refresh_failures: 0,
    };
    drop(world);
    Report {
        refresh_failures: std::fs::read_to_string(&plan.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("refresh") && line.contains("failed"))
            .count(),
        ..report
    }
}

/// One delivery's times, from just before the POST was sent.
struct Timed {
    answered: Duration,
    patched: Duration,
    params: Option<Duration>,
}

impl World {
    async fn start(binary: &Path, plan: &Plan, fakes: &Handle) -> Self {
        let github = fakes
            .spawn(FakeGitHub::start())
            .await
            .expect("the fake GitHub starts");
        for r in 0..plan.services {
            let repo = format!("acme/svc-{r}");
            github.add_repo(&repo);
            for number in 1..=plan.pulls {
                github.open_pull(&repo, FakePull::new(number).labels(&["preview"]));
            }
        }
        let kube = fakes
            .spawn(FakeKube::start())
            .await
            .expect("the fake Kubernetes API starts");
        kube.put_applicationset(applicationset("previews"));

        let dir = tempfile::tempdir().expect("a temporary directory");
        let options = Options {
            fleet: fixture::fleet_yaml_with_webhooks(plan.services, "1h"),
            github_url: github.url().to_string(),
            kubeconfig: Some(kube.kubeconfig()),
            env: vec![("PREVIEW_TOWER_WEBHOOK_SECRET".to_owned(), SECRET.to_owned())],
            binary: Some(binary.to_owned()),
            log: Some(plan.log.clone()),
            quiet: true,
        };
        let mut service = Serve::start(dir.path(), "reaction", &options);
        service.wait_ready(READY_DEADLINE).await;
        let (listen, webhook, admin) = (service.listen, service.webhook, service.admin);
        Self {
            github,
            kube,
            service,
            listen,
            webhook,
            admin,
            http: reqwest::Client::new(),
            sent: 0,
            _dir: dir,
        }
    }

    /// Pushes to the next PR, delivers its `synchronize`, waits for the patch; with `watch`,
    /// polls the PR's plugin answer meanwhile.
    async fn deliver(&mut self, plan: &Plan, watch: bool) -> Timed {
        let n = self.sent;
        self.sent += 1;
        let service = n % plan.services;
        let number = 1 + (n / plan.services) as u64 % plan.pulls;
        let repo = format!("acme/svc-{service}");
        let sha = sha1_hex(format!("reaction push {n}").as_bytes());
        // As GitHub's: each push's delivery names its new head (two bodies are never equal).
        let mut payload = webhook_payload::pull_request("synchronize", &repo, number);
        payload["pull_request"]["head"]["sha"] = serde_json::json!(sha);
        payload["after"] = serde_json::json!(sha);
        let body = serde_json::to_vec(&payload).expect("JSON");
        let id = format!("72d3162e-cc78-11e3-81ab-{n:012x}");
        let headers = webhook_payload::headers("pull_request", &id, SECRET, &body);
        let before = self.kube.applicationset_patches().len();
        self.github.push(&repo, number, &sha);

        let mut request = self
            .http
            .post(format!("http://{}{WEBHOOK_PATH}", self.webhook))
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let sent = Instant::now();
        let answer = request
            .send()
            .await
            .expect("the service answers the webhook");
        let status = answer.status();
        let _ = answer.bytes().await;
        let answered = sent.elapsed();
        assert_eq!(status, 202, "the delivery is accepted");

        let params = if watch {
            Some(self.await_params(service, number, &sha, sent).await)
        } else {
            None
        };
        let patch = self.await_patch(before).await;
        assert!(
            patch.patch["metadata"]["annotations"][REFRESH_ANNOTATION].is_string(),
            "a refresh patch: {:?}",
            patch.patch
        );
        let patched = patch.arrived.saturating_duration_since(sent);
        if !watch {
            // Once patched, the new parameters must be served.
            let body = self.params(service, number).await;
            assert!(
                body.contains(&sha),
                "patched, yet the plugin serves the old head"
            );
        }
        tokio::time::sleep(plan.gap).await;
        Timed {
            answered,
            patched,
            params,
        }
    }

    async fn await_patch(&mut self, before: usize) -> PatchRecord {
        let deadline = Instant::now() + PATCH_DEADLINE;
        loop {
            if let Some(patch) = self.kube.applicationset_patches().get(before) {
                return patch.clone();
            }
            self.service.assert_running();
            assert!(
                Instant::now() < deadline,
                "no refresh patch {} s after the webhook",
                PATCH_DEADLINE.as_secs()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    async fn await_params(
        &self,
        service: usize,
        number: u64,
        sha: &str,
        sent: Instant,
    ) -> Duration {
        let deadline = Instant::now() + PATCH_DEADLINE;
        loop {
            if self.params(service, number).await.contains(sha) {
                return sent.elapsed();
            }
            assert!(Instant::now() < deadline, "new parameters never served");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// The plugin's answer for one preview (its matrix question).
    async fn params(&self, service: usize, number: u64) -> String {
        let question = format!(
            r#"{{"applicationSetName":"previews","input":{{"parameters":{{"service":"svc-{service}","number":"{number}"}}}}}}"#
        );
        let answer = self
            .http
            .post(format!("http://{}{PLUGIN_PATH}", self.listen))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(question)
            .send()
            .await
            .expect("the plugin answers");
        assert_eq!(answer.status(), 200, "the plugin answers 200");
        answer.text().await.expect("the answer")
    }

    /// The mean of the service's own poke-to-patch histogram, from its `/metrics`.
    async fn poke_to_patch_mean(&self) -> Duration {
        let text = self
            .http
            .get(format!("http://{}/metrics", self.admin))
            .send()
            .await
            .expect("the admin port answers")
            .text()
            .await
            .expect("the metrics");
        let value = |suffix: &str| {
            text.lines()
                .find_map(|line| {
                    let rest = line.strip_prefix("preview_tower_freshness_poke_to_patch")?;
                    let rest = rest.strip_prefix(suffix)?;
                    rest.rsplit(' ').next()?.parse::<f64>().ok()
                })
                .unwrap_or(0.0)
        };
        let (sum, count) = (value("_seconds_sum"), value("_seconds_count"));
        let (sum, count) = if count > 0.0 {
            (sum, count)
        } else {
            (value("_sum"), value("_count"))
        };
        if count > 0.0 {
            Duration::from_secs_f64(sum / count)
        } else {
            Duration::ZERO
        }
    }

    /// The fake's time to answer one repo's (changed) list page in full, 20 times.
    async fn fake_list_page(&self, plan: &Plan) -> Stats {
        let mut times = Vec::new();
        for i in 0..20 {
            let url = format!(
                "{}/repos/acme/svc-{}/pulls?state=open&per_page=100",
                self.github.url().as_str().trim_end_matches('/'),
                i % plan.services
            );
            let started = Instant::now();
            let page = self
                .http
                .get(&url)
                .bearer_auth("ghp_bench")
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .expect("the fake lists the pulls");
            let _ = page.bytes().await.expect("the page");
            times.push(started.elapsed());
        }
        Stats::of(times)
    }
}
