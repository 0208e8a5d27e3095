//! The freshness and efficiency benchmark of issue 5, over real HTTP on loopback:
//!
//! 1. plugin answers (p50/p99, throughput) of the real router at 50, 500 and 5,000 previews,
//!    next to a bare axum server answering the same pre-rendered bytes (the physical limit),
//!    under the same load generator; and the resident memory of the real `preview-tower serve`
//!    binary at 5,000 previews, synced from the fake GitHub;
//! 2. GitHub's rate-limit budget: the real sync and octocrab adapter refreshing 50 repos × 20
//!    open PRs on the fake GitHub, unchanged and after pushes, next to the request pattern of
//!    Argo CD's pull-request generator replayed on the same fake; and the cold start at 50 repos
//!    × 100 labelled PRs (build check, repo config files) REST-only next to GraphQL bulk reads,
//!    with GitHub-like latencies, then what a push costs with GraphQL;
//! 3. the reaction time: a signed `pull_request` webhook sent to the real `preview-tower serve`
//!    binary (50 repos × 20 open PRs, polling once an hour) until the ApplicationSet refresh
//!    patch arrives at the fake Kubernetes API, which it reaches through a kubeconfig;
//!    p50/p99/max over 200 deliveries, each after a push to the fake GitHub.
//!
//! Run with `cargo bench --bench freshness_budget` (about four minutes once built); it prints
//! tables and writes `<target dir>/bench-results/freshness_budget.json`. Without `--bench` (as
//! `cargo test --benches` runs it) every part runs once at a tiny size, as a smoke test, and
//! nothing is written. Results and the Argo CD model: `docs/benchmarks.md`.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "shared/common.rs"]
mod common;

use common::{results_dir, runtime, shipped_allocator};

#[path = "freshness_budget/answers.rs"]
mod answers;
#[path = "freshness_budget/budget.rs"]
mod budget;
#[path = "freshness_budget/cold_start.rs"]
mod cold_start;
#[path = "freshness_budget/fixture.rs"]
mod fixture;
#[path = "freshness_budget/load.rs"]
mod load;
#[path = "freshness_budget/reaction.rs"]
mod reaction;
#[path = "freshness_budget/report.rs"]
mod report;
#[path = "freshness_budget/resident.rs"]
mod resident;
#[path = "freshness_budget/targets.rs"]
mod targets;

use std::path::PathBuf;
use std::time::Duration;

/// Everything to run, at one scale.
struct Scale {
    answers: answers::Plan,
    resident: resident::Plan,
    budget: budget::Plan,
    cold_start: cold_start::Plan,
    reaction: reaction::Plan,
}

impl Scale {
    /// What `cargo bench` measures.
    fn full(results: &std::path::Path) -> Self {
        Self {
            answers: answers::Plan {
                services: 50,
                pulls: vec![1, 10, 100],
                clients: vec![1, 16, 64],
                rounds: 3,
                warmup: Duration::from_millis(300),
                measure: Duration::from_secs(1),
            },
            resident: resident::Plan {
                services: 50,
                pulls: 100,
                clients: 16,
                phase: Duration::from_secs(6),
                log: results.join("freshness_budget-serve.log"),
                allocator: Vec::new(),
            },
            budget: budget::Plan {
                repos: 50,
                pulls: 20,
                unchanged_cycles: 3,
                pushes: vec![1, 10, 50],
            },
            cold_start: cold_start::Plan {
                repos: 50,
                pulls: 100,
                rest_latency: Duration::from_millis(50),
                graphql_latency: Duration::from_millis(300),
            },
            reaction: reaction::Plan {
                services: 50,
                pulls: 20,
                deliveries: 200,
                watched_deliveries: 50,
                warmup: 10,
                gap: Duration::from_millis(20),
                log: results.join("freshness_budget-reaction-serve.log"),
            },
        }
    }

    /// A smoke test: every part once, tiny.
    fn smoke(results: &std::path::Path) -> Self {
        Self {
            answers: answers::Plan {
                services: 10,
                pulls: vec![2],
                clients: vec![2],
                rounds: 1,
                warmup: Duration::from_millis(20),
                measure: Duration::from_millis(100),
            },
            resident: resident::Plan {
                services: 10,
                pulls: 2,
                clients: 2,
                phase: Duration::from_millis(100),
                log: results.join("freshness_budget-smoke-serve.log"),
                allocator: Vec::new(),
            },
            budget: budget::Plan {
                repos: 2,
                pulls: 3,
                unchanged_cycles: 1,
                pushes: vec![1],
            },
            cold_start: cold_start::Plan {
                repos: 2,
                pulls: 3,
                rest_latency: Duration::from_millis(5),
                graphql_latency: Duration::from_millis(30),
            },
            reaction: reaction::Plan {
                services: 2,
                pulls: 2,
                deliveries: 3,
                watched_deliveries: 1,
                warmup: 1,
                gap: Duration::ZERO,
                log: results.join("freshness_budget-smoke-reaction-serve.log"),
            },
        }
    }
}

/// Which parts to run: the names given after `--bench` (`answers`, `resident`, `budget`, `coldstart`,
/// `reaction`), or every part. The JSON is written only when every part ran.
struct Parts {
    answers: bool,
    resident: bool,
    budget: bool,
    cold_start: bool,
    reaction: bool,
}

