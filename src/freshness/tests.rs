//! The workers' coalescing and retries against an in-memory source, on a paused clock. (The
//! real adapters against fake GitHub and Kubernetes servers are in `tests/freshness.rs`.)

use std::sync::atomic::{AtomicBool, AtomicUsize};

use async_trait::async_trait;
use tokio::sync::Semaphore;

use super::*;
use crate::github::PullRequestSource;
use crate::github::webhook::Event;
use crate::naming::ServiceName;
use crate::pull_request::{ConfigFile, PullRequest};
use crate::snapshot::{Snapshot, SnapshotStore};
use crate::testing::{fleet, pr};

/// Lists PR 1 in every repo, counting listings; a listing can fail or wait for a permit.
#[derive(Default)]
struct Source {
    listings: AtomicUsize,
    failing: AtomicBool,
    gate: Option<Semaphore>,
}

#[async_trait]
impl PullRequestSource for Source {
    async fn open_pull_requests(
        &self,
        _: &RepoName,
    ) -> Result<Vec<std::sync::Arc<PullRequest>>, GitHubError> {
        self.listings.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("open gate").forget();
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(GitHubError::Upstream {
                status: 502,
                message: "bad gateway".into(),
            });
        }
        Ok(vec![pr(1).into()])
    }

    async fn open_pull_request(
        &self,
        _: &RepoName,
        _: u64,
    ) -> Result<Option<PullRequest>, GitHubError> {
        Ok(None)
    }

    async fn file_at(&self, _: &RepoName, _: &str, _: &str) -> Result<ConfigFile, GitHubError> {
        Ok(ConfigFile::Missing)
    }

    async fn object_sha_at(
        &self,
        _: &RepoName,
        _: &str,
        _: &str,
    ) -> Result<Option<String>, GitHubError> {
        Ok(None)
    }

    async fn build_status(
        &self,
        _: &RepoName,
        _: &str,
        _: &str,
    ) -> Result<crate::pull_request::BuildStatus, GitHubError> {
        Ok(crate::pull_request::BuildStatus::Succeeded)
    }

    async fn pull_request_commits(
        &self,
        _: &RepoName,
        _: u64,
        _: usize,
    ) -> Result<Vec<String>, GitHubError> {
        Ok(Vec::new())
    }
}

fn freshness(source: &Arc<Source>) -> Arc<Freshness> {
    let fleet = Arc::new(fleet());
    let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
        &fleet,
    ))));
    let metrics = Arc::new(Metrics::unregistered());
    let syncer = Syncer::new(
        Arc::clone(&fleet),
        Arc::clone(source) as Arc<dyn PullRequestSource>,
        store,
        Arc::clone(&metrics),
    );
    Arc::new(Freshness::new(Arc::new(syncer), fleet, None, metrics))
}

fn web() -> RepoName {
    "acme/web".parse().expect("repo")
}

/// Waits (on the paused clock) until `done`; panics after an hour of virtual time.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(3600);
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn pokes_during_a_refresh_make_exactly_one_more() {
    let source = Arc::new(Source {
        gate: Some(Semaphore::new(0)),
        ..Source::default()
    });
    let freshness = freshness(&source);
    let cancel = CancellationToken::new();
    let running = tokio::spawn(Arc::clone(&freshness).run(cancel.clone()));
    assert!(freshness.poke(&web()));
    until("the first listing", || {
        source.listings.load(Ordering::SeqCst) == 1
    })
    .await;
    for _ in 0..5 {
        assert!(freshness.poke(&web()));
    }
    assert!(!freshness.is_idle(&web()));
    source.gate.as_ref().expect("gate").add_permits(100);
    until("idle", || freshness.is_idle(&web())).await;
    assert_eq!(source.listings.load(Ordering::SeqCst), 2);
    assert_eq!(freshness.rounds(&web()), 2);
    assert_eq!(freshness.rounds(&"acme/api".parse().expect("repo")), 0);
    cancel.cancel();
    running.await.expect("workers stop on cancel");
}

