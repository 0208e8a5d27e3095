//! `preview-tower cost` as an operator runs it: a hand-made trace replayed with exact hours, a
//! simulation that gives the same report for the same seed, and clear errors on bad input.

use std::io::Write as _;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_preview-tower");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("PREVIEW_TOWER_CONFIG")
        .output()
        .expect("run preview-tower")
}

fn json(args: &[&str]) -> Value {
    let output = run(args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

fn temp_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    file
}

/// The demo fleet works 08:00 to 20:00 Paris time (UTC+1 in early March), Monday to Friday;
/// `web` has a 72 h TTL and costs 0.0037 on-demand, 0.0014 on spot, 0 asleep per hour.
const TRACE: &str = r#"# web PR 1: opened on Monday 2 March 2026 at 10:00 Paris time, then idle.
{"at":"2026-03-02T09:00:00Z","repo":"acme/web","pr":1,"event":"opened","labels":["preview"]}
# web PR 2: open two hours, merged.
{"at":"2026-03-02T09:00:00Z","repo":"acme/web","pr":2,"event":"opened","labels":["preview"]}
{"at":"2026-03-02T11:00:00Z","repo":"acme/web","pr":2,"event":"closed","merged":true}
"#;

fn row<'a>(report: &'a Value, scenario: &str) -> &'a Value {
    report["scenarios"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["scenario"] == scenario))
        .unwrap_or_else(|| panic!("no {scenario} in {report}"))
}

/// The evidence margin in hours: an expiry counts that long after it is due.
const MARGIN_H: f64 = 2.0 / 60.0;

/// Equal up to float rounding.
fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "{actual} h, expected {expected} h"
    );
}

fn hours(row: &Value, key: &str) -> f64 {
    row["hours"][key].as_f64().unwrap_or(f64::NAN)
}

#[test]
fn a_hand_made_trace_gives_exact_hours_and_costs() {
    let trace = temp_file(TRACE);
    let path = trace.path().to_str().expect("path");
    // Four days, to Friday 10:00 Paris time.
    let report = json(&[
        "cost",
        "--trace",
        path,
        "--to",
        "2026-03-06T09:00:00Z",
        "--json",
    ]);
    assert_eq!(report["pull_requests"], 2);
    let always = row(&report, "always_on");
    assert_eq!(hours(always, "awake_on_demand"), 96.0 + 2.0);
    let ttl = row(&report, "ttl");
    // An expiry counts once a read two minutes later shows nothing new (EVIDENCE_MARGIN).
    close(hours(ttl, "awake_on_demand"), 72.0 + MARGIN_H + 2.0);
    close(hours(ttl, "deleted_early"), 24.0 - MARGIN_H);
    // PR 1 awake Mon 10-20, Tue and Wed 08-20, Thu 08-10 Paris time; asleep the nights.
    let sleep = row(&report, "ttl_sleep");
    close(hours(sleep, "awake_on_demand"), 36.0 + MARGIN_H + 2.0);
    close(hours(sleep, "asleep"), 36.0);
    let spot = row(&report, "ttl_sleep_spot");
    close(hours(spot, "awake_spot"), 38.0 + MARGIN_H);
    let cost = spot["cost"].as_f64().unwrap_or(f64::NAN);
    assert!((cost - (38.0 + MARGIN_H) * 0.0014).abs() < 1e-9, "{cost}");
    let baseline = always["cost"].as_f64().unwrap_or(f64::NAN);
    assert!((baseline - 98.0 * 0.0037).abs() < 1e-9, "{baseline}");
}

#[test]
fn the_window_cuts_the_hours() {
    let trace = temp_file(TRACE);
    let path = trace.path().to_str().expect("path");
    let report = json(&[
        "cost",
        "--trace",
        path,
        "--from",
        "2026-03-02T10:00:00Z",
        "--to",
        "2026-03-02T12:00:00Z",
        "--json",
    ]);
    // PR 1 for two hours, PR 2 for its last hour.
    assert_eq!(hours(row(&report, "always_on"), "awake_on_demand"), 3.0);
}

#[test]
fn the_simulation_is_the_same_for_a_seed_and_its_trace_replays() {
    let args = [
        "cost",
        "--simulate",
        "--engineers",
        "6",
        "--days",
        "10",
        "--seed",
        "42",
        "--json",
    ];
    let first = json(&args);
    assert_eq!(first, json(&args));
    let mut other = args;
    other[7] = "43";
    assert_ne!(first["scenarios"], json(&other)["scenarios"]);

    let dir = tempfile::tempdir().expect("dir");
    let saved = dir.path().join("trace.jsonl");
    let saved = saved.to_str().expect("path");
    let mut write = args.to_vec();
    write.extend(["--write-trace", saved]);
    json(&write);
    let replayed = json(&["cost", "--trace", saved, "--json"]);
    assert_eq!(replayed["events"], first["events"]);
    assert!(first["events"].as_u64().unwrap_or(0) > 0);
}

#[test]
fn the_table_shows_every_policy() {
    let output = run(&["cost", "--simulate", "--engineers", "3", "--days", "7"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    for policy in [
        "| always on |",
        "| TTL |",
        "| TTL + sleep |",
        "| TTL + sleep + spot |",
    ] {
        assert!(text.contains(policy), "{text}");
    }
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let bad_line = temp_file(
        "{\"at\":\"2026-03-02T09:00:00Z\",\"repo\":\"acme/web\",\"pr\":1,\"event\":\"push\"}\n",
    );
    let bad_fleet = temp_file("base_domain: a.b\ncurrency: usd\nservices: []\n");
    let trace = temp_file(TRACE);
    let path = trace.path().to_str().expect("path");
    let cases: [(Vec<&str>, &str); 7] = [
        (vec!["cost"], "--simulate or --trace"),
        (vec!["cost", "--trace", "/nonexistent/trace"], "cannot read"),
        (
            vec!["cost", "--trace", bad_line.path().to_str().expect("path")],
            "before any `opened` event",
        ),
        (
            vec![
                "cost",
                "--trace",
                path,
                "--from",
                "2026-03-05T00:00:00Z",
                "--to",
                "2026-03-04T00:00:00Z",
            ],
            "the window is empty",
        ),
        (vec!["cost", "--trace", path, "--to", "tomorrow"], "--to"),
        (
            vec!["cost", "--simulate", "--engineers", "0"],
            "--engineers",
        ),
        (
            vec![
                "cost",
                "--simulate",
                "--fleet",
                bad_fleet.path().to_str().expect("path"),
            ],
            "currency",
        ),
    ];
    for (args, words) in cases {
        let output = run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
