//! What the service says matches what happened: GitHub failures that the sync handles (it
//! backs off and keeps the last good state) leave no `ERROR` line, from octocrab or anyone, since
//! `ERROR` means an operator must act; a webhook delivery that changes nothing is answered
//! `ignored` with the reason, not `accepted`. The real `serve` binary, its log read from its
//! file.
//!
//! No timing assertion: generous deadlines only.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use preview_tower::http::WEBHOOK_PATH;
use support::fake_github::{FakeGitHub, FakePull, Fault, sha1_hex};
use support::fake_kube::{FakeKube, applicationset};
use support::serve::{Options, Serve};
use support::webhook_payload;

/// Long enough for a loaded CI machine.
const DEADLINE: Duration = Duration::from_secs(30);
const SECRET: &str = "whsec-outcomes-0123456789";

const FLEET: &str = "base_domain: preview.example.com
refresh_interval: 10s
services:
  - name: web
    repo: acme/web
    kind: backend
    image: registry.example.com/web
    overlay_path: deploy/preview
    staging_url: https://web.staging.example.com
";

/// The lines of `log` at level `ERROR` (plain format: the level is the second word).
fn error_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| line.split_whitespace().nth(1) == Some("ERROR"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_failures_the_sync_handles_leave_no_error_line() {
    let github = FakeGitHub::start().await;
    github.add_repo("acme/web");
    github.open_pull(
        "acme/web",
        FakePull::new(3)
            .head_sha(&sha1_hex(b"web 3"))
            .labels(&["preview"]),
    );
    github.fail_with(Fault::Status(502));
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        fleet: FLEET.to_owned(),
        github_url: github.url().to_string(),
        kubeconfig: None,
        env: Vec::new(),
        ..Options::default()
    };
    let mut serve = Serve::start(dir.path(), "faults", &options);
    // The first listing and its retry after the backoff (5 s) both fail.
    let failed = |log: &str| {
        log.lines()
            .filter(|l| l.contains(" WARN ") && l.contains("refresh failed") && l.contains("502"))
            .count()
    };
    serve
        .eventually("two failed refreshes", DEADLINE, async |s| {
            failed(&s.output()) >= 2
        })
        .await;
    let log = serve.output();
    assert_eq!(
        error_lines(&log),
        Vec::<&str>::new(),
        "a handled GitHub failure is no ERROR:\n{log}"
    );
    github.clear_faults();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_for_a_repository_outside_the_fleet_is_ignored_with_the_reason() {
    let github = FakeGitHub::start().await;
    github.add_repo("acme/web");
    let kube = FakeKube::start().await;
    kube.put_applicationset(applicationset("previews"));
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        fleet: FLEET.to_owned(),
        github_url: github.url().to_string(),
        kubeconfig: Some(kube.kubeconfig()),
        env: vec![("PREVIEW_TOWER_WEBHOOK_SECRET".into(), SECRET.into())],
        ..Options::default()
    };
    let mut serve = Serve::start(dir.path(), "outside", &options);
    serve.wait_ready(DEADLINE).await;
    // The GitHub client's budget, as its answers said, is on the admin port.
    assert_eq!(
        serve.metric("preview_tower_github_rate_limit_limit ").await,
        5000.0
    );

    let deliver = async |repo: &str, id: &str| {
        let body = serde_json::to_vec(&webhook_payload::pull_request("opened", repo, 9)).unwrap();
        let headers = webhook_payload::headers("pull_request", id, SECRET, &body);
        serve.post(WEBHOOK_PATH, &headers, &body).await
    };
    let (status, answer) = deliver("acme/elsewhere", "delivery-outside").await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "ignored", "{answer}");
    let reason = answer["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("acme/elsewhere") && reason.contains("not in the fleet"),
        "{answer}"
    );
    let ignored =
        r#"preview_tower_webhook_deliveries_total{event="pull_request",outcome="ignored"}"#;
    assert_eq!(serve.metric(ignored).await, 1.0);

    let (status, answer) = deliver("acme/web", "delivery-inside").await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "accepted", "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_waits_for_the_reset_when_githubs_budget_runs_low() {
    let github = FakeGitHub::start().await;
    github.add_repo("acme/web");
    // 100 of 5,000 requests left (2%, under the 5% reserve), the hour ends in 30 minutes.
    github.limit_budget(100, Duration::from_secs(30 * 60));
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        fleet: FLEET.to_owned(),
        github_url: github.url().to_string(),
        ..Options::default()
    };
    let mut serve = Serve::start(dir.path(), "budget", &options);
    serve
        .eventually("polling held off until the reset", DEADLINE, async |s| {
            s.output()
                .contains("GitHub's rate limit is nearly spent; polling waits for the reset")
        })
        .await;
    assert!(
        serve
            .metric("preview_tower_github_rate_limit_remaining ")
            .await
            < 100.0
    );
}
