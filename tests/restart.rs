//! No preview is lost across a restart of preview-tower: the restart fault matrix.
//!
//! The real `preview-tower serve` binary, against the fake GitHub and the fake Kubernetes API
//! that holds the Argo CD Applications of every preview (33: `web` PRs 1 to 30, `api` PRs 40
//! and 41, `billing` PR 31). Each row first runs the service without faults until it answers
//! every preview, stops it with `SIGTERM` (it must exit cleanly), then starts it again under a
//! fault. Throughout, every `2xx` answer (all services, and each service alone) must hold every
//! preview: a `2xx` that left one out would make Argo CD delete it. Once the fault clears, the
//! full set must come back.
//!
//! `api` PR 41's Application has no preview labels (made by an older template): it is known
//! by its name alone. `billing` deploys a commit only once its build check passed; PR 31's
//! head is still building, its parent is built, so its preview runs the parent.
//!
//! No timing is asserted (deadlines are generous bounds); each row prints how long the full
//! set took to come back after the fault cleared, for `docs/architecture.md`.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use support::fake_github::{Endpoint, FakeGitHub, FakePull, Fault, FaultRule, sha1_hex};
use support::fake_kube::{FakeKube, application, applicationset, status};
use support::serve::{Options, Serve};

const WEB: &str = "acme/web";
const API: &str = "acme/api";
const BILLING: &str = "acme/billing";
const CHECK: &str = "preview-ready";
/// `web`'s labelled PRs: 1 to N.
const N: u64 = 30;
/// Bounds for a loaded machine, not expectations.
const DEADLINE: Duration = Duration::from_secs(60);
/// How long the answers are watched once a row's expectations during the fault are met.
const LINGER: Duration = Duration::from_millis(1500);

const FLEET: &str = "base_domain: preview.example.com
namespace_prefix: preview
refresh_interval: 10s
services:
  - name: web
    repo: acme/web
    kind: frontend
    image: registry.example.com/web
    overlay_path: deploy/preview
    staging_url: https://web.staging.example.com
  - name: api
    repo: acme/api
    kind: backend
    image: registry.example.com/api
    overlay_path: deploy/preview
    staging_url: https://api.staging.example.com
  - name: billing
    repo: acme/billing
    kind: backend
    image: registry.example.com/billing
    overlay_path: deploy/preview
    staging_url: https://billing.staging.example.com
    overrides:
      build_check: preview-ready
";

fn sha(seed: &str) -> String {
    sha1_hex(seed.as_bytes())
}

fn head(repo: &str, number: u64) -> String {
    sha(&format!("{repo}#{number}"))
}

/// `billing` PR 31's built parent.
fn built_parent() -> String {
    sha("acme/billing#31 parent")
}

/// The previews every 2xx must hold: PR numbers per service.
fn expected() -> BTreeMap<&'static str, BTreeSet<u64>> {
    BTreeMap::from([
        ("web", (1..=N).collect()),
        ("api", BTreeSet::from([40, 41])),
        ("billing", BTreeSet::from([31])),
    ])
}

struct World {
    github: FakeGitHub,
    kube: FakeKube,
    dir: tempfile::TempDir,
}

impl World {
    async fn new() -> Self {
        let github = FakeGitHub::start().await;
        let kube = FakeKube::start().await;
        kube.put_applicationset(applicationset("previews"));
        for repo in [WEB, API, BILLING] {
            github.add_repo(repo);
        }
        let world = Self {
            github,
            kube,
            dir: tempfile::tempdir().unwrap(),
        };
        for number in 1..=N {
            world.preview(WEB, "web", number, true);
        }
        world.preview(API, "api", 40, true);
        world.preview(API, "api", 41, false);
        let parent = built_parent();
        world.preview(BILLING, "billing", 31, true);
        let building = head(BILLING, 31);
        world.github.know_commit(BILLING, &parent);
        world
            .github
            .set_earlier_commits(BILLING, 31, &[parent.as_str()]);
        world
            .github
            .set_check_run(BILLING, &parent, CHECK, "completed", Some("success"));
        world
            .github
            .set_check_run(BILLING, &building, CHECK, "in_progress", None);
        // Argo CD runs billing PR 31 at its built parent.
        let name = "preview-billing-pr-31";
        let synced = status("Synced", &parent, "Healthy", Some("Succeeded"), None);
        world.kube.patch_status(name, synced);
        world
    }

