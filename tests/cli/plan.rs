//! `plan`: the demo's sets with their reasons, as JSON or a table, at a moment or now, for one
//! service or all; what it cannot read is printed as held.

use std::process::Command;

use serde_json::Value;

use super::{BIN, run, stdout, temp_file};

#[test]
fn plan_demo_prints_the_sets_and_the_reasons() {
    let output = run(&["plan", "--demo"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        value["output"]["parameters"].as_array().map(Vec::len),
        Some(6)
    );
    let codes: Vec<(String, u64)> = value["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_owned(),
                d["pr"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(
        codes.contains(&("dependency_preview_missing".into(), 102)),
        "{codes:?}"
    );
    assert!(codes.contains(&("config_invalid".into(), 43)), "{codes:?}");
    let excluded: Vec<(u64, &str)> = value["excluded"]
        .as_array()
        .expect("excluded")
        .iter()
        .map(|e| {
            // A queued reason is an object (`{"queued": {...}}`): its key.
            let reason = &e["reason"];
            let name = reason.as_str().or_else(|| {
                reason
                    .as_object()
                    .and_then(|o| o.keys().next())
                    .map(String::as_str)
            });
            (e["number"].as_u64().unwrap_or(0), name.unwrap_or(""))
        })
        .collect();
    assert_eq!(
        excluded,
        [
            (103, "fork"),
            (105, "queued"),
            (44, "not_labelled"),
            (7, "draft"),
            (9, "waiting_for_build")
        ]
    );
    assert!(codes.contains(&("build_pending".into(), 8)), "{codes:?}");
}

#[test]
fn plan_demo_table_shows_what_waits_for_its_image_build() {
    let output = run(&[
        "plan",
        "--demo",
        "--service",
        "billing",
        "--output",
        "table",
    ]);
    assert!(output.status.success());
    let text = stdout(&output);
    let row = text
        .lines()
        .find(|l| l.starts_with("billing") && l.contains("preview-billing-pr-8"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        row.contains("6f5e4d3c"),
        "the built commit, not the head: {row}"
    );
    assert!(
        text.contains(
            "billing #8: commit d4c3b2a1 is deployed once check `preview-ready` succeeds"
        ),
        "{text}"
    );
    assert!(
        text.contains("billing #9: waiting for the head commit's image build"),
        "{text}"
    );
    assert!(
        !text.contains("d4c3b2a1f0e9"),
        "never the unbuilt SHA: {text}"
    );
}

#[test]
fn plan_demo_table_for_one_service() {
    let output = run(&["plan", "--demo", "--service", "web", "--output", "table"]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("preview-web-pr-101"), "{text}");
    assert!(!text.contains("preview-api-pr-42 "), "{text}");
    assert!(text.contains("api=pr-42"), "{text}");
    assert!(
        text.contains("web #102: api: no preview of PR 77 exists"),
        "{text}"
    );
    assert!(text.contains("web #103: from a fork"), "{text}");
}

#[test]
fn plan_refuses_an_unknown_service() {
    let output = run(&["plan", "--demo", "--service", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("known: web, api, billing"));
}

#[test]
fn plan_at_a_moment_shows_what_sleeps_then_and_refuses_a_vague_one() {
    let output = run(&[
        "plan",
        "--demo",
        "--service",
        "web",
        "--at",
        "2026-11-28T11:00:00Z",
    ]);
    assert!(output.status.success());
    let plan: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let sets = plan["output"]["parameters"].as_array().expect("sets");
    assert!(!sets.is_empty());
    assert!(
        sets.iter().all(|s| s["replicas"] == "0"),
        "Saturday: asleep"
    );

    let output = run(&["plan", "--demo", "--at", "tomorrow"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("2026-11-28T21:00:00Z"));
}

/// `plan` cannot see Argo CD's Applications: a labelled PR it cannot read is printed as held
/// (with why), never silently left out, and Argo CD's 503 is announced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_prints_what_it_cannot_read_as_held() {
    use super::support::fake_github::{Endpoint, FakeGitHub, FakePull, Fault, FaultRule, sha1_hex};
    let github = FakeGitHub::start().await;
    for repo in ["acme/web", "acme/api", "acme/billing"] {
        github.add_repo(repo);
    }
    let head = sha1_hex(b"web 5");
    github.open_pull(
        "acme/web",
        FakePull::new(5).head_sha(&head).labels(&["preview"]),
    );
    github.fail(FaultRule::new(Fault::Status(502)).endpoint(Endpoint::Contents));
    let fleet = temp_file(preview_tower::demo::FLEET_YAML);
    let (fleet_path, url) = (fleet.path().to_owned(), github.url().to_string());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["plan", "--config"])
            .arg(&fleet_path)
            .args(["--github-api-url", &url])
            .env("PREVIEW_TOWER_GITHUB_TOKEN", "ghp_plan_test")
            .env_remove("PREVIEW_TOWER_SERVICE")
            .output()
            .expect("run plan")
    })
    .await
    .expect("plan ran");
    assert!(output.status.success(), "{output:?}");
    let plan: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(plan["output"]["parameters"], serde_json::json!([]));
    assert_eq!(plan["held"][0]["service"], "web");
    assert_eq!(plan["held"][0]["number"], 5);
    assert_eq!(plan["held"][0]["reason"]["code"], "files");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Argo CD would get 503") && stderr.contains("web PR 5"),
        "{stderr}"
    );
}
