//! The soak: the real `preview-tower serve` binary, run as `manifests/deployment.yaml` runs it
//! (its `MALLOC_*` settings, a webhook secret, the Kubernetes API through a kubeconfig), on
//! loopback, answering Argo CD-like plugin calls while it is attacked, for about a minute:
//!
//! - parallel large webhook bodies (20 MiB each, streamed as fast as the socket takes them),
//!   some without a signature, some with a well-formed forged one (those are read, within the
//!   byte budget);
//! - slowloris connections on the webhook port, one header byte every two seconds, far more
//!   than its connection cap;
//! - idle connections that send nothing;
//! - beside them, genuine signed webhook deliveries, a few a second.
//!
//! It reports the plugin's p50/p99/max before and during the attack, whether every plugin call
//! was answered `200`, what became of the genuine deliveries, the refused connections, and the
//! service's peak resident memory (`VmHWM`), against the targets of issue 12: no OOM under the
//! manifest's memory limit, peak below 256 MiB, every plugin call answered, plugin p99 under
//! 50 ms during the attack.
//!
//! Run with `cargo bench --bench soak` (about a minute once built); it prints a table and writes
//! `<target dir>/bench-results/soak.json`. `SOAK_BINARY=<path>` measures another build of
//! `preview-tower` instead (an earlier version: one from before the webhook's own port gets
//! the attack on its plugin port). Without `--bench` (as `cargo test --benches` runs it)
//! it runs for a few seconds at a tiny scale, as a smoke test, and writes nothing. Results:
//! `docs/benchmarks.md`.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "shared/common.rs"]
mod common;

use common::{results_dir, runtime, shipped_allocator};

#[path = "soak/attack.rs"]
mod attack;
#[path = "freshness_budget/fixture.rs"]
#[allow(dead_code)]
mod fixture;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use preview_tower::http::WEBHOOK_PATH;
use support::fake_github::FakeGitHub;
use support::fake_kube::{FakeKube, applicationset};
use support::serve::{Options, Serve, TOKEN};
use support::webhook_payload;

const SECRET: &str = "soak-webhook-secret";
const ONE_SERVICE: &str =
    r#"{"applicationSetName":"previews","input":{"parameters":{"service":"svc-0"}}}"#;

/// What to run.
struct Plan {
    services: usize,
    pulls: u64,
    baseline: Duration,
    attack: Duration,
    plugin_clients: usize,
    unsigned_bodies: usize,
    forged_bodies: usize,
    body_bytes: usize,
    slowloris: usize,
    idle: usize,
    genuine_every: Duration,
}

impl Plan {
    fn full() -> Self {
        Self {
            services: 20,
            pulls: 10,
            baseline: Duration::from_secs(10),
            attack: Duration::from_secs(45),
            plugin_clients: 4,
            unsigned_bodies: 20,
            forged_bodies: 10,
            body_bytes: 20 * 1024 * 1024,
            slowloris: 2_000,
            idle: 500,
            genuine_every: Duration::from_millis(250),
        }
    }

    fn smoke() -> Self {
        Self {
            services: 3,
            pulls: 2,
            baseline: Duration::from_millis(500),
            attack: Duration::from_secs(2),
            plugin_clients: 1,
            unsigned_bodies: 2,
            forged_bodies: 2,
            body_bytes: 2 * 1024 * 1024,
            slowloris: 20,
            idle: 10,
            genuine_every: Duration::from_millis(500),
        }
    }
}

/// Plugin latencies of one phase.
#[derive(Default)]
struct Latencies {
    samples: Vec<Duration>,
    failed: usize,
}