    /// A labelled open PR with a repo config file, and its Application (with the preview
    /// labels, or only its name).
    fn preview(&self, repo: &str, service: &str, number: u64, labelled: bool) {
        let sha = head(repo, number);
        self.github.open_pull(
            repo,
            FakePull::new(number).head_sha(&sha).labels(&["preview"]),
        );
        self.github
            .put_file(repo, &sha, ".preview.yaml", "ttl: 5d\n");
        let name = format!("preview-{service}-pr-{number}");
        let number = number.to_string();
        let labels = [
            ("preview-tower.io/preview", "true"),
            ("preview-tower.io/service", service),
            ("preview-tower.io/pr", number.as_str()),
        ];
        let labels: &[(&str, &str)] = if labelled { &labels } else { &[] };
        let mut app = application(&name, labels);
        app["status"] = status("Synced", &sha, "Healthy", Some("Succeeded"), None);
        self.kube.put_application(app);
    }

    fn options(&self) -> Options {
        Options {
            fleet: FLEET.to_owned(),
            github_url: self.github.url().to_string(),
            kubeconfig: Some(self.kube.kubeconfig()),
            env: vec![("PREVIEW_TOWER_GITHUB_TIMEOUT".into(), "2s".into())],
        }
    }

    fn start(&self, name: &str) -> Serve {
        Serve::start(self.dir.path(), name, &self.options())
    }

    /// The first life: no fault, every preview answered; then `SIGTERM`, and a clean exit.
    async fn first_life(&self) {
        let mut serve = self.start("first");
        let mut answers = Answers::default();
        answers
            .until(&mut serve, "the first life answers every preview", |a| {
                a.full("all")
            })
            .await;
        let exit = serve.terminate(Duration::from_secs(15)).await;
        assert!(
            exit.success(),
            "exit after SIGTERM: {exit}\n{}",
            serve.output()
        );
        let log = serve.output();
        assert!(
            log.contains("first answer since start") && log.contains("cold_start_s"),
            "the cold start is logged once per service:\n{log}"
        );
    }
}

/// One answer seen.
#[derive(Clone, Debug)]
struct Seen {
    query: &'static str,
    status: u16,
    message: String,
    /// Whether a 2xx held every expected preview (checked at once: never false for a 2xx).
    full: bool,
}

impl Seen {
    /// `200 all`, `503 not synced`, `503 held` (or `503` with another message).
    fn kind(&self) -> &'static str {
        match self.status {
            200..=299 => "200 all",
            503 if self.message.starts_with("not synced") => "503 not synced",
            503 if self.message.starts_with("kept as they are") => "503 held",
            _ => "503",
        }
    }
}

/// Every answer seen by one life of the service.
#[derive(Default)]
struct Answers {
    seen: Vec<Seen>,
}

