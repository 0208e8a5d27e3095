//! The world a lifecycle test runs in: the fake GitHub, Kubernetes API and Jira, the sync that
//! feeds the plugin's snapshot, and pods that run the lifecycle as `serve` does.

use std::sync::Arc;
use std::time::Duration;

use preview_tower::argocd::ApplicationIndex;
use preview_tower::cost::meter::SharedMeter;
use preview_tower::fleet::Fleet;
use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::jira::rest::{Edition, JiraAuth, JiraConfig, JiraRest};
use preview_tower::leader::LeaseConfig;
use preview_tower::metrics::Metrics;
use preview_tower::reconcile::{Parts, Settings, start};
use preview_tower::snapshot::{Snapshot, SnapshotStore};
use preview_tower::sync::Syncer;
use secrecy::SecretString;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::support::fake_github::{FakeGitHub, FakePull};
use super::support::fake_jira::{EMAIL, FakeJira, TOKEN};
use super::support::fake_kube::{FakeKube, application, status};
use super::{APP, ARGOCD, ISSUE, PR, REPO, sha};

/// Everything the lifecycle talks to, and the sync that feeds it.
pub(crate) struct World {
    pub(crate) github: FakeGitHub,
    pub(crate) kube: FakeKube,
    pub(crate) jira: FakeJira,
    pub(crate) fleet: Arc<Fleet>,
    pub(crate) store: Arc<SnapshotStore>,
    pub(crate) syncer: Syncer,
    /// The lifecycle's GitHub timeout.
    timeout: Duration,
    /// Least time between GitHub writes.
    pub(crate) write_interval: Duration,
}

/// A running lifecycle, as one pod would run it.
pub(crate) struct Pod {
    cancel: CancellationToken,
    task: JoinHandle<()>,
    /// The Applications as the pod's watch sees them: what its lifecycle reads, and what its
    /// board reads (`serve` feeds both from one watch).
    pub(crate) index: Arc<ApplicationIndex>,
    /// The pod's cost meter (the lifecycle's comment and the board read it).
    pub(crate) meter: SharedMeter,
}

impl Pod {
    /// Stops it as a shutdown would (the lease is released).
    pub(crate) async fn stop(self) {
        self.cancel.cancel();
        self.task.await.unwrap();
    }
}

