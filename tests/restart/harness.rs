//! The world of the restart matrix: the fakes holding 33 previews and their Applications, and
//! the service's lives, one row of faults at a time (the answers seen: `answers`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::answers::Answers;
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
