//! The binary as an operator and an app repo's CI run it: `plan --demo`, `check-config`, and
//! `serve --demo` answered over real HTTP.

use std::io::Write as _;
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_preview-tower");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("PREVIEW_TOWER_CONFIG")
        .env_remove("PREVIEW_TOWER_SERVICE")
        .output()
        .expect("run preview-tower")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn temp_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    file
}

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
        Some(5)
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
            (
                e["number"].as_u64().unwrap_or(0),
                e["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        excluded,
        [
            (103, "fork"),
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

#[test]
fn check_config_points_at_the_line_of_each_error() {
    let file = temp_file("# preview config\ndependancies:\n  api: pr-1\nttl: 3d\nspot: maybe\n");
    let path = file.path().to_str().expect("utf-8 path");
    let output = run(&["check-config", path]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains(&format!("{path}:2:")), "{text}");
    assert!(text.contains("dependencies"), "did you mean: {text}");
    assert!(text.contains(&format!("{path}:5:")), "{text}");
    assert!(text.contains("2 errors"), "{text}");
}

#[test]
fn check_config_checks_the_fleet_bounds_for_a_service() {
    let fleet = temp_file(preview_tower::demo::FLEET_YAML);
    let fleet_path = fleet.path().to_str().expect("utf-8 path");
    let good = temp_file("dependencies:\n  api: pr-42\nttl: 5d\n");
    let good_path = good.path().to_str().expect("utf-8 path");
    let output = run(&[
        "check-config",
        good_path,
        "--config",
        fleet_path,
        "--service",
        "web",
    ]);
    assert!(output.status.success(), "{}", stdout(&output));
    // billing does not depend on api, and 30 days is past the maximum.
    let bad = temp_file("dependencies:\n  api: pr-42\nttl: 30d\n");
    let bad_path = bad.path().to_str().expect("utf-8 path");
    let output = run(&[
        "check-config",
        bad_path,
        "--config",
        fleet_path,
        "--service",
        "billing",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains(&format!("{bad_path}:2:")), "{text}");
    assert!(text.contains(&format!("{bad_path}:3:")), "{text}");
    let output = run(&["check-config", good_path, "--config", fleet_path]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a multi-service fleet needs --service"
    );
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[tokio::test]
async fn serve_demo_answers_argo_cd_over_http() {
    let (port, admin) = (free_port(), free_port());
    let _server = Server(
        Command::new(BIN)
            .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
            .env_remove("PREVIEW_TOWER_PLUGIN_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn serve --demo"),
    );
    let client = reqwest::Client::new();
    let ready = format!("http://127.0.0.1:{admin}/readyz");
    let mut up = false;
    for _ in 0..200 {
        if client
            .get(&ready)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "serve --demo never became ready");
    let url = format!("http://127.0.0.1:{port}/api/v1/getparams.execute");
    let post = |token: Option<&str>, body: Vec<u8>| {
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let answer = post(
        Some("demo-token"),
        br#"{"applicationSetName":"previews","input":{"parameters":{}}}"#.to_vec(),
    )
    .await
    .expect("answer");
    assert_eq!(answer.status(), 200);
    let value: Value = answer.json().await.expect("JSON");
    assert_eq!(
        value["output"]["parameters"].as_array().map(Vec::len),
        Some(5)
    );
    let cases: [(Option<&str>, Vec<u8>, u16); 5] = [
        (None, b"{}".to_vec(), 401),
        (Some("wrong"), b"{}".to_vec(), 403),
        (Some("demo-token"), b"{oops".to_vec(), 400),
        (Some("demo-token"), vec![b' '; 2 * 1024 * 1024], 413),
        (
            Some("demo-token"),
            br#"{"applicationSetName":"previews","input":{"parameters":{"service":"nope"}}}"#
                .to_vec(),
            400,
        ),
    ];
    for (token, body, expected) in cases {
        let response = post(token, body).await.expect("answer");
        assert_eq!(response.status(), expected);
        let value: Value = response.json().await.expect("JSON error body");
        assert!(value["message"].is_string());
    }
    let metrics = client
        .get(format!("http://127.0.0.1:{admin}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("preview_tower_plugin_requests_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("preview_tower_previews{service=\"web\"} 2"),
        "{metrics}"
    );
}

#[test]
fn check_config_reports_a_file_that_is_not_text() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&[0xff, 0xfe, b'a', 0]).expect("write");
    let path = file.path().to_str().expect("utf-8 path");
    let output = run(&["check-config", path]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("not UTF-8"), "{}", stdout(&output));
}

#[test]
fn credentials_never_travel_in_flags_or_urls() {
    let fleet = temp_file(preview_tower::demo::FLEET_YAML);
    let fleet_path = fleet.path().to_str().expect("utf-8 path");
    let output = Command::new(BIN)
        .args([
            "plan",
            "--config",
            fleet_path,
            "--github-token",
            "ghp_secret",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "no --github-token flag");
    let output = Command::new(BIN)
        .args(["plan", "--config", fleet_path])
        .args([
            "--github-api-url",
            "https://user:ghp_secret@ghe.example.com/api/v3",
        ])
        .env("PREVIEW_TOWER_GITHUB_TOKEN", "ghp_other")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not in the URL"), "{stderr}");
    assert!(
        !stderr.contains("ghp_secret") && !stderr.contains("ghp_other"),
        "{stderr}"
    );
}

#[test]
fn serve_lifecycle_refuses_what_it_cannot_run_with() {
    let output = run(&["serve", "--demo", "--lifecycle"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not --demo"), "{stderr}");

    let fleet = temp_file(preview_tower::demo::FLEET_YAML);
    let fleet_path = fleet.path().to_str().expect("utf-8 path");
    let serve = |extra: &[&str]| {
        Command::new(BIN)
            .args(["serve", "--config", fleet_path, "--lifecycle"])
            .args(extra)
            .env("PREVIEW_TOWER_GITHUB_TOKEN", "ghp_token")
            .env("PREVIEW_TOWER_PLUGIN_TOKEN", "plugin")
            .env("PREVIEW_TOWER_JIRA_TOKEN", "jira_secret")
            .env_remove("PREVIEW_TOWER_POD_NAME")
            .output()
            .expect("run")
    };
    let output = serve(&["--jira-url", "https://bot:jira_secret@acme.atlassian.net"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not in the URL") && !stderr.contains("jira_secret"),
        "{stderr}"
    );
    let output = serve(&["--jira-url", "https://acme.atlassian.net"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--jira-email"), "{stderr}");
    let output = serve(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--pod-name"), "{stderr}");
}

mod support;

/// `serve --config` with a token, against the fake GitHub: the production path end to end.
#[tokio::test]
async fn serve_reads_github_and_answers() {
    use support::fake_github::{FakeGitHub, FakePull, sha1_hex};
    let github = FakeGitHub::start().await;
    for repo in ["acme/web", "acme/api", "acme/billing"] {
        github.add_repo(repo);
    }
    let head = sha1_hex(b"web 5");
    github.open_pull(
        "acme/web",
        FakePull::new(5).head_sha(&head).labels(&["preview"]),
    );
    github.put_file("acme/web", &head, ".preview.yaml", "spot: false\n");
    let fleet = temp_file(preview_tower::demo::FLEET_YAML);
    let (port, admin) = (free_port(), free_port());
    let _server = Server(
        Command::new(BIN)
            .args([
                "serve",
                "--config",
                fleet.path().to_str().expect("utf-8 path"),
            ])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
            .args(["--github-api-url", github.url().as_str()])
            .env("PREVIEW_TOWER_GITHUB_TOKEN", "ghp_serve_test")
            .env("PREVIEW_TOWER_PLUGIN_TOKEN", "argo")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn serve"),
    );
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        let status = client
            .get(format!("http://127.0.0.1:{admin}/readyz"))
            .send()
            .await;
        if status.is_ok_and(|r| r.status() == 200) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "serve never became ready against the fake GitHub");
    let value: Value = client
        .post(format!("http://127.0.0.1:{port}/api/v1/getparams.execute"))
        .bearer_auth("argo")
        .body(r#"{"applicationSetName":"previews","input":{"parameters":{"service":"web"}}}"#)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    let sets = value["output"]["parameters"].as_array().expect("sets");
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0]["name"], "preview-web-pr-5");
    assert_eq!(sets[0]["revision"], head.as_str());
    assert_eq!(
        sets[0]["capacity_type"], "on-demand",
        "the PR's .preview.yaml was read"
    );
}

#[tokio::test]
async fn serve_with_a_webhook_secret_answers_github_on_its_own_port_only() {
    let output = Command::new(BIN)
        .args(["serve", "--demo"])
        .env("PREVIEW_TOWER_WEBHOOK_SECRET", " ")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PREVIEW_TOWER_WEBHOOK_SECRET"), "{stderr}");

    let (port, admin, hooks) = (free_port(), free_port(), free_port());
    let _server = Server(
        Command::new(BIN)
            .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
            .args(["--webhook-listen", &format!("127.0.0.1:{hooks}")])
            .env("PREVIEW_TOWER_WEBHOOK_SECRET", "hook-secret")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn serve --demo"),
    );
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{hooks}/api/v1/webhooks/github");
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#.to_vec();
    let send = |signature: Option<String>, delivery: &str| {
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-github-event", "ping")
            .header("x-github-delivery", delivery)
            .body(body.clone());
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        request.send()
    };
    let mut answer = None;
    for _ in 0..200 {
        if let Ok(a) = send(None, "d-1").await {
            answer = Some(a);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = answer.expect("serve never answered");
    assert_eq!(answer.status(), 401, "an unsigned delivery is refused");
    let signed = preview_tower::github::webhook::sign(b"hook-secret", &body);
    let answer = send(Some(signed), "d-2").await.expect("answer");
    assert_eq!(answer.status(), 200);
    let value: Value = answer.json().await.expect("JSON");
    assert_eq!(value["status"], "pong");
    // The plugin's port does not take deliveries.
    let on_plugin_port = client
        .post(format!("http://127.0.0.1:{port}/api/v1/webhooks/github"))
        .body(body.clone())
        .send()
        .await
        .expect("answer");
    assert_eq!(on_plugin_port.status(), 404);
}

/// `plan` cannot see Argo CD's Applications: a labelled PR it cannot read is printed as held
/// (with why), never silently left out, and Argo CD's 503 is announced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_prints_what_it_cannot_read_as_held() {
    use support::fake_github::{Endpoint, FakeGitHub, FakePull, Fault, FaultRule, sha1_hex};
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
