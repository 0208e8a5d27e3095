//! The world of the restart matrix: the fakes holding 33 previews and their Applications, the
//! service's lives, and the answers seen, each 2xx checked to hold every preview.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::fake_github::{FakeGitHub, FakePull, sha1_hex};
use crate::support::fake_kube::{FakeKube, application, applicationset, status};
use crate::support::serve::{Options, Serve};

pub(crate) const WEB: &str = "acme/web";
pub(crate) const API: &str = "acme/api";
pub(crate) const BILLING: &str = "acme/billing";
pub(crate) const CHECK: &str = "preview-ready";
/// `web`'s labelled PRs: 1 to N.
pub(crate) const N: u64 = 30;
/// Bounds for a loaded machine, not expectations.
pub(crate) const DEADLINE: Duration = Duration::from_secs(60);
/// How long the answers are watched once a row's expectations during the fault are met.
pub(crate) const LINGER: Duration = Duration::from_millis(1500);

pub(crate) const FLEET: &str = "base_domain: preview.example.com
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

pub(crate) fn sha(seed: &str) -> String {
    sha1_hex(seed.as_bytes())
}

pub(crate) fn head(repo: &str, number: u64) -> String {
    sha(&format!("{repo}#{number}"))
}

/// `billing` PR 31's built parent.
pub(crate) fn built_parent() -> String {
    sha("acme/billing#31 parent")
}

/// The previews every 2xx must hold: PR numbers per service.
pub(crate) fn expected() -> BTreeMap<&'static str, BTreeSet<u64>> {
    BTreeMap::from([
        ("web", (1..=N).collect()),
        ("api", BTreeSet::from([40, 41])),
        ("billing", BTreeSet::from([31])),
    ])
}

pub(crate) struct World {
    pub(crate) github: FakeGitHub,
    pub(crate) kube: FakeKube,
    pub(crate) dir: tempfile::TempDir,
}

impl World {
    pub(crate) async fn new() -> Self {
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
    pub(crate) fn preview(&self, repo: &str, service: &str, number: u64, labelled: bool) {
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

    pub(crate) fn options(&self) -> Options {
        Options {
            fleet: FLEET.to_owned(),
            github_url: self.github.url().to_string(),
            kubeconfig: Some(self.kube.kubeconfig()),
            env: vec![("PREVIEW_TOWER_GITHUB_TIMEOUT".into(), "2s".into())],
            ..Options::default()
        }
    }

    pub(crate) fn start(&self, name: &str) -> Serve {
        Serve::start(self.dir.path(), name, &self.options())
    }

    /// The first life: no fault, every preview answered; then `SIGTERM`, and a clean exit.
    pub(crate) async fn first_life(&self) {
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
pub(crate) struct Seen {
    pub(crate) query: &'static str,
    pub(crate) status: u16,
    pub(crate) message: String,
    /// Whether a 2xx held every expected preview (checked at once: never false for a 2xx).
    pub(crate) full: bool,
}

impl Seen {
    /// `200 all`, `503 not synced`, `503 held` (or `503` with another message).
    pub(crate) fn kind(&self) -> &'static str {
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
pub(crate) struct Answers {
    pub(crate) seen: Vec<Seen>,
}

impl Answers {
    /// Asks every query once; panics on a 2xx that leaves a preview out.
    pub(crate) async fn ask(&mut self, serve: &Serve) {
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
    pub(crate) async fn until(
        &mut self,
        serve: &mut Serve,
        what: &str,
        done: impl Fn(&Self) -> bool,
    ) {
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
    pub(crate) async fn linger(&mut self, serve: &mut Serve, how_long: Duration) {
        let until = Instant::now() + how_long;
        while Instant::now() < until {
            serve.assert_running();
            self.ask(serve).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether `query` was answered in full (2xx) at least once.
    pub(crate) fn full(&self, query: &str) -> bool {
        self.seen.iter().any(|s| s.query == query && s.full)
    }

    /// Whether `query` was answered 503 with a message containing every part of `parts`.
    pub(crate) fn refused(&self, query: &str, parts: &[&str]) -> bool {
        self.seen.iter().any(|s| {
            s.query == query && s.status == 503 && parts.iter().all(|p| s.message.contains(p))
        })
    }

    /// Whether `query` was ever answered 503 with a message containing `part`.
    pub(crate) fn ever_refused_with(&self, query: &str, part: &str) -> bool {
        self.refused(query, &[part])
    }

    /// Per query, the distinct kinds of answer seen in order (see [`Seen::kind`]), and the
    /// last 503 message.
    pub(crate) fn summary(&self) -> BTreeMap<&'static str, (Vec<&'static str>, String)> {
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
    pub(crate) fn during(&self) -> String {
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
pub(crate) fn check_full(query: &str, body: &Value, serve: &Serve) {
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
pub(crate) struct Row {
    pub(crate) fault: &'static str,
    pub(crate) during: String,
    pub(crate) recovered: Duration,
    /// `preview_tower_held_previews` per service during the fault.
    pub(crate) held: BTreeMap<&'static str, f64>,
}

impl Row {
    pub(crate) fn print(&self) {
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
pub(crate) async fn row(
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
    // Every fault here is one the service handles as designed: nothing for an operator to act
    // on, so no ERROR line (a 503 while holding, octocrab's own failures, `/readyz` unready).
    let log = serve.output();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors.is_empty(),
        "{fault}: ERROR lines:\n{}",
        errors.join("\n")
    );
    let row = Row {
        fault,
        during: during_text,
        recovered: cleared.elapsed(),
        held,
    };
    row.print();
    (row, answers)
}
