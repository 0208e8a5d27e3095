//! Secrets never travel as command-line flags (`ps` shows every argument): the binary refuses
//! each former secret flag without echoing its value, reads the secret from the environment or
//! a file instead, and the demo refuses a credential it would otherwise ignore.
//!
//! No timing assertion: a process that does not end is given a generous bound, then killed.

mod support;

use std::io::Write as _;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::fake_github::{FakeGitHub, FakePull, sha1_hex};
use support::serve::{BIN, PLUGIN_PATH, free_port};

/// How long a command that must exit at once may run before the test gives up on it.
const BOUND: Duration = Duration::from_secs(30);

fn temp_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    file
}

/// `preview-tower` with `args`, without the caller's `PREVIEW_TOWER_*` variables.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("PREVIEW_TOWER_") {
            command.env_remove(var);
        }
    }
    command.args(args).stdin(Stdio::null());
    command
}

/// Runs `command` to its end, or kills it after [`BOUND`] and panics: a command that should
/// have been refused was accepted and kept running.
fn finish(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn preview-tower");
    let until = Instant::now() + BOUND;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "still running after {} s (accepted instead of refused):\n{}",
                BOUND.as_secs(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fake GitHub with the demo fleet's repositories and one labelled PR of `web`.
async fn github() -> FakeGitHub {
    let github = FakeGitHub::start().await;
    for repo in ["acme/web", "acme/api", "acme/billing"] {
        github.add_repo(repo);
    }
    let pull = FakePull::new(5)
        .head_sha(&sha1_hex(b"web 5"))
        .labels(&["preview"]);
    github.open_pull("acme/web", pull);
    github
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_refuses_a_github_token_flag_without_echoing_the_token() {
    let github = github().await;
    let fleet = temp_file(preview_tower::demo::FLEET_YAML);
    let fleet_path = fleet.path().to_str().expect("utf-8 path").to_owned();
    let url = github.url().to_string();
    for token_args in [
        vec!["--github-token", "ghp_flag_secret"],
        vec!["--github-token=ghp_flag_secret"],
    ] {
        let (fleet_path, url) = (fleet_path.clone(), url.clone());
        let output = tokio::task::spawn_blocking(move || {
            let mut args = vec!["plan", "--config", &fleet_path, "--github-api-url", &url];
            args.extend(token_args);
            finish(command(&args))
        })
        .await
        .expect("plan ran");
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "refused: {text}");
        assert!(text.contains("--github-token"), "names the flag: {text}");
        assert!(
            text.contains("--github-token-file") && text.contains("PREVIEW_TOWER_GITHUB_TOKEN"),
            "says where the token goes instead: {text}"
        );
        assert!(!text.contains("ghp_flag_secret"), "never echoed: {text}");
    }
    assert!(github.requests().is_empty(), "GitHub was never called");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_reads_the_github_token_from_the_environment() {
    let github = github().await;
    github.accept_only_tokens(&["ghp_from_env"]);
    let fleet = temp_file(preview_tower::demo::FLEET_YAML);
    let fleet_path = fleet.path().to_owned();
    let url = github.url().to_string();
    let output = tokio::task::spawn_blocking(move || {
        let mut plan = command(&["plan", "--github-api-url", &url, "--config"]);
        plan.arg(&fleet_path)
            .env("PREVIEW_TOWER_GITHUB_TOKEN", " ghp_from_env\n");
        finish(plan)
    })
    .await
    .expect("plan ran");
    assert!(output.status.success(), "{}", stderr(&output));
    let plan: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(plan["output"]["parameters"][0]["name"], "preview-web-pr-5");
}

#[test]
fn serve_refuses_a_plugin_token_flag_without_echoing_the_token() {
    for args in [
        &["serve", "--demo", "--plugin-token", "S3cret-flag"][..],
        &["serve", "--demo", "--plugin-token=S3cret-flag"][..],
    ] {
        let mut serve = command(args);
        serve
            .args(["--listen", &free_port().to_string()])
            .args(["--admin-listen", &free_port().to_string()]);
        let output = finish(serve);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "refused: {text}");
        assert!(
            text.contains("--plugin-token-file") && text.contains("PREVIEW_TOWER_PLUGIN_TOKEN"),
            "says where the token goes instead: {text}"
        );
        assert!(!text.contains("S3cret-flag"), "never echoed: {text}");
    }
}

#[test]
fn the_demo_refuses_github_credentials_it_would_ignore() {
    let token = temp_file("ghp_file_token\n");
    let token_path = token.path().to_str().expect("utf-8 path");
    let cases: [&[&str]; 3] = [
        &["plan", "--demo", "--github-token-file", token_path],
        &["serve", "--demo", "--github-token-file", token_path],
        &[
            "plan",
            "--demo",
            "--github-app-id",
            "7",
            "--github-app-key-file",
            token_path,
        ],
    ];
    for args in cases {
        let mut run = command(args);
        if args[0] == "serve" {
            run.args(["--listen", &free_port().to_string()])
                .args(["--admin-listen", &free_port().to_string()]);
        }
        let output = finish(run);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains("--demo"), "{args:?}: {text}");
    }
}

/// A running `serve --demo`, killed when dropped.
struct Demo {
    child: Child,
    listen: std::net::SocketAddr,
    admin: std::net::SocketAddr,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    fn start(configure: impl FnOnce(&mut Command)) -> Self {
        let (listen, admin) = (free_port(), free_port());
        let mut serve = command(&["serve", "--demo"]);
        serve
            .args(["--listen", &listen.to_string()])
            .args(["--admin-listen", &admin.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        configure(&mut serve);
        let child = serve.spawn().expect("spawn serve --demo");
        Self {
            child,
            listen,
            admin,
        }
    }

    /// The plugin's status for an all-services request with bearer `token`, once serving.
    async fn status_with(&mut self, token: &str) -> u16 {
        let client = reqwest::Client::new();
        let until = Instant::now() + BOUND;
        loop {
            assert!(
                self.child.try_wait().expect("wait").is_none(),
                "serve --demo exited"
            );
            let ready = client
                .get(format!("http://{}/readyz", self.admin))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(Instant::now() < until, "serve --demo never became ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        client
            .post(format!("http://{}{PLUGIN_PATH}", self.listen))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(r#"{"applicationSetName":"previews","input":{"parameters":{}}}"#)
            .send()
            .await
            .expect("an answer")
            .status()
            .as_u16()
    }
}

#[tokio::test]
async fn the_demo_honours_a_plugin_token_from_the_environment_or_a_file() {
    let mut demo = Demo::start(|serve| {
        serve.env("PREVIEW_TOWER_PLUGIN_TOKEN", "from-env");
    });
    assert_eq!(demo.status_with("from-env").await, 200);
    assert_eq!(demo.status_with("demo-token").await, 403);
    drop(demo);

    let file = temp_file("from-file\n");
    let path = file.path().to_owned();
    let mut demo = Demo::start(|serve| {
        serve.arg("--plugin-token-file").arg(&path);
    });
    assert_eq!(demo.status_with("from-file").await, 200);
    assert_eq!(demo.status_with("demo-token").await, 403);
}
