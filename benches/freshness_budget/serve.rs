//! The real `preview-tower serve` as the resident-memory and reaction-time parts run it: the
//! bench's own binary in its own process, on free loopback ports, configured only by what the
//! bench passes, logging to a file, killed when dropped (also when the bench panics).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::fake_github::FakeGitHub;

/// The plugin token the service is started with.
pub const TOKEN: &str = "bench";

/// A running `serve`.
pub struct Service {
    child: Child,
    /// The plugin's port.
    pub listen: SocketAddr,
    /// The admin port: `/readyz`, `/metrics`.
    pub admin: SocketAddr,
    /// The webhook receiver's port.
    pub webhook: SocketAddr,
}

impl Service {
    /// Starts `binary serve` with the fleet file `fleet` against `github`, with `env` besides
    /// the GitHub and plugin tokens, and waits until it is ready.
    pub async fn start(
        binary: &Path,
        fleet: &Path,
        github: &FakeGitHub,
        log: &Path,
        env: &[(String, String)],
    ) -> Self {
        let (listen, admin) = (free_port(), free_port());
        // A build from before the webhook had its own port (the soak measures those too)
        // takes deliveries on the plugin's.
        let webhook = if supports(binary, "--webhook-listen") {
            free_port()
        } else {
            listen
        };
        let file = std::fs::File::create(log).expect("create the service log");
        let mut command = Command::new(binary);
        // Nothing from the caller's environment configures this run.
        for (name, _) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if name_text.starts_with("PREVIEW_TOWER_")
                || name_text.starts_with("MALLOC_")
                || name_text.starts_with("KUBERNETES_")
            {
                command.env_remove(name);
            }
        }
        let child = command
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .arg("serve")
            .arg("--config")
            .arg(fleet)
            .arg("--github-api-url")
            .arg(github.url().as_str())
            .arg("--listen")
            .arg(listen.to_string())
            .args(
                (webhook != listen)
                    .then(|| ["--webhook-listen".to_owned(), webhook.to_string()])
                    .into_iter()
                    .flatten(),
            )
            .arg("--admin-listen")
            .arg(admin.to_string())
            .env("PREVIEW_TOWER_GITHUB_TOKEN", "ghp_bench")
            .env("PREVIEW_TOWER_PLUGIN_TOKEN", TOKEN)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("clone the log handle"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut service = Self {
            child,
            listen,
            admin,
            webhook,
        };
        service.wait_ready(log.to_path_buf()).await;
        service
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Panics when the service has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(exit)) = self.child.try_wait() {
            panic!("preview-tower serve exited ({exit})");
        }
    }

    /// Polls `/readyz` until it answers 200 (every repo's first refresh tried).
    async fn wait_ready(&mut self, log: PathBuf) {
        let client = reqwest::Client::new();
        let url = format!("http://{}/readyz", self.admin);
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("preview-tower serve exited ({exit}); see {}", log.display());
            }
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "preview-tower serve not ready after 300 s; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `binary serve --help` names `flag`.
fn supports(binary: &Path, flag: &str) -> bool {
    Command::new(binary)
        .args(["serve", "--help"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(flag))
}

/// A port free a moment ago on 127.0.0.1.
fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// The `MALLOC_*` environment of the preview-tower container in `manifests/deployment.yaml`.
pub fn shipped_allocator() -> Vec<(String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/deployment.yaml");
    let text = std::fs::read_to_string(&path).expect("read manifests/deployment.yaml");
    let deployment: serde_json::Value =
        serde_saphyr::from_str(&text).expect("manifests/deployment.yaml is YAML");
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["env"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| {
            let name = e["name"].as_str()?;
            let value = e["value"].as_str()?;
            name.starts_with("MALLOC_")
                .then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}
