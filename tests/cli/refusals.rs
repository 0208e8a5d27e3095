//! What the binary refuses before it starts: credentials in flags or URLs (never echoed), and
//! `serve --lifecycle` without what it needs.

use std::process::Command;

use super::{BIN, run, temp_file};

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
