//! The world the TTL tests run in: the fake GitHub and Kubernetes API, the real sync,
//! freshness and webhook sink, and a clock moved by hand; the helpers the tests share.

use super::support::fake_github::{FakeGitHub, FakePull, sha1_hex};
use super::support::fake_kube::{FakeKube, applicationset};
use chrono::{DateTime, Utc};
use preview_tower::argocd::refresh::ApplicationSetRefresher;
use preview_tower::fleet::Fleet;
use preview_tower::freshness::Freshness;
use preview_tower::freshness::sink::FreshnessSink;
use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::github::webhook::WebhookSink;
use preview_tower::github::webhook::{Delivered, Event};
use preview_tower::github::{Collaborators, PullRequestSource};
use preview_tower::metrics::Metrics;
use preview_tower::naming::RepoName;
use preview_tower::plan::{ExclusionReason, Preview};
use preview_tower::pull_request::{Command, parse_command};
use preview_tower::snapshot::{Query, Snapshot, SnapshotStore};
use preview_tower::sync::Syncer;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const REPO: &str = "acme/web";
/// The TTL of every service in these tests.
pub const TTL_HOURS: i64 = 2;

pub fn hours(n: i64) -> chrono::Duration {
    chrono::Duration::hours(n)
}

pub fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

pub fn repo() -> RepoName {
    REPO.parse().unwrap()
}

/// The fakes, the sync on a hand-moved clock, and freshness over them (the poll loop does not
/// run: refreshes are the pokes', the timer's, or the test's own).
pub struct World {
    pub github: FakeGitHub,
    pub kube: FakeKube,
    pub syncer: Arc<Syncer>,
    pub freshness: Arc<Freshness>,
    /// The webhook receiver's sink, as `serve` builds it.
    pub sink: FreshnessSink,
    pub offset: Arc<Mutex<chrono::Duration>>,
    pub cancel: CancellationToken,
    pub running: JoinHandle<()>,
}

