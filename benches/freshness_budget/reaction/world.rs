//! The world the reaction time is measured in: the fake GitHub and Kubernetes API, the real
//! service between them, and one delivery at a time, timed.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use preview_tower::argocd::refresh::REFRESH_ANNOTATION;
use preview_tower::http::{PLUGIN_PATH, WEBHOOK_PATH};
use tokio::runtime::Handle;

use super::{PATCH_DEADLINE, Plan, READY_DEADLINE, SECRET, Stats, Timed};
use crate::fixture;
use crate::support::fake_github::{FakeGitHub, sha1_hex};
use crate::support::fake_kube::{FakeKube, PatchRecord, applicationset};
use crate::support::serve::{Options, Serve, TOKEN};
use crate::support::webhook_payload;

/// The fakes and the service, ready.
pub(super) struct World {
    pub(super) github: FakeGitHub,
    pub(super) kube: FakeKube,
    service: Serve,
    listen: SocketAddr,
    webhook: SocketAddr,
    admin: SocketAddr,
    http: reqwest::Client,
    /// Deliveries sent so far (for delivery ids and new SHAs).
    sent: usize,
    _dir: tempfile::TempDir,
}

impl World {
    pub(super) async fn start(binary: &Path, plan: &Plan, fakes: &Handle) -> Self {
        let github = fakes
            .spawn(FakeGitHub::start())
            .await
            .expect("the fake GitHub starts");
        github.open_labelled_pulls(plan.services, plan.pulls);
        let kube = fakes
            .spawn(FakeKube::start())
            .await
            .expect("the fake Kubernetes API starts");
        kube.put_applicationset(applicationset("previews"));

        let dir = tempfile::tempdir().expect("a temporary directory");
        let options = Options {
            fleet: fixture::fleet_yaml_with_webhooks(plan.services, "1h"),
            github_url: github.url().to_string(),
            kubeconfig: Some(kube.kubeconfig()),
            env: vec![("PREVIEW_TOWER_WEBHOOK_SECRET".to_owned(), SECRET.to_owned())],
            binary: Some(binary.to_owned()),
            log: Some(plan.log.clone()),
            quiet: true,
        };
        let mut service = Serve::start(dir.path(), "reaction", &options);
        service.wait_ready(READY_DEADLINE).await;
        let (listen, webhook, admin) = (service.listen, service.webhook, service.admin);
        Self {
            github,
            kube,
            service,
            listen,
            webhook,
            admin,
            http: reqwest::Client::new(),
            sent: 0,
            _dir: dir,
        }
    }

    /// Pushes to the next PR, delivers its `synchronize`, waits for the patch; with `watch`,
    /// polls the PR's plugin answer meanwhile.
    pub(super) async fn deliver(&mut self, plan: &Plan, watch: bool) -> Timed {
        let n = self.sent;
        self.sent += 1;
        let service = n % plan.services;
        let number = 1 + (n / plan.services) as u64 % plan.pulls;
        let repo = format!("acme/svc-{service}");
        let sha = sha1_hex(format!("reaction push {n}").as_bytes());
        // As GitHub's: each push's delivery names its new head (two bodies are never equal).
        let mut payload = webhook_payload::pull_request("synchronize", &repo, number);
        payload["pull_request"]["head"]["sha"] = serde_json::json!(sha);
        payload["after"] = serde_json::json!(sha);
        let body = serde_json::to_vec(&payload).expect("JSON");
        let id = format!("72d3162e-cc78-11e3-81ab-{n:012x}");
        let headers = webhook_payload::headers("pull_request", &id, SECRET, &body);
        let before = self.kube.applicationset_patches().len();
        self.github.push(&repo, number, &sha);

        let mut request = self
            .http
            .post(format!("http://{}{WEBHOOK_PATH}", self.webhook))
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let sent = Instant::now();
        let answer = request
            .send()
            .await
            .expect("the service answers the webhook");
        let status = answer.status();
        let _ = answer.bytes().await;
        let answered = sent.elapsed();
        assert_eq!(status, 202, "the delivery is accepted");

        let params = if watch {
            Some(self.await_params(service, number, &sha, sent).await)
        } else {
            None
        };
        let patch = self.await_patch(before).await;
        assert!(
            patch.patch["metadata"]["annotations"][REFRESH_ANNOTATION].is_string(),
            "a refresh patch: {:?}",
            patch.patch
        );
        let patched = patch.arrived.saturating_duration_since(sent);
        if !watch {
            // Once patched, the new parameters must be served.
            let body = self.params(service, number).await;
            assert!(
                body.contains(&sha),
                "patched, yet the plugin serves the old head"
            );
        }
        tokio::time::sleep(plan.gap).await;
        Timed {
            answered,
            patched,
            params,
        }
    }