#[tokio::test(start_paused = true)]
async fn a_failing_refresh_is_retried_then_left_to_the_poll_loop() {
    let source = Arc::new(Source::default());
    source.failing.store(true, Ordering::SeqCst);
    let freshness = freshness(&source);
    let cancel = CancellationToken::new();
    let running = tokio::spawn(Arc::clone(&freshness).run(cancel.clone()));
    freshness.poke(&web());
    until("idle", || freshness.is_idle(&web())).await;
    let tries = 1 + usize::try_from(MAX_RETRIES).expect("small");
    assert_eq!(source.listings.load(Ordering::SeqCst), tries);
    assert_eq!(
        freshness
            .metrics
            .freshness
            .refreshes
            .get_or_create(&OutcomeLabels {
                outcome: "upstream"
            })
            .get(),
        6
    );
    // GitHub recovers; the next poke succeeds at once and ends the retries.
    source.failing.store(false, Ordering::SeqCst);
    freshness.poke(&web());
    until("idle", || freshness.is_idle(&web())).await;
    assert_eq!(source.listings.load(Ordering::SeqCst), tries + 1);
    cancel.cancel();
    running.await.expect("workers stop on cancel");
}

#[tokio::test]
async fn repos_outside_the_fleet_are_ignored_and_names_match_in_any_case() {
    let freshness = freshness(&Arc::new(Source::default()));
    assert!(!freshness.poke(&"acme/other".parse().expect("repo")));
    assert!(freshness.is_idle(&"acme/other".parse().expect("repo")));
    assert!(freshness.poke(&"Acme/WEB".parse().expect("repo")));
    assert!(!freshness.is_idle(&web()), "the same repo as `acme/web`");
    assert_eq!(freshness.metrics.freshness.pokes.get(), 1);
}

#[test]
fn each_applicationset_is_listed_once_with_the_services_it_serves() {
    let mut fleet = fleet();
    fleet.services[0].applicationsets = vec!["previews-web".into(), "previews".into()];
    fleet.services[2].applicationsets = vec![];
    let names = |list: &[&str]| -> Vec<ServiceName> {
        list.iter()
            .map(|n| ServiceName::new(n).expect("name"))
            .collect()
    };
    assert_eq!(
        tell::targets(&fleet),
        [
            ("previews-web".to_owned(), names(&["web"])),
            ("previews".to_owned(), names(&["web", "api"])),
        ]
    );
}

/// A `/preview keep` comment on PR 1 of `repo` by `octocat`.
fn command_on(repo: &str) -> Event {
    Event::Command {
        repo: repo.parse().expect("repo"),
        number: 1,
        author: "octocat".into(),
        command: crate::pull_request::Command::Keep,
    }
}

#[tokio::test]
async fn deliveries_that_change_nothing_are_ignored_with_the_reason() {
    use crate::github::webhook::WebhookSink as _;
    use crate::github::webhook::{Delivered, PullRequestAction};
    let freshness = freshness(&Arc::new(Source::default()));
    let sink = sink::FreshnessSink::new(Arc::clone(&freshness));
    let outside = Event::PullRequest {
        repo: "acme/other".parse().expect("repo"),
        number: 1,
        action: PullRequestAction::Opened,
    };
    let Delivered::Ignored { reason } = sink.deliver(outside) else {
        panic!("a repo outside the fleet was accepted");
    };
    assert!(
        reason.contains("acme/other is not in the fleet"),
        "{reason}"
    );
    let Delivered::Ignored { reason } = sink.deliver(command_on("acme/other")) else {
        panic!("a command outside the fleet was accepted");
    };
    assert!(reason.contains("not in the fleet"), "{reason}");
    // The demo has no GitHub to ask who may give commands: each is refused.
    let Delivered::Ignored { reason } = sink.deliver(command_on("acme/web")) else {
        panic!("an unauthorizable command was accepted");
    };
    assert!(reason.contains("no GitHub to ask"), "{reason}");
    assert_eq!(freshness.metrics.freshness.pokes.get(), 0, "nothing poked");
    let inside = Event::PullRequest {
        repo: web(),
        number: 1,
        action: PullRequestAction::Opened,
    };
    assert_eq!(sink.deliver(inside), Delivered::Accepted);
    assert_eq!(freshness.metrics.freshness.pokes.get(), 1);
}