impl World {
    /// The demo fleet with a two-hour TTL, a 30-minute warning and no sleep, changed by
    /// `adjust`; repos empty but for `acme/web` PRs the test opens.
    pub async fn new(adjust: impl FnOnce(&mut Fleet)) -> Self {
        let github = FakeGitHub::start().await;
        for name in ["acme/web", "acme/api", "acme/billing"] {
            github.add_repo(name);
        }
        github.set_permission(REPO, "mona", "write");
        github.set_permission(REPO, "eve", "read");
        let kube = FakeKube::start().await;
        kube.put_applicationset(applicationset("previews"));
        let mut fleet = Fleet::from_yaml(preview_tower::demo::FLEET_YAML).unwrap();
        for service in &mut fleet.services {
            service.policy.ttl = Duration::from_secs(TTL_HOURS as u64 * 3600);
            service.policy.expiry_warning = Duration::from_secs(30 * 60);
            service.policy.sleep.enabled = false;
        }
        adjust(&mut fleet);
        let fleet = Arc::new(fleet);
        let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
            &fleet,
        ))));
        let metrics = Arc::new(Metrics::unregistered());
        let github_source = Arc::new(
            GitHubSource::new(
                github.url(),
                Credentials::token("ghp_sync").unwrap(),
                Duration::from_secs(2),
            )
            .unwrap(),
        );
        let offset = Arc::new(Mutex::new(chrono::Duration::zero()));
        let clock_offset = Arc::clone(&offset);
        let syncer = Syncer::new(
            Arc::clone(&fleet),
            Arc::clone(&github_source) as Arc<dyn PullRequestSource>,
            store,
            Arc::clone(&metrics),
        )
        .with_collaborators(Arc::clone(&github_source) as Arc<dyn Collaborators>)
        .with_clock(Arc::new(move || Utc::now() + *clock_offset.lock().unwrap()));
        let syncer = Arc::new(syncer);
        syncer.refresh_all().await.unwrap();
        let refresher = ApplicationSetRefresher::new(kube.client(), "argocd");
        let freshness = Arc::new(Freshness::new(
            Arc::clone(&syncer),
            fleet,
            Some(refresher),
            metrics,
        ));
        let sink = FreshnessSink::new(Arc::clone(&freshness));
        let cancel = CancellationToken::new();
        let running = tokio::spawn(Arc::clone(&freshness).run(cancel.clone()));
        Self {
            github,
            kube,
            syncer,
            freshness,
            sink,
            offset,
            cancel,
            running,
        }
    }

    /// Moves both clocks `by` ahead.
    pub fn advance(&self, by: chrono::Duration) {
        *self.offset.lock().unwrap() += by;
        self.github.advance_clock(by);
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.syncer.now()
    }

    pub fn open(&self, number: u64, labels: &[&str]) {
        let pull = FakePull::new(number)
            .branch(&format!("feature/{number}"))
            .head_sha(&sha1_hex(format!("{number}-A").as_bytes()))
            .labels(labels);
        self.github.open_pull(REPO, pull);
    }

    /// A refresh of `acme/web`, as the poll loop would do it.
    pub async fn poll(&self) {
        self.syncer.refresh(&repo()).await.unwrap();
    }

    /// Waits for the rounds the pokes so far asked for.
    pub async fn settle(&self, rounds: u64) {
        let repo = repo();
        eventually("acme/web settled", || {
            self.freshness.rounds(&repo) >= rounds && self.freshness.is_idle(&repo)
        })
        .await;
    }

    pub fn rounds(&self) -> u64 {
        self.freshness.rounds(&repo())
    }

    /// The timer's look at the clock: pokes and waits for what was due.
    pub async fn tick(&self) -> Vec<RepoName> {
        let before = self.rounds();
        let due = self.freshness.poke_due();
        if !due.is_empty() {
            self.settle(before + 1).await;
        }
        due
    }

    /// A `/preview` comment by `login`, delivered as the webhook would.
    pub fn command(&self, number: u64, login: &str, body: &str) {
        self.github.comment_as(REPO, number, login, body);
        let command: Command = parse_command(body).unwrap().unwrap();
        let delivered = self.sink.deliver(Event::Command {
            repo: repo(),
            number,
            author: login.to_owned(),
            command,
        });
        assert_eq!(
            delivered,
            Delivered::Accepted,
            "its author is being checked"
        );
    }

    pub fn web(&self, number: u64) -> Option<Preview> {
        let snapshot = self.syncer.snapshot();
        let previews = &snapshot.plan().previews;
        previews
            .iter()
            .find(|p| p.service.as_str() == "web" && p.pr.number == number)
            .cloned()
    }

    pub fn excluded(&self, number: u64) -> Option<ExclusionReason> {
        let snapshot = self.syncer.snapshot();
        let excluded = &snapshot.plan().excluded;
        excluded
            .iter()
            .find(|e| e.service.as_str() == "web" && e.number == number)
            .map(|e| e.reason)
    }

    /// The numbers in the plugin's answer for `web`, with their `replicas` parameter.
    pub fn answer(&self) -> Vec<(String, String)> {
        let name = "web".to_owned();
        let body = self
            .syncer
            .snapshot()
            .answer(&Query::Service(name))
            .unwrap();
        let value: Value = serde_json::from_slice(&body).unwrap();
        let mut out = Vec::new();
        collect(&value, &mut out);
        out
    }

    pub fn patches(&self) -> usize {
        self.kube.applicationset_patches().len()
    }

    pub async fn stop(self) {
        self.cancel.cancel();
        self.running.await.unwrap();
    }
}

/// Every parameter set (an object with `number` and `replicas`) in `value`.
pub fn collect(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(n)), Some(Value::String(r))) =
                (map.get("number"), map.get("replicas"))
            {
                out.push((n.clone(), r.clone()));
            }
            map.values().for_each(|v| collect(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}

/// Polls `done` every 10 ms for up to 20 s.
pub async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn near(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).num_seconds().abs() < 60
}