impl Parts {
    fn from_args() -> Self {
        let named: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with("--"))
            .collect();
        let wants = |part: &str| named.is_empty() || named.iter().any(|n| n == part);
        Self {
            answers: wants("answers"),
            resident: wants("resident"),
            budget: wants("budget"),
            cold_start: wants("coldstart"),
            reaction: wants("reaction"),
        }
    }

    fn all(&self) -> bool {
        self.answers && self.resident && self.budget && self.cold_start && self.reaction
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once as a smoke test.
    let measuring = std::env::args().any(|a| a == "--bench");
    let parts = Parts::from_args();
    let results = results_dir();
    let scale = if measuring {
        Scale::full(&results)
    } else {
        Scale::smoke(&results)
    };
    // The servers get one runtime (as many workers as cores, as in `main`); the load
    // generator and the sync another, so that they share the cores.
    let servers = runtime("server");
    let clients = runtime("load");
    let machine = report::machine();
    println!("freshness_budget on {}", machine.line());
    let mut load = vec![report::load_average("start")];

    let mut rows = Vec::new();
    if parts.answers {
        println!("\n1. Plugin answers over HTTP on loopback");
        report::print_answer_header();
        rows = answers::run(&servers, &clients, &scale.answers);
        load.push(report::load_average("after the plugin answers"));
    }

    let mut resident = None;
    let mut resident_defaults = None;
    if parts.resident {
        println!("\n1b. Resident memory of `preview-tower serve`");
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_preview-tower"));
        // The fake GitHub gets the (now idle) server runtime.
        // The result: the service as `manifests/deployment.yaml` runs it (its `MALLOC_*`
        // settings), so the bench and the deployment cannot drift apart.
        let shipped = resident::Plan {
            allocator: shipped_allocator(),
            ..scale.resident.clone()
        };
        let measured = clients.block_on(resident::run(&binary, &shipped, servers.handle()));
        report::print_resident(&measured);
        resident = Some(measured);
        if measuring {
            // A comparison, not the result: glibc's defaults, which keep freed answer buffers
            // in per-thread arenas.
            println!("   the same with glibc's defaults (comparison only):");
            let defaults = resident::Plan {
                log: results.join("freshness_budget-serve-glibc-defaults.log"),
                allocator: Vec::new(),
                ..scale.resident.clone()
            };
            let measured = clients.block_on(resident::run(&binary, &defaults, servers.handle()));
            report::print_resident(&measured);
            resident_defaults = Some(measured);
        }
        load.push(report::load_average("after the resident memory"));
    }

    let mut budget = None;
    if parts.budget {
        println!(
            "\n2. GitHub budget ({} repos × {} open PRs; counted = charged to the rate limit, per hour at a 30 s interval)",
            scale.budget.repos, scale.budget.pulls
        );
        report::print_cycle_header();
        budget = Some(clients.block_on(budget::run(&scale.budget)));
        load.push(report::load_average("after the GitHub budget"));
    }

    let mut cold_start = None;
    if parts.cold_start {
        let plan = &scale.cold_start;
        println!(
            "\n2b. Cold start, {} repos × {} labelled PRs with a build check and repo config files, \
             REST answers after {} ms, GraphQL answers after {} ms",
            plan.repos,
            plan.pulls,
            plan.rest_latency.as_millis(),
            plan.graphql_latency.as_millis()
        );
        report::print_start_header();
        cold_start = Some(clients.block_on(cold_start::run(plan)));
        load.push(report::load_average("after the cold start"));
    }

    let mut reaction = None;
    if parts.reaction {
        println!(
            "\n3. Reaction time, signed `pull_request` webhook → ApplicationSet refresh patch \
             ({} repos × {} open PRs, `preview-tower serve`, polling every hour)",
            scale.reaction.services, scale.reaction.pulls
        );
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_preview-tower"));
        // The fakes get the server runtime, the driver the other one (as for 1b).
        let measured = clients.block_on(reaction::run(&binary, &scale.reaction, servers.handle()));
        report::print_reaction(&measured);
        reaction = Some(measured);
        load.push(report::load_average("after the reaction time"));
    }

    println!("\nLoad average (1, 5, 15 min) of the machine, other processes included");
    for line in &load {
        println!("  {line}");
    }

    println!(
        "\nTargets (issue 5){}",
        if measuring {
            ""
        } else {
            ": smoke-test scale, not the targets' conditions"
        }
    );
    let verdicts = targets::verdicts(
        &rows,
        resident.as_ref(),
        budget.as_ref(),
        cold_start.as_ref(),
        reaction.as_ref(),
    );
    targets::print_verdicts(&verdicts);

    if let (true, true, Some(resident), Some(budget), Some(cold_start), Some(reaction)) = (
        measuring,
        parts.all(),
        &resident,
        &budget,
        &cold_start,
        &reaction,
    ) {
        let json = report::json(&report::All {
            machine: &machine,
            load: &load,
            rows: &rows,
            resident,
            resident_defaults: resident_defaults.as_ref(),
            budget,
            cold_start,
            reaction,
            verdicts: &verdicts,
        });
        let path = results.join("freshness_budget.json");
        let text = serde_json::to_string_pretty(&json).expect("JSON");
        std::fs::write(&path, text).expect("write the results");
        println!("\nwritten: {}", path.display());
    }
}