impl Latencies {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let at = ((sorted.len() - 1) as f64 * p).round() as usize;
        sorted[at]
    }

    fn max(&self) -> Duration {
        self.samples.iter().max().copied().unwrap_or_default()
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "calls": self.samples.len() + self.failed,
            "failed": self.failed,
            "p50_ms": ms(self.percentile(0.5)),
            "p99_ms": ms(self.percentile(0.99)),
            "max_ms": ms(self.max()),
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Argo CD: `clients` callers asking for one service's sets, one after the other, until
/// `until`.
async fn plugin_calls(service: &Serve, clients: usize, until: Instant) -> Latencies {
    let url = format!(
        "http://{}{}",
        service.listen,
        preview_tower::http::PLUGIN_PATH
    );
    let callers = (0..clients).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut latencies = Latencies::default();
            while Instant::now() < until {
                let started = Instant::now();
                let answer = http
                    .post(&url)
                    .bearer_auth(TOKEN)
                    .header("content-type", "application/json")
                    .body(ONE_SERVICE)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                let ok = match answer {
                    Ok(answer) if answer.status() == 200 => answer.bytes().await.is_ok(),
                    _ => false,
                };
                if ok {
                    latencies.samples.push(started.elapsed());
                } else {
                    latencies.failed += 1;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            latencies
        })
    });
    let mut all = Latencies::default();
    for caller in futures::future::join_all(callers).await {
        let caller = caller.expect("a caller");
        all.samples.extend(caller.samples);
        all.failed += caller.failed;
    }
    all
}

