//! How long the plugin takes to answer from a loaded snapshot, through the real router (no
//! network): 50 services × 100 PRs = 5,000 previews. Run with
//! `cargo bench --bench plugin_answer` (numbers from this 2-core machine in `docs/benchmarks.md`).
//! The same answers over real HTTP, next to a bare server, with the service's memory and the
//! GitHub budget: `benches/freshness_budget.rs`. Then the previews board on the same 5,000
//! previews: its page, its live part and its JSON, each built per request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};
use chrono::Utc;
use http_body_util::BodyExt;
use secrecy::SecretString;
use tower::ServiceExt;

use preview_tower::cost::meter::SharedMeter;
use preview_tower::fleet::Fleet;
use preview_tower::http::{self, BoardState, PLUGIN_PATH, PluginState};
use preview_tower::lifecycle::{AppSync, Health, Observed, Phase};
use preview_tower::metrics::Metrics;
use preview_tower::naming::ServiceName;
use preview_tower::plan::{PlanInput, PullFacts, plan};
use preview_tower::snapshot::{Snapshot, SnapshotStore};

/// The same fleets and pull requests as `freshness_budget`.
#[allow(dead_code)]
#[path = "freshness_budget/fixture.rs"]
mod fixture;

const SERVICES: usize = 50;
const PULLS: u64 = 100;

fn fleet() -> Fleet {
    Fleet::from_yaml(&fixture::fleet_yaml(SERVICES, "60s")).unwrap_or_else(|e| panic!("{e:?}"))
}

fn facts() -> Vec<PullFacts> {
    fixture::facts(PULLS)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// A plugin request asking `body`.
fn plugin_request(body: &'static str) -> Request<Body> {
    Request::post(PLUGIN_PATH)
        .header(header::AUTHORIZATION, "Bearer bench")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `iterations` answers of `router` to `request()`, each timed from sending to its last byte;
/// the sorted times and the last body's size.
async fn measure(
    router: &axum::Router,
    request: impl Fn() -> Request<Body>,
    iterations: usize,
) -> (Vec<Duration>, usize) {
    let mut times = Vec::with_capacity(iterations);
    let mut bytes = 0;
    for _ in 0..iterations {
        let request = request();
        let what = request.uri().to_string();
        let started = Instant::now();
        let response = router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {});
        assert_eq!(response.status(), 200, "{what}");
        // Every frame read, none copied: a server writes them to the socket as they are.
        let mut body = response.into_body();
        bytes = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame.unwrap_or_else(|e| panic!("{e}"));
            bytes += frame.data_ref().map_or(0, |data| data.len());
        }
        times.push(started.elapsed());
    }
    times.sort();
    (times, bytes)
}