impl Answers {
    /// Asks every query once; panics on a 2xx that leaves a preview out.
    async fn ask(&mut self, serve: &Serve) {
        let queries: [(&'static str, Value); 4] = [
            ("all", json!({})),
            ("web", json!({"service": "web"})),
            ("api", json!({"service": "api"})),
            ("billing", json!({"service": "billing"})),
        ];
        for (query, parameters) in queries {
            // Not listening yet: nothing was answered.
            let Ok((status, body)) = serve.try_plugin(&parameters).await else {
                return;
            };
            let seen = Seen {
                query,
                status,
                message: body["message"].as_str().unwrap_or_default().to_owned(),
                full: (200..300).contains(&status),
            };
            match status {
                200..=299 => check_full(query, &body, serve),
                503 => {}
                other => panic!("{query}: unexpected {other}: {body}\n{}", serve.output()),
            }
            self.seen.push(seen);
        }
    }

    /// Asks until `done` holds (every 2xx checked on the way).
    async fn until(&mut self, serve: &mut Serve, what: &str, done: impl Fn(&Self) -> bool) {
        let until = Instant::now() + DEADLINE;
        loop {
            serve.assert_running();
            self.ask(serve).await;
            if done(self) {
                return;
            }
            assert!(
                Instant::now() < until,
                "{what}: not within {} s; answers: {:#?}\npreview-tower serve said:\n{}",
                DEADLINE.as_secs(),
                self.summary(),
                serve.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asks for `how_long` more (every 2xx checked).
    async fn linger(&mut self, serve: &mut Serve, how_long: Duration) {
        let until = Instant::now() + how_long;
        while Instant::now() < until {
            serve.assert_running();
            self.ask(serve).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether `query` was answered in full (2xx) at least once.
    fn full(&self, query: &str) -> bool {
        self.seen.iter().any(|s| s.query == query && s.full)
    }

    /// Whether `query` was answered 503 with a message containing every part of `parts`.
    fn refused(&self, query: &str, parts: &[&str]) -> bool {
        self.seen.iter().any(|s| {
            s.query == query && s.status == 503 && parts.iter().all(|p| s.message.contains(p))
        })
    }

    /// Whether `query` was ever answered 503 with a message containing `part`.
    fn ever_refused_with(&self, query: &str, part: &str) -> bool {
        self.refused(query, &[part])
    }

    /// Per query, the distinct kinds of answer seen in order (see [`Seen::kind`]), and the
    /// last 503 message.
    fn summary(&self) -> BTreeMap<&'static str, (Vec<&'static str>, String)> {
        let mut out: BTreeMap<&'static str, (Vec<&'static str>, String)> = BTreeMap::new();
        for s in &self.seen {
            let entry = out.entry(s.query).or_default();
            if entry.0.last() != Some(&s.kind()) {
                entry.0.push(s.kind());
            }
            if s.status == 503 {
                entry.1.clone_from(&s.message);
            }
        }
        out
    }

    /// What the plugin answered so far, in a few words for the docs' table.
    fn during(&self) -> String {
        let summary = self.summary();
        let parts: Vec<String> = ["web", "api", "billing"]
            .iter()
            .map(|q| {
                let kinds = summary
                    .get(q)
                    .map(|(k, _)| k.join(" → "))
                    .unwrap_or_default();
                format!("{q}: {kinds}")
            })
            .collect();
        parts.join("; ")
    }
}

/// Panics unless the 2xx `body` for `query` holds every expected preview (and billing PR 31 on
/// its built parent).
fn check_full(query: &str, body: &Value, serve: &Serve) {
    let sets = body["output"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: no parameters: {body}"));
    let mut got: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for set in sets {
        let service = set["service"].as_str().unwrap().to_owned();
        let number: u64 = set["number"].as_str().unwrap().parse().unwrap();
        if service == "billing" {
            assert_eq!(
                set["revision"].as_str(),
                Some(built_parent().as_str()),
                "billing PR 31 runs its newest built commit: {set}"
            );
        }
        got.entry(service).or_default().insert(number);
    }
    let wanted: BTreeMap<String, BTreeSet<u64>> = expected()
        .into_iter()
        .filter(|(service, _)| query == "all" || query == *service)
        .map(|(service, numbers)| (service.to_owned(), numbers))
        .collect();
    assert_eq!(
        got,
        wanted,
        "{query}: a 2xx that leaves previews out (Argo CD would delete them)\npreview-tower serve said:\n{}",
        serve.output()
    );
}

/// One row of the matrix: what the plugin answered during the fault, and how long the full
/// set took to come back once it cleared.
struct Row {
    fault: &'static str,
    during: String,
    recovered: Duration,
    /// `preview_tower_held_previews` per service during the fault.
    held: BTreeMap<&'static str, f64>,
}

impl Row {
    fn print(&self) {
        eprintln!(
            "| {} | {} | {:.1} s |",
            self.fault,
            self.during,
            self.recovered.as_secs_f64()
        );
    }
}

/// Runs a row: the first life, `fault`, a restart, answers until `during` holds (and a little
/// longer), `clear`, answers until every query is answered in full.
async fn row(
    fault: &'static str,
    world: &World,
    inject: impl FnOnce(&World),
    during: impl Fn(&Answers) -> bool,
    clear: impl FnOnce(&World),
) -> (Row, Answers) {
    world.first_life().await;
    inject(world);
    let mut serve = world.start("second");
    let mut answers = Answers::default();
    answers
        .until(&mut serve, &format!("{fault}: during the fault"), &during)
        .await;
    answers.linger(&mut serve, LINGER).await;
    let during_text = answers.during();
    // One stalled service never takes the pod out of its Service.
    serve.wait_ready(DEADLINE).await;
    let mut held = BTreeMap::new();
    for service in ["web", "api", "billing"] {
        let sample = format!("preview_tower_held_previews{{service=\"{service}\"}}");
        held.insert(service, serve.metric(&sample).await);
    }
    clear(world);
    let cleared = Instant::now();
    answers
        .until(
            &mut serve,
            &format!("{fault}: the full set after it"),
            |a| {
                ["all", "web", "api", "billing"].iter().all(|q| {
                    a.seen
                        .iter()
                        .rev()
                        .find(|s| s.query == *q)
                        .is_some_and(|s| s.full)
                })
            },
        )
        .await;
    let row = Row {
        fault,
        during: during_text,
        recovered: cleared.elapsed(),
        held,
    };
    row.print();
    (row, answers)
}

/// Every service answers 503 (never a partial 2xx) while `fault` hits every `endpoint` read.
async fn every_service_held_while(
    endpoint: Endpoint,
    fault: Fault,
    name: &'static str,
    says: &str,
) {
    let world = World::new().await;
    row(
        name,
        &world,
        |w| w.github.fail(FaultRule::new(fault).endpoint(endpoint)),
        |a| {
            ["all", "web", "api", "billing"]
                .iter()
                .all(|q| a.refused(q, &["kept as they are", says]))
        },
        |w| w.github.clear_faults(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contents_500_holds_every_service() {
    every_service_held_while(
        Endpoint::Contents,
        Fault::Status(500),
        "contents 500",
        "500",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contents_502_with_30_previews_answers_503_then_all_30() {
    // The acceptance case: never a 2xx with fewer than 30 sets for web, then 200 with 30.
    every_service_held_while(
        Endpoint::Contents,
        Fault::Status(502),
        "contents 502",
        "502",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contents_timing_out_holds_every_service() {
    let fault = Fault::Timeout(Duration::from_secs(3));
    every_service_held_while(Endpoint::Contents, fault, "contents time out", "in time").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_contents_hold_every_service() {
    every_service_held_while(
        Endpoint::Contents,
        Fault::Malformed,
        "contents malformed",
        "malformed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_timeline_holds_nothing() {
    // Activity only decides expiry, and unread activity never expires anything.
    let world = World::new().await;
    row(
        "timeline 502",
        &world,
        |w| {
            w.github
                .fail(FaultRule::new(Fault::Status(502)).endpoint(Endpoint::Timeline))
        },
        |a| ["all", "web", "api", "billing"].iter().all(|q| a.full(q)),
        |w| w.github.clear_faults(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_check_runs_hold_the_gated_service_only() {
    let world = World::new().await;
    let (_, answers) = row(
        "check runs 500",
        &world,
        |w| {
            w.github
                .fail(FaultRule::new(Fault::Status(500)).endpoint(Endpoint::CheckRuns))
        },
        |a| a.refused("billing", &["billing PR 31"]) && a.full("web") && a.full("api"),
        |w| w.github.clear_faults(),
    )
    .await;
    assert!(answers.refused("all", &["billing PR 31"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_spent_mid_way_answers_503_with_the_reset_time_until_it_resets() {
    let world = World::new().await;
    // Three listings and a few reads, then nothing until the hour ends (the row's clock
    // starts when the 503s were seen; the reset comes after).
    row(
        "rate limit spent mid-way (primary 403)",
        &world,
        |w| w.github.limit_budget(12, Duration::from_secs(8)),
        |a| a.refused("all", &["rate limited by GitHub until"]),
        |_| {},
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secondary_limit_answers_503_then_the_full_set() {
    let world = World::new().await;
    row(
        "secondary limit (403, Retry-After)",
        &world,
        |w| {
            let fault = Fault::SecondaryLimit { retry_after: 3 };
            w.github
                .fail(FaultRule::new(fault).endpoint(Endpoint::Contents).times(4));
        },
        |a| a.refused("all", &["rate limited by GitHub until"]),
        |_| {},
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_repo_that_cannot_be_listed_holds_its_service_only() {
    let world = World::new().await;
    let (_, answers) = row(
        "listing of acme/api 502",
        &world,
        |w| {
            let rule = FaultRule::new(Fault::Status(502))
                .endpoint(Endpoint::Pulls)
                .repo(API);
            w.github.fail(rule);
        },
        |a| {
            a.refused("api", &["not synced", "acme/api: GitHub answered 502"])
                && a.full("web")
                && a.full("billing")
        },
        |w| w.github.clear_faults(),
    )
    .await;
    assert!(answers.ever_refused_with("all", "api"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_unreachable_at_start_answers_503_until_it_is_reachable() {
    let world = World::new().await;
    row(
        "GitHub unreachable at start",
        &world,
        |w| w.github.go_offline(),
        |a| {
            ["all", "web", "api", "billing"]
                .iter()
                .all(|q| a.refused(q, &["not synced", "cannot reach GitHub"]))
        },
        |w| w.github.go_online(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_permanently_unreadable_pr_holds_its_service_and_the_others_answer() {
    // api PR 41's Application has no labels: its name alone says it is a preview.
    let world = World::new().await;
    let unreadable = head(API, 41);
    let (row, answers) = row(
        "one PR's files unreadable (api PR 41)",
        &world,
        |w| {
            let rule = FaultRule::new(Fault::Status(502))
                .endpoint(Endpoint::Contents)
                .containing(&unreadable);
            w.github.fail(rule);
        },
        |a| {
            a.refused(
                "api",
                &[
                    "api PR 41 (its commit's files are not read yet)",
                    "held since",
                ],
            ) && a.full("web")
                && a.full("billing")
        },
        |w| w.github.clear_faults(),
    )
    .await;
    assert!(answers.refused("all", &["api PR 41"]));
    let held = BTreeMap::from([("web", 0.0), ("api", 1.0), ("billing", 0.0)]);
    assert_eq!(row.held, held, "the held PRs per service, as metrics");
    assert!(
        !answers.ever_refused_with("api", "api PR 40"),
        "only the unreadable PR is named"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gated_pr_is_answered_on_its_built_parent_at_the_first_answer() {
    // billing's reads are slow; web's first refresh commits in the middle of them. Its plan
    // must not forget what billing's refresh found (PR 31's built parent), or billing's first
    // answer would hold PR 31 and search its commits again.
    let world = World::new().await;
    let (_, answers) = row(
        "gated PR building, parent built, another repo's refresh first",
        &world,
        |w| {
            let slow = Fault::Timeout(Duration::from_millis(800));
            let rule = FaultRule::new(slow)
                .endpoint(Endpoint::Contents)
                .repo(BILLING);
            w.github.fail(rule);
            w.github.clear_requests();
        },
        |a| a.full("billing") && a.full("web"),
        |w| w.github.clear_faults(),
    )
    .await;
    assert!(
        !answers.ever_refused_with("billing", "kept as they are"),
        "billing held PR 31 although its built parent was found: {:#?}",
        answers.summary()
    );
    let searches = world
        .github
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::PullCommits)
        .count();
    assert_eq!(searches, 1, "PR 31's commits are searched once per head");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_applications_a_service_waits_for_every_labelled_pr_then_knows_better() {
    // The Kubernetes API is down at start: which PRs hold previews is unknown, so web answers
    // only once every labelled PR was read. PR 99 is new (no Application) and unreadable;
    // PR 3 has a preview and is unreadable.
    let world = World::new().await;
    world.first_life().await;
    // Labelled after the restart: Argo CD has no Application for it.
    let new_pr = sha("acme/web#99");
    world.github.open_pull(
        WEB,
        FakePull::new(99).head_sha(&new_pr).labels(&["preview"]),
    );
    world.kube.go_offline();
    for unreadable in [head(WEB, 3), new_pr.clone()] {
        let rule = FaultRule::new(Fault::Status(502))
            .endpoint(Endpoint::Contents)
            .containing(&unreadable);
        world.github.fail(rule);
    }
    let mut serve = world.start("second");
    let mut answers = Answers::default();
    answers
        .until(&mut serve, "web held, conservatively", |a| {
            a.refused("web", &["web PR 3, 99 ("]) && a.full("api") && a.full("billing")
        })
        .await;
    answers.linger(&mut serve, LINGER).await;
    // The Applications are read: PR 99 has none, so it only waits; PR 3 is still held.
    world.kube.go_online();
    answers
        .until(&mut serve, "web held for PR 3 alone", |a| {
            a.refused("web", &["web PR 3 ("])
        })
        .await;
    answers.linger(&mut serve, LINGER).await;
    let during = answers.during();
    // PR 3 becomes readable: web answers its 30 previews, PR 99 still waiting for its files.
    let cleared = Instant::now();
    world.github.clear_faults();
    let rule = FaultRule::new(Fault::Status(502))
        .endpoint(Endpoint::Contents)
        .containing(&new_pr);
    world.github.fail(rule);
    answers
        .until(&mut serve, "web answered in full without PR 99", |a| {
            a.seen
                .iter()
                .rev()
                .find(|s| s.query == "all")
                .is_some_and(|s| s.full)
        })
        .await;
    Row {
        fault: "Kubernetes API unreachable at start, then reachable",
        during,
        recovered: cleared.elapsed(),
        held: BTreeMap::new(),
    }
    .print();
}