    async fn await_patch(&mut self, before: usize) -> PatchRecord {
        let deadline = Instant::now() + PATCH_DEADLINE;
        loop {
            if let Some(patch) = self.kube.applicationset_patches().get(before) {
                return patch.clone();
            }
            self.service.assert_running();
            assert!(
                Instant::now() < deadline,
                "no refresh patch {} s after the webhook",
                PATCH_DEADLINE.as_secs()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    async fn await_params(
        &self,
        service: usize,
        number: u64,
        sha: &str,
        sent: Instant,
    ) -> Duration {
        let deadline = Instant::now() + PATCH_DEADLINE;
        loop {
            if self.params(service, number).await.contains(sha) {
                return sent.elapsed();
            }
            assert!(Instant::now() < deadline, "new parameters never served");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// The plugin's answer for one preview (its matrix question).
    async fn params(&self, service: usize, number: u64) -> String {
        let question = format!(
            r#"{{"applicationSetName":"previews","input":{{"parameters":{{"service":"svc-{service}","number":"{number}"}}}}}}"#
        );
        let answer = self
            .http
            .post(format!("http://{}{PLUGIN_PATH}", self.listen))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(question)
            .send()
            .await
            .expect("the plugin answers");
        assert_eq!(answer.status(), 200, "the plugin answers 200");
        answer.text().await.expect("the answer")
    }

    /// The mean of the service's own poke-to-patch histogram, from its `/metrics`.
    pub(super) async fn poke_to_patch_mean(&self) -> Duration {
        let text = self
            .http
            .get(format!("http://{}/metrics", self.admin))
            .send()
            .await
            .expect("the admin port answers")
            .text()
            .await
            .expect("the metrics");
        let value = |suffix: &str| {
            text.lines()
                .find_map(|line| {
                    let rest = line.strip_prefix("preview_tower_freshness_poke_to_patch")?;
                    let rest = rest.strip_prefix(suffix)?;
                    rest.rsplit(' ').next()?.parse::<f64>().ok()
                })
                .unwrap_or(0.0)
        };
        let (sum, count) = (value("_seconds_sum"), value("_seconds_count"));
        let (sum, count) = if count > 0.0 {
            (sum, count)
        } else {
            (value("_sum"), value("_count"))
        };
        if count > 0.0 {
            Duration::from_secs_f64(sum / count)
        } else {
            Duration::ZERO
        }
    }

    /// The fake's time to answer one repo's (changed) list page in full, 20 times.
    pub(super) async fn fake_list_page(&self, plan: &Plan) -> Stats {
        let mut times = Vec::new();
        for i in 0..20 {
            let url = format!(
                "{}/repos/acme/svc-{}/pulls?state=open&per_page=100",
                self.github.url().as_str().trim_end_matches('/'),
                i % plan.services
            );
            let started = Instant::now();
            let page = self
                .http
                .get(&url)
                .bearer_auth("ghp_bench")
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .expect("the fake lists the pulls");
            let _ = page.bytes().await.expect("the page");
            times.push(started.elapsed());
        }
        Stats::of(times)
    }
}
