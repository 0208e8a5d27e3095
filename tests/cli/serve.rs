//! `serve` answered over real HTTP: the demo as Argo CD asks it, a fleet read from the fake
//! GitHub, and webhooks on their own port only.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::{BIN, temp_file};

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
        Some(6)
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
        metrics.contains("preview_tower_previews{service=\"web\"} 3"),
        "{metrics}"
    );
}

/// `serve --config` with a token, against the fake GitHub: the production path end to end.
#[tokio::test]
async fn serve_reads_github_and_answers() {
    use super::support::fake_github::{FakeGitHub, FakePull, sha1_hex};
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
