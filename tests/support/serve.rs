//! The real `preview-tower serve` binary in its own process, for end-to-end tests: free
//! loopback ports, configured only by what the test passes (the caller's `PREVIEW_TOWER_*`,
//! `KUBERNETES_*` and `KUBECONFIG` are removed), its output in a file that failure messages
//! quote, stopped with `SIGTERM` or killed when dropped.
//!
//! No timing assertion: deadlines here are generous bounds for a loaded machine.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_preview-tower");
/// The plugin token the service is started with.
pub const TOKEN: &str = "plugin-token-serve";
/// The plugin endpoint.
pub const PLUGIN_PATH: &str = "/api/v1/getparams.execute";

/// How `serve` is started.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The fleet file's text.
    pub fleet: String,
    /// GitHub's API URL (the fake's).
    pub github_url: String,
    /// A kubeconfig's text (the fake's); `None`: no Kubernetes API at all.
    pub kubeconfig: Option<String>,
    /// More environment variables (`PREVIEW_TOWER_*` twins of flags).
    pub env: Vec<(String, String)>,
}

/// A running `serve`.
pub struct Serve {
    child: Child,
    log: PathBuf,
    /// The plugin's port.
    pub listen: SocketAddr,
    /// The admin port.
    pub admin: SocketAddr,
    /// The webhook port (served when a webhook secret is given).
    pub webhook: SocketAddr,
    http: reqwest::Client,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `serve` with `options`, its files under `dir` named after `name`.
    pub fn start(dir: &Path, name: &str, options: &Options) -> Self {
        let fleet = dir.join(format!("{name}-fleet.yaml"));
        std::fs::write(&fleet, &options.fleet).expect("write the fleet file");
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("create the log");
        let (listen, admin, webhook) = (free_port(), free_port(), free_port());
        let mut command = Command::new(BIN);
        for (var, _) in std::env::vars_os() {
            let text = var.to_string_lossy();
            if text.starts_with("PREVIEW_TOWER_")
                || text.starts_with("KUBERNETES_")
                || text == "KUBECONFIG"
            {
                command.env_remove(var);
            }
        }
        // Without a kubeconfig of the test's, none is found (not the machine's own either).
        let kubeconfig = dir.join(format!("{name}-kubeconfig"));
        match &options.kubeconfig {
            Some(text) => std::fs::write(&kubeconfig, text).expect("write the kubeconfig"),
            None => {
                let _ = std::fs::remove_file(&kubeconfig);
            }
        }
        let child = command
            .arg("serve")
            .arg("--config")
            .arg(&fleet)
            .arg("--github-api-url")
            .arg(&options.github_url)
            .arg("--listen")
            .arg(listen.to_string())
            .arg("--admin-listen")
            .arg(admin.to_string())
            .arg("--webhook-listen")
            .arg(webhook.to_string())
            .env("PREVIEW_TOWER_GITHUB_TOKEN", "ghp_serve")
            .env("PREVIEW_TOWER_PLUGIN_TOKEN", TOKEN)
            .env("KUBECONFIG", &kubeconfig)
            .env("RUST_LOG", "info")
            .envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone the log handle"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        Self {
            child,
            log,
            listen,
            admin,
            webhook,
            http: reqwest::Client::new(),
        }
    }

    /// The service's output so far, for failure messages.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics (with the service's output) when the process has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(exit)) = self.child.try_wait() {
            panic!("preview-tower serve exited ({exit}):\n{}", self.output());
        }
    }

    /// Polls `check` every 20 ms until it holds, or panics after `deadline` with the service's
    /// output.
    pub async fn eventually<F: AsyncFnMut(&Serve) -> bool>(
        &mut self,
        what: &str,
        deadline: Duration,
        mut check: F,
    ) {
        let until = Instant::now() + deadline;
        loop {
            self.assert_running();
            if check(self).await {
                return;
            }
            assert!(
                Instant::now() < until,
                "{what}: not within {} s; preview-tower serve said:\n{}",
                deadline.as_secs(),
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&mut self, deadline: Duration) {
        let url = format!("http://{}/readyz", self.admin);
        self.eventually("ready", deadline, async |s| {
            s.http
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
    }

    /// The plugin's answer to `input.parameters` = `parameters`: the status and the body.
    pub async fn plugin(&self, parameters: &Value) -> (u16, Value) {
        self.try_plugin(parameters)
            .await
            .unwrap_or_else(|e| panic!("the plugin did not answer: {e}\n{}", self.output()))
    }

    /// [`Serve::plugin`], or the error when nothing answered (not listening yet).
    pub async fn try_plugin(&self, parameters: &Value) -> Result<(u16, Value), reqwest::Error> {
        let body = serde_json::json!({
            "applicationSetName": "previews",
            "input": {"parameters": parameters},
        });
        let answer = self
            .http
            .post(format!("http://{}{PLUGIN_PATH}", self.listen))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await?;
        let status = answer.status().as_u16();
        let body = answer.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// Posts `body` with `headers` to `path` on the webhook port: the status and the JSON
    /// answer.
    pub async fn post(
        &self,
        path: &str,
        headers: &[(&'static str, String)],
        body: &[u8],
    ) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("http://{}{path}", self.webhook))
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let answer = request.send().await.expect("an answer");
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    /// A sample of the service's `/metrics`, 0 when absent.
    pub async fn metric(&self, sample: &str) -> f64 {
        let Ok(answer) = self
            .http
            .get(format!("http://{}/metrics", self.admin))
            .send()
            .await
        else {
            return 0.0;
        };
        let text = answer.text().await.unwrap_or_default();
        text.lines()
            .find_map(|line| line.strip_prefix(sample)?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// Sends `SIGTERM` (as Kubernetes does to a pod it stops) and waits for the exit, at most
    /// `deadline`; panics if the process is still running then.
    pub async fn terminate(&mut self, deadline: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let until = Instant::now() + deadline;
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                return exit;
            }
            assert!(
                Instant::now() < until,
                "still running {} s after SIGTERM:\n{}",
                deadline.as_secs(),
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}
