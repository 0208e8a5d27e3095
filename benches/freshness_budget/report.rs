//! Tables on stdout, and the JSON written next to Cargo's other outputs (the targets of issue 5
//! are judged in `targets`).

use std::time::Duration;

use serde_json::{Value, json};

use super::answers::Row;
use super::budget::{self, Cycle};
use super::cold_start;
use super::load::Outcome;
use super::reaction;
use super::resident;
use super::targets::Verdict;

/// The machine the numbers come from.
pub struct Machine {
    cores: usize,
    cpu: String,
    memory_gib: f64,
    kernel: String,
}

/// Reads the machine's description from `/proc`.
pub fn machine() -> Machine {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|x| x.1))
        .map_or_else(|| "unknown".to_owned(), |m| m.trim().to_owned());
    let memory_kib: f64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    Machine {
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        cpu,
        memory_gib: memory_kib / 1024.0 / 1024.0,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
    }
}

impl Machine {
    /// One line for the table header.
    pub fn line(&self) -> String {
        format!(
            "{} cores ({}), {:.1} GiB memory, Linux {}",
            self.cores, self.cpu, self.memory_gib, self.kernel
        )
    }
}

/// `/proc/loadavg`'s three load averages, labelled: on a shared machine, how busy it was.
pub fn load_average(when: &str) -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let averages: Vec<&str> = text.split_whitespace().take(3).collect();
    format!("{when}: {}", averages.join(" "))
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Prints one load run as soon as it is done.
pub fn print_answer_row(row: &Row) {
    let o = &row.outcome;
    println!(
        "{:>6} {:<13} {:>4} {:<14} {:>9.3} {:>9.3} {:>9.3} {:>10.0} {:>10} {:>6.2}",
        row.previews,
        row.question.label(),
        row.clients,
        if row.bare {
            "bare axum"
        } else {
            "preview-tower"
        },
        ms(o.p50),
        ms(o.p99),
        ms(o.max),
        o.throughput,
        o.body_bytes,
        o.cores_used
    );
}

/// The header of the load-run lines.
pub fn print_answer_header() {
    println!(
        "{:>6} {:<13} {:>4} {:<14} {:>9} {:>9} {:>9} {:>10} {:>10} {:>6}",
        "prevs",
        "query",
        "conn",
        "server",
        "p50 ms",
        "p99 ms",
        "max ms",
        "answers/s",
        "body B",
        "cores"
    );
}

/// Prints one refresh cycle as soon as it is done.
pub fn print_cycle(cycle: &Cycle) {
    println!(
        "{:<44} {:>8} {:>9} {:>10} {:>9.1}",
        cycle.name,
        cycle.counted,
        cycle.requests,
        cycle.counted * budget::CYCLES_PER_HOUR,
        ms(cycle.wall)
    );
}

/// The header of the cold-start lines.
pub fn print_start_header() {
    println!(
        "{:<34} {:>8} {:>8} {:>7} {:>9} {:>10}",
        "cold start", "counted", "queries", "points", "wall s", "answering"
    );
}

/// Prints one cold start.
pub fn print_start(start: &cold_start::Start) {
    println!(
        "{:<34} {:>8} {:>8} {:>7} {:>9.1} {:>10}",
        start.mode,
        start.counted,
        start.queries,
        start.points,
        start.wall.as_secs_f64(),
        start.answering
    );
}

/// Prints one cycle after the GraphQL cold start.
pub fn print_after(after: &cold_start::After) {
    println!(
        "  then {:<29} {:>8} {:>8} {:>7}",
        after.name, after.counted, after.queries, after.points
    );
}

/// The header of the cycle lines.
pub fn print_cycle_header() {
    println!(
        "{:<44} {:>8} {:>9} {:>10} {:>9}",
        "refresh of every repo", "counted", "requests", "counted/h", "wall ms"
    );
}

