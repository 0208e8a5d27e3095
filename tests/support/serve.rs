//! The real `preview-tower serve` binary in its own process, for end-to-end tests and the
//! benchmarks: free loopback ports, configured only by what the caller passes (the caller's
//! `PREVIEW_TOWER_*`, `KUBERNETES_*`, `MALLOC_*` and `KUBECONFIG` are removed), its output in a
//! file that failure messages quote, stopped with `SIGTERM` or killed when dropped (also when
//! the caller panics). [`Serve::start_demo`] runs `serve --demo` with its previews board, for
//! the board's browser test.
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
    /// More environment variables (`PREVIEW_TOWER_*` twins of flags, `MALLOC_*`), set last.
    pub env: Vec<(String, String)>,
    /// Another build of `preview-tower` to run instead of [`BIN`] (the soak measures earlier
    /// versions; one from before the webhook had its own port takes deliveries on the
    /// plugin's).
    pub binary: Option<PathBuf>,
    /// Where the output goes; `None`: `<name>.log` in the directory given to [`Serve::start`].
    pub log: Option<PathBuf>,
    /// Leaves `RUST_LOG` unset, so that the service logs at its own default level as the
    /// benchmarks measure it; otherwise `RUST_LOG=info`, for failure messages.
    pub quiet: bool,
}

/// A running `serve`.
pub struct Serve {
    child: Child,
    log: PathBuf,
    /// The plugin's port.
    pub listen: SocketAddr,
    /// The admin port.
    pub admin: SocketAddr,
    /// The webhook port (served when a webhook secret is given); the plugin's for a build
    /// without `--webhook-listen`.
    pub webhook: SocketAddr,
    /// The previews board's port (`--board-listen`), when it is served: only by
    /// [`Serve::start_demo`].
    pub board: Option<SocketAddr>,
    http: reqwest::Client,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `serve` with `options`, its files under `dir` named after `name`; it is not
    /// ready yet (see [`Serve::wait_ready`]).
    pub fn start(dir: &Path, name: &str, options: &Options) -> Self {
        let binary = options.binary.as_deref().unwrap_or(Path::new(BIN));
        let fleet = dir.join(format!("{name}-fleet.yaml"));
        std::fs::write(&fleet, &options.fleet).expect("write the fleet file");
        let kubeconfig = kubeconfig_file(dir, name, options.kubeconfig.as_deref());
        let log = options
            .log
            .clone()
            .unwrap_or_else(|| dir.join(format!("{name}.log")));
        let out = std::fs::File::create(&log).expect("create the log");
        let (listen, admin) = (free_port(), free_port());
        let webhook = if has_webhook_port(binary) {
            free_port()
        } else {
            listen
        };
        let child = isolated(binary, options.quiet)
            .arg("serve")
            .arg("--config")
            .arg(&fleet)
            .arg("--github-api-url")
            .arg(&options.github_url)
            .arg("--listen")
            .arg(listen.to_string())
            .arg("--admin-listen")
            .arg(admin.to_string())
            .args(
                (webhook != listen)
                    .then(|| ["--webhook-listen".to_owned(), webhook.to_string()])
                    .into_iter()
                    .flatten(),
            )
            .env("PREVIEW_TOWER_GITHUB_TOKEN", "ghp_serve")
            .env("PREVIEW_TOWER_PLUGIN_TOKEN", TOKEN)
            .env("KUBECONFIG", &kubeconfig)
            .envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone the log handle"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Self {
            child,
            log,
            listen,
            admin,
            webhook,
            board: None,
            http: reqwest::Client::new(),
        }
    }

    /// Starts `serve --demo` (the embedded demo fleet and pull requests, its own pretend
    /// Applications: no GitHub, no Kubernetes API, no fleet file) with the previews board on a
    /// port of its own ([`Serve::board`]), its output in `<name>.log` under `dir`; it is not
    /// ready yet. The webhook port is chosen too, though the demo has no webhook secret and
    /// does not serve it.
    pub fn start_demo(dir: &Path, name: &str) -> Self {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("create the log");
        let (listen, admin, webhook, board) = (free_port(), free_port(), free_port(), free_port());
        let child = isolated(Path::new(BIN), false)
            .arg("serve")
            .arg("--demo")
            .args(["--listen", &listen.to_string()])
            .args(["--admin-listen", &admin.to_string()])
            .args(["--webhook-listen", &webhook.to_string()])
            .args(["--board-listen", &board.to_string()])
            .env("PREVIEW_TOWER_PLUGIN_TOKEN", TOKEN)
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
            board: Some(board),
            http: reqwest::Client::new(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
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

/// A command running `binary` without anything of the caller's environment that would
/// configure it; `RUST_LOG=info` unless `quiet`.
fn isolated(binary: &Path, quiet: bool) -> Command {
    let mut command = Command::new(binary);
    for (var, _) in std::env::vars_os() {
        let text = var.to_string_lossy();
        if ["PREVIEW_TOWER_", "KUBERNETES_", "MALLOC_"]
            .iter()
            .any(|prefix| text.starts_with(prefix))
            || text == "KUBECONFIG"
        {
            command.env_remove(var);
        }
    }
    if quiet {
        command.env_remove("RUST_LOG");
    } else {
        command.env("RUST_LOG", "info");
    }
    command
}

/// The kubeconfig file for `text` under `dir`; without `text`, a path where there is none, so
/// that no Kubernetes API is found (not the machine's own either).
fn kubeconfig_file(dir: &Path, name: &str, text: Option<&str>) -> PathBuf {
    let kubeconfig = dir.join(format!("{name}-kubeconfig"));
    match text {
        Some(text) => std::fs::write(&kubeconfig, text).expect("write the kubeconfig"),
        None => {
            let _ = std::fs::remove_file(&kubeconfig);
        }
    }
    kubeconfig
}

/// Whether `binary` serves webhooks on a port of their own: the one under test does, an
/// earlier build does when `serve --help` names `--webhook-listen`.
fn has_webhook_port(binary: &Path) -> bool {
    binary == Path::new(BIN)
        || Command::new(binary)
            .args(["serve", "--help"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--webhook-listen"))
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}