/// One line of a table: `name`, p50, p99, max, body size.
fn print_row(name: &str, times: &[Duration], bytes: usize) {
    println!(
        "{name:<28} {:>10.1?} {:>10.1?} {:>10.1?} {bytes:>12}",
        percentile(times, 0.5),
        percentile(times, 0.99),
        times[times.len() - 1]
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this once as a smoke test.
    let scale = if std::env::args().any(|a| a == "--bench") {
        1
    } else {
        0
    };
    let fleet = Arc::new(fleet());
    let facts = facts();
    let services: BTreeMap<ServiceName, &[PullFacts]> = fleet
        .services
        .iter()
        .map(|s| (s.name.clone(), facts.as_slice()))
        .collect();
    let started = Instant::now();
    let planned = plan(&PlanInput {
        fleet: &fleet,
        services,
        now: Utc::now(),
    });
    let planned_in = started.elapsed();
    let synced = fleet.services.iter().map(|s| s.name.clone()).collect();
    let started = Instant::now();
    let snapshot = Snapshot::build(Arc::clone(&fleet), planned.clone(), synced, 1, None);
    let rendered_in = started.elapsed();
    let synced = fleet.services.iter().map(|s| s.name.clone()).collect();
    let started = Instant::now();
    let again = Snapshot::build(Arc::clone(&fleet), planned, synced, 2, Some(&snapshot));
    let rerendered_in = started.elapsed();
    // One repo refreshed with a push to one of its PRs: only that service is rebuilt.
    let mut pushed = facts.clone();
    std::sync::Arc::make_mut(&mut pushed[0].pr).head_sha = format!("{:040x}", 0xfeed_u64);
    let services: BTreeMap<ServiceName, &[PullFacts]> = fleet
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                s.name.clone(),
                if i == 7 { &pushed[..] } else { &facts[..] },
            )
        })
        .collect();
    let planned = plan(&PlanInput {
        fleet: &fleet,
        services,
        now: Utc::now(),
    });
    let synced = fleet.services.iter().map(|s| s.name.clone()).collect();
    let started = Instant::now();
    let one_changed = Snapshot::build(Arc::clone(&fleet), planned, synced, 3, Some(&again));
    let one_changed_in = started.elapsed();
    drop((again, one_changed));
    let store = Arc::new(SnapshotStore::from_pointee(snapshot));
    let router = http::router(PluginState {
        store: Arc::clone(&store),
        token: Arc::new(SecretString::from("bench")),
        metrics: Arc::new(Metrics::unregistered()),
    });
    println!(
        "{} previews: plan {planned_in:.1?}, render snapshot {rendered_in:.1?}, again unchanged {rerendered_in:.1?}, again with one PR pushed {one_changed_in:.1?}",
        SERVICES as u64 * PULLS
    );
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>12}",
        "query", "p50", "p99", "max", "body bytes"
    );
    let cases: [(&str, &'static str, usize); 3] = [
        (
            "matrix (1 set)",
            r#"{"applicationSetName":"previews","input":{"parameters":{"service":"svc-7","number":"42"}}}"#,
            20_000,
        ),
        (
            "one service (100 sets)",
            r#"{"applicationSetName":"previews","input":{"parameters":{"service":"svc-7"}}}"#,
            20_000,
        ),
        (
            "all services (5,000 sets)",
            r#"{"applicationSetName":"previews","input":{}}"#,
            2_000,
        ),
    ];
    for (name, body, iterations) in cases {
        let request = || plugin_request(body);
        let (times, bytes) = measure(&router, request, (iterations * scale).max(1)).await;
        print_row(name, &times, bytes);
    }
    board(&fleet, &store, scale).await;
}

/// The board's answers for the same snapshot: every preview's Application synced and healthy,
/// a day counted by the meter, the Jira keys of every PR read.
async fn board(fleet: &Arc<Fleet>, store: &Arc<SnapshotStore>, scale: usize) {
    let plan = store.load().plan().clone();
    let observed: Vec<Observed> = plan
        .previews
        .iter()
        .map(|p| Observed {
            name: p.name.clone(),
            sync: AppSync::Synced,
            revision: Some(p.revision.clone()),
            health: Health::Healthy,
            phase: Some(Phase::Succeeded),
            operation_revision: Some(p.revision.clone()),
            message: None,
            deleting: false,
            external_urls: vec![p.url.clone()],
        })
        .collect();
    let meter = SharedMeter::default();
    let now = Utc::now();
    meter
        .lock()
        .accrue(&plan, now - chrono::TimeDelta::days(1), now);
    let observe: http::Observe = Arc::new(move || Some(observed.clone()));
    let router = http::board_router(BoardState {
        fleet: Arc::clone(fleet),
        store: Arc::clone(store),
        observe,
        meter,
        jira_url: Some(
            "https://acme.atlassian.net"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
        ),
        jira_projects: vec![],
        applications_url: None,
    });
    println!("\nthe board, {} previews", plan.previews.len());
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>12}",
        "request", "p50", "p99", "max", "body bytes"
    );
    for (name, uri, iterations) in [
        ("page, every row", "/", 50),
        ("live part, one service", "/fragment?service=svc-7", 200),
        ("JSON, every row", "/api/v1/previews", 50),
    ] {
        let request = || {
            Request::get(uri)
                .body(Body::empty())
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let (times, bytes) = measure(&router, request, (iterations * scale).max(1)).await;
        print_row(name, &times, bytes);
    }
}