/// Prints the resident-memory run.
pub fn print_resident(r: &resident::Report) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "{} previews: ready after {:.1} s; VmRSS {:.1} MiB once ready, {:.1} MiB after the load; \
         VmHWM (peak) {:.1} MiB; {} repo refreshes during the load",
        r.previews,
        r.ready_after.as_secs_f64(),
        mib(r.rss_ready_kib),
        mib(r.rss_end_kib),
        mib(r.hwm_kib),
        r.repo_refreshes_during_load
    );
    for (name, o) in [
        ("one service", &r.one_service),
        ("all services", &r.all_services),
    ] {
        println!(
            "  under load, {name}: p50 {:.3} ms, p99 {:.3} ms, {:.0} answers/s",
            ms(o.p50),
            ms(o.p99),
            o.throughput
        );
    }
    println!(
        "  failed refreshes in its log: {}; allocator settings: {}",
        r.refresh_failures,
        if r.allocator_env.is_empty() {
            "glibc defaults".to_owned()
        } else {
            r.allocator_env.join(" ")
        }
    );
}

/// Prints the reaction-time run.
pub fn print_reaction(r: &reaction::Report) {
    println!(
        "{:<58} {:>6} {:>9} {:>9} {:>9}",
        "from the POST sent, to", "n", "p50 ms", "p99 ms", "max ms"
    );
    let line = |what: &str, s: &reaction::Stats| {
        println!(
            "{what:<58} {:>6} {:>9.3} {:>9.3} {:>9.3}",
            s.count,
            ms(s.p50),
            ms(s.p99),
            ms(s.max)
        );
    };
    line("the webhook answered (202)", &r.answered);
    line("the refresh patch at the fake Kubernetes API", &r.patched);
    line(
        "2nd pass, plugin polled: the new head SHA served",
        &r.watched_params,
    );
    line(
        "2nd pass, plugin polled: the refresh patch",
        &r.watched_patched,
    );
    line(
        "(the fake GitHub answering one changed list page alone)",
        &r.fake_list_page,
    );
    println!(
        "  {} previews; the service's own poke → patch answered, mean {:.3} ms; list requests \
         per delivery {:.2}; patches {} ({} not 200); refresh failures in its log {}",
        r.previews,
        ms(r.service_poke_to_patch_mean),
        r.lists_per_delivery,
        r.patches,
        r.patch_failures,
        r.refresh_failures
    );
}

fn outcome_json(o: &Outcome) -> Value {
    json!({
        "requests": o.requests,
        "answers_per_second": o.throughput,
        "p50_ms": ms(o.p50),
        "p99_ms": ms(o.p99),
        "max_ms": ms(o.max),
        "body_bytes": o.body_bytes,
        "process_cores_used": o.cores_used,
    })
}

fn cycle_json(c: &Cycle) -> Value {
    json!({
        "cycle": c.name,
        "pushed_prs": c.pushed,
        "counted_requests": c.counted,
        "requests": c.requests,
        "counted_per_hour_at_30s": c.counted * budget::CYCLES_PER_HOUR,
        "wall_ms": ms(c.wall),
    })
}

fn resident_json(r: &resident::Report) -> Value {
    json!({
        "what": "preview-tower serve (real binary), VmRSS/VmHWM from /proc/<pid>/status",
        "previews": r.previews,
        "ready_after_s": r.ready_after.as_secs_f64(),
        "vm_rss_ready_kib": r.rss_ready_kib,
        "vm_rss_after_load_kib": r.rss_end_kib,
        "vm_hwm_kib": r.hwm_kib,
        "repo_refreshes_during_load": r.repo_refreshes_during_load,
        "answer_bytes": {
            "all": r.answer_bytes.all,
            "services": r.answer_bytes.services,
            "matrix": r.answer_bytes.matrix,
        },
        "list_page_bytes_listed": r.list_page_bytes,
        "refresh_failures_in_log": r.refresh_failures,
        "allocator_env": r.allocator_env,
        "one_service_under_load": outcome_json(&r.one_service),
        "all_services_under_load": outcome_json(&r.all_services),
    })
}

fn stats_json(s: &reaction::Stats) -> Value {
    json!({"samples": s.count, "p50_ms": ms(s.p50), "p99_ms": ms(s.p99), "max_ms": ms(s.max)})
}