impl World {
    pub(crate) async fn new(timeout: Duration, edition: Edition) -> Self {
        let github = FakeGitHub::start().await;
        for repo in ["acme/web", "acme/api", "acme/billing"] {
            github.add_repo(repo);
        }
        github.open_pull(
            REPO,
            FakePull::new(PR)
                // NOPE-9 names no issue: Jira answers 404 for it, which must block nothing.
                .title("SHOP-1: a new login page (not NOPE-9)")
                .branch("feature/login")
                .head_sha(&sha("A"))
                .labels(&["preview"]),
        );
        let kube = FakeKube::start().await;
        let jira = FakeJira::start(edition).await;
        jira.add_issue(ISSUE);
        let fleet = Arc::new(Fleet::from_yaml(preview_tower::demo::FLEET_YAML).unwrap());
        let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
            &fleet,
        ))));
        let syncer = syncer(&github, &fleet, &store);
        Self {
            github,
            kube,
            jira,
            fleet,
            store,
            syncer,
            timeout,
            write_interval: Duration::from_millis(40),
        }
    }

    /// preview-tower restarts: the plugin's memory is empty, and the new sync knows which
    /// previews exist from the Applications it watches.
    pub(crate) async fn restart_sync(&mut self) {
        self.store
            .store(Arc::new(Snapshot::unsynced(Arc::clone(&self.fleet))));
        let (index, _watch) = preview_tower::argocd::watch::spawn(
            self.kube.client(),
            "argocd".into(),
            Arc::new(Metrics::unregistered()),
            CancellationToken::new(),
        );
        while index.observed().is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.syncer = syncer(&self.github, &self.fleet, &self.store).with_applications(index);
    }

    /// One refresh of every repo, as the sync loop (or a webhook) would do it.
    pub(crate) async fn sync(&self) {
        self.syncer.refresh_all().await.unwrap();
    }

    /// Starts a lifecycle as pod `identity` would, with an empty memory.
    pub(crate) fn start_pod(&self, identity: &str) -> Pod {
        self.start_pod_as(identity, Credentials::token("ghp_lifecycle").unwrap())
    }

    /// [`World::start_pod`], writing to GitHub with `credentials`.
    pub(crate) fn start_pod_as(&self, identity: &str, credentials: Credentials) -> Pod {
        let github = GitHubSource::new(self.github.url(), credentials, self.timeout).unwrap();
        let jira = JiraRest::new(JiraConfig {
            base_url: self.jira.url(),
            edition: self.jira.edition(),
            auth: match self.jira.edition() {
                Edition::Cloud => JiraAuth::Basic {
                    email: EMAIL.to_owned(),
                    token: SecretString::from(TOKEN),
                },
                Edition::DataCenter => JiraAuth::Bearer {
                    token: SecretString::from(TOKEN),
                },
            },
            timeout: Duration::from_secs(2),
        })
        .unwrap();
        let meter = SharedMeter::default();
        let parts = Parts {
            kube: self.kube.client(),
            lease: Some(LeaseConfig {
                namespace: "preview-tower".into(),
                name: "preview-tower-lifecycle".into(),
                identity: identity.into(),
                duration: Duration::from_secs(15),
                renew_every: Duration::from_millis(200),
            }),
            github: Arc::new(github),
            jira: Some(Arc::new(jira)),
            meter: meter.clone(),
            settings: Settings {
                applications_url: Some(format!("{ARGOCD}/applications/argocd")),
                write_interval: self.write_interval,
                deployment_scan: 100,
                resync_interval: Duration::from_secs(3600),
                jira_projects: vec![],
            },
        };
        let cancel = CancellationToken::new();
        let metrics = Arc::new(Metrics::unregistered());
        // Each pod watches the Applications itself, as `serve` does.
        let (index, _watch) = preview_tower::argocd::watch::spawn(
            self.kube.client(),
            "argocd".into(),
            Arc::clone(&metrics),
            cancel.clone(),
        );
        let task = start(
            parts,
            Arc::clone(&self.fleet),
            Arc::clone(&self.store),
            metrics,
            Arc::clone(&index),
            cancel.clone(),
        );
        Pod {
            cancel,
            task,
            index,
            meter,
        }
    }

    /// Argo CD reports the preview's Application in this state (creating it the first time).
    pub(crate) fn argo(&self, sync: &str, commit: &str, health: &str, phase: &str) {
        self.argo_saying(sync, commit, health, phase, None);
    }

    /// [`World::argo`], with Argo CD's `message` (the operation's and the health's).
    pub(crate) fn argo_saying(
        &self,
        sync: &str,
        commit: &str,
        health: &str,
        phase: &str,
        message: Option<&str>,
    ) {
        let state = status(sync, &sha(commit), health, Some(phase), message);
        if self.kube.application(APP).is_none() {
            let mut app = application(
                APP,
                &[
                    ("preview-tower.io/preview", "true"),
                    ("preview-tower.io/service", "web"),
                    ("preview-tower.io/pr", "7"),
                ],
            );
            app["status"] = state;
            self.kube.put_application(app);
        } else {
            self.kube.patch_status(APP, state);
        }
    }

    /// `(sha seed, states)` of every deployment of the repo, oldest first.
    pub(crate) fn deployments(&self) -> Vec<(String, Vec<String>)> {
        let seeds = ["A", "B", "C"];
        self.github
            .deployments(REPO)
            .into_iter()
            .map(|d| {
                let seed = seeds
                    .iter()
                    .find(|s| sha(s) == d.sha)
                    .map_or(d.sha.clone(), |s| (*s).to_owned());
                (seed, d.statuses.into_iter().map(|s| s.state).collect())
            })
            .collect()
    }

    /// The PR's comments' bodies.
    pub(crate) fn comments(&self) -> Vec<String> {
        self.github
            .comments(REPO, PR)
            .into_iter()
            .map(|(_, body)| body)
            .collect()
    }

    /// The Jira comments' texts on the issue.
    pub(crate) fn jira_texts(&self) -> Vec<String> {
        self.jira
            .comments(ISSUE)
            .into_iter()
            .map(|c| c.text)
            .collect()
    }
}

/// The sync of the world's repos, publishing into `store`.
fn syncer(github: &FakeGitHub, fleet: &Arc<Fleet>, store: &Arc<SnapshotStore>) -> Syncer {
    let source = GitHubSource::new(
        github.url(),
        Credentials::token("ghp_sync").unwrap(),
        Duration::from_secs(5),
    )
    .unwrap();
    // Planned on a Wednesday morning in Paris, inside the demo fleet's working hours, so
    // that the previews are awake whenever the tests run.
    let working_hours = chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    Syncer::new(
        Arc::clone(fleet),
        Arc::new(source),
        Arc::clone(store),
        Arc::new(Metrics::unregistered()),
    )
    .with_clock(Arc::new(move || working_hours))
}