/// GitHub: genuine signed deliveries every `every` until `until`; `(2xx, 503, other)`.
async fn genuine_deliveries(
    service: &Serve,
    services: usize,
    every: Duration,
    until: Instant,
) -> (usize, usize, usize) {
    let http = reqwest::Client::new();
    let url = format!("http://{}{WEBHOOK_PATH}", service.webhook);
    let (mut ok, mut busy, mut other) = (0, 0, 0);
    let mut n = 0usize;
    while Instant::now() < until {
        let repo = format!("acme/svc-{}", n % services);
        let mut payload = webhook_payload::pull_request("synchronize", &repo, 1);
        payload["pull_request"]["title"] = json!(format!("soak delivery {n}"));
        let body = serde_json::to_vec(&payload).expect("JSON");
        let id = format!("5a0c1f00-0000-4000-8000-{n:012x}");
        let mut request = http.post(&url).body(body.clone());
        for (name, value) in webhook_payload::headers("pull_request", &id, SECRET, &body) {
            request = request.header(name, value);
        }
        match request.timeout(Duration::from_secs(10)).send().await {
            Ok(answer) if answer.status().is_success() => ok += 1,
            Ok(answer) if answer.status() == 503 => busy += 1,
            _ => other += 1,
        }
        n += 1;
        tokio::time::sleep(every).await;
    }
    (ok, busy, other)
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let plan = if measuring {
        Plan::full()
    } else {
        Plan::smoke()
    };
    // The attacker opens thousands of sockets.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let results = results_dir();
    let fakes = runtime("fakes");
    let driver = runtime("driver");
    let load = |when: &str| {
        let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let averages: Vec<&str> = text.split_whitespace().take(3).collect();
        format!("{when}: {}", averages.join(" "))
    };
    let mut loads = vec![load("start")];

    let github = fakes.block_on(FakeGitHub::start());
    github.open_labelled_pulls(plan.services, plan.pulls);
    let kube = fakes.block_on(FakeKube::start());
    kube.put_applicationset(applicationset("previews"));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut env = shipped_allocator();
    env.push(("PREVIEW_TOWER_WEBHOOK_SECRET".into(), SECRET.into()));
    let options = Options {
        fleet: fixture::fleet_yaml_with_webhooks(plan.services, "1h"),
        github_url: github.url().to_string(),
        kubeconfig: Some(kube.kubeconfig()),
        env,
        // `SOAK_BINARY` measures another build (an earlier version, for a before-and-after).
        binary: std::env::var_os("SOAK_BINARY").map(PathBuf::from),
        log: Some(results.join(if measuring {
            "soak-serve.log"
        } else {
            "soak-smoke-serve.log"
        })),
        quiet: true,
    };
    let mut service = Serve::start(dir.path(), "soak", &options);
    driver.block_on(service.wait_ready(Duration::from_secs(300)));

    println!(
        "soak: {} services × {} previews; plugin: {} callers; attack: {} unsigned and {} forged {} MiB bodies, {} slowloris, {} idle connections; genuine deliveries every {} ms",
        plan.services,
        plan.pulls,
        plan.plugin_clients,
        plan.unsigned_bodies,
        plan.forged_bodies,
        plan.body_bytes / (1024 * 1024),
        plan.slowloris,
        plan.idle,
        plan.genuine_every.as_millis()
    );
    let baseline = driver.block_on(plugin_calls(
        &service,
        plan.plugin_clients,
        Instant::now() + plan.baseline,
    ));
    loads.push(load("after the baseline"));

    let until = Instant::now() + plan.attack;
    let attacker = attack::Attack {
        target: service.webhook,
        until,
        unsigned_bodies: plan.unsigned_bodies,
        forged_bodies: plan.forged_bodies,
        body_bytes: plan.body_bytes,
        slowloris: plan.slowloris,
        idle: plan.idle,
    };
    let attacked = driver.spawn(attacker.run());
    let (during, genuine) = driver.block_on(async {
        tokio::join!(
            plugin_calls(&service, plan.plugin_clients, until),
            genuine_deliveries(&service, plan.services, plan.genuine_every, until),
        )
    });
    let attack = driver.block_on(attacked).expect("the attack ran");
    loads.push(load("after the attack"));
    service.assert_running();
    let peak_kib = status_kib(service.pid(), "VmHWM");
    let refused = driver.block_on(
        service.metric(r#"preview_tower_http_connections_refused_total{listener="webhook"}"#),
    );

    let peak_mib = peak_kib / 1024.0;
    println!("\nplugin (one service's sets)    calls  failed   p50 ms   p99 ms   max ms");
    for (name, l) in [
        ("before the attack", &baseline),
        ("during the attack", &during),
    ] {
        println!(
            "  {name:<27} {:>6}  {:>6}  {:>7.2}  {:>7.2}  {:>7.2}",
            l.samples.len() + l.failed,
            l.failed,
            ms(l.percentile(0.5)),
            ms(l.percentile(0.99)),
            ms(l.max())
        );
    }
    println!(
        "genuine deliveries: {} answered 2xx, {} refused 503 (byte budget), {} otherwise",
        genuine.0, genuine.1, genuine.2
    );
    println!(
        "attack: {} body requests ({} refused before being read), {} slowloris and {} idle connections opened; {refused} connections refused by the webhook port's cap",
        attack.body_requests,
        attack.bodies_refused_early,
        attack.slowloris_opened,
        attack.idle_opened
    );
    println!("peak resident memory (VmHWM): {peak_mib:.1} MiB");
    println!("\nLoad average (1, 5, 15 min) of the machine, other processes included");
    for line in &loads {
        println!("  {line}");
    }
    let targets = [
        ("peak below 256 MiB", peak_mib < 256.0),
        (
            "every plugin call answered 200",
            baseline.failed == 0 && during.failed == 0,
        ),
        (
            "plugin p99 under 50 ms during the attack",
            during.percentile(0.99) < Duration::from_millis(50),
        ),
    ];
    println!(
        "\nTargets (issue 12){}",
        if measuring { "" } else { ": smoke scale" }
    );
    for (name, met) in targets {
        println!("  {:<44} {}", name, if met { "met" } else { "MISSED" });
    }
    if measuring {
        let json = json!({
            "load": loads,
            "baseline": baseline.json(),
            "attack": during.json(),
            "genuine_deliveries": {"ok": genuine.0, "busy": genuine.1, "other": genuine.2},
            "attacker": {
                "body_requests": attack.body_requests,
                "bodies_refused_early": attack.bodies_refused_early,
                "slowloris_opened": attack.slowloris_opened,
                "idle_opened": attack.idle_opened,
            },
            "connections_refused": refused,
            "peak_mib": peak_mib,
            "targets": targets.iter().map(|(n, m)| json!({"target": n, "met": m})).collect::<Vec<_>>(),
        });
        let path = results.join("soak.json");
        std::fs::write(&path, serde_json::to_string_pretty(&json).expect("JSON"))
            .expect("write the results");
        println!("\nwritten: {}", path.display());
    }
}

/// A `kB` line of `/proc/<pid>/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0)
}