fn reaction_json(r: &reaction::Report) -> Value {
    json!({
        "what": "signed pull_request `synchronize` webhook POSTed to preview-tower serve (real binary, KUBECONFIG to the fake Kubernetes API, refresh_interval_with_webhooks 1h) after a push to the fake GitHub; timed from the POST sent to the refresh patch's arrival at the fake",
        "previews": r.previews,
        "webhook_answered": stats_json(&r.answered),
        "refresh_patch": stats_json(&r.patched),
        "second_pass_plugin_polled_every_ms": {
            "new_parameters_served": stats_json(&r.watched_params),
            "refresh_patch": stats_json(&r.watched_patched),
        },
        "service_poke_to_patch_mean_ms": ms(r.service_poke_to_patch_mean),
        "fake_github_changed_list_page": stats_json(&r.fake_list_page),
        "list_requests_per_delivery": r.lists_per_delivery,
        "patches": r.patches,
        "patches_not_200": r.patch_failures,
        "refresh_failures_in_log": r.refresh_failures,
    })
}

/// Everything, for `target/bench-results/freshness_budget.json`.
pub struct All<'a> {
    /// The machine.
    pub machine: &'a Machine,
    /// Load averages along the run.
    pub load: &'a [String],
    /// Plugin answers over loopback.
    pub rows: &'a [Row],
    /// The service's memory.
    pub resident: &'a resident::Report,
    /// The same with glibc's defaults (a comparison).
    pub resident_defaults: Option<&'a resident::Report>,
    /// The GitHub budget.
    pub budget: &'a budget::Report,
    /// The cold start, REST-only and GraphQL.
    pub cold_start: &'a cold_start::Report,
    /// Webhook to refresh patch.
    pub reaction: &'a reaction::Report,
    /// The targets.
    pub verdicts: &'a [Verdict],
}

/// The JSON document.
pub fn json(all: &All<'_>) -> Value {
    let m = all.machine;
    let r = all.resident;
    json!({
        "bench": "freshness_budget",
        "command": "cargo bench --bench freshness_budget",
        "measured_at": chrono::Utc::now().to_rfc3339(),
        "machine": {"cores": m.cores, "cpu": m.cpu, "memory_gib": m.memory_gib, "kernel": m.kernel},
        "load_average_1_5_15_min": all.load,
        "plugin_answers": all.rows.iter().map(|row| {
            let mut o = outcome_json(&row.outcome);
            o["previews"] = json!(row.previews);
            o["query"] = json!(row.question.label());
            o["connections"] = json!(row.clients);
            o["server"] = json!(if row.bare { "bare axum" } else { "preview-tower" });
            o
        }).collect::<Vec<_>>(),
        "resident": resident_json(r),
        "resident_glibc_defaults": all.resident_defaults.map(resident_json),
        "github_budget": {
            "preview_tower": all.budget.cycles.iter().map(cycle_json).collect::<Vec<_>>(),
            "argo_cd_pull_request_generator": {
                "model": "per requeue and repo: ceil(open PRs / 100) GET /repos/{o}/{r}/pulls?per_page=100, no If-None-Match; nothing per PR",
                "pages_per_repo": all.budget.argo_pages_per_repo,
                "replayed_requeue": cycle_json(&all.budget.argo),
            },
        },
        "cold_start": {
            "repos": all.cold_start.plan.repos,
            "pulls_per_repo": all.cold_start.plan.pulls,
            "rest_latency_ms": all.cold_start.plan.rest_latency.as_millis(),
            "graphql_latency_ms": all.cold_start.plan.graphql_latency.as_millis(),
            "starts": all.cold_start.starts.iter().map(|s| json!({
                "mode": s.mode, "counted_rest": s.counted, "graphql_queries": s.queries,
                "graphql_points": s.points, "wall_s": s.wall.as_secs_f64(), "services_answering": s.answering,
            })).collect::<Vec<_>>(),
            "after_graphql_start": all.cold_start.after.iter().map(|a| json!({
                "cycle": a.name, "counted_rest": a.counted, "graphql_queries": a.queries, "graphql_points": a.points,
            })).collect::<Vec<_>>(),
        },
        "reaction_time": reaction_json(all.reaction),
        "targets": all.verdicts.iter().map(|v| json!({
            "target": v.target,
            "measured": v.measured,
            "met": v.met,
        })).collect::<Vec<_>>(),
    })
}
