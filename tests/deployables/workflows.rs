//! The GitHub Actions examples (`docs/examples/github-actions/`) checked like the rest: they
//! pass actionlint with its shellcheck pass, and the build workflow builds what the fleet
//! deploys (the image tagged with the PR's head SHA, the seed image with the seed path's tree
//! SHA, for the fleet's architecture, behind a job named as the fleet's `build_check`).

use std::path::{Path, PathBuf};
use std::process::Command;

use preview_tower::fleet::Fleet;
use serde_json::Value;

use super::{demo_sets_at, documents, root, scratch};

const EXAMPLES: &str = "docs/examples/github-actions";
const HEAD_SHA: &str = "${{ github.event.pull_request.head.sha }}";

/// The tool at `$env` (set by tests/install-tools.sh) or on the PATH, if it runs; otherwise a
/// loud warning, and a failure under `CI`.
fn tool(env: &str, name: &str, version: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env).map_or_else(|| PathBuf::from(name), PathBuf::from);
    let runs = Command::new(&path)
        .arg(version)
        .output()
        .is_ok_and(|o| o.status.success());
    if runs {
        return Some(path);
    }
    let message = format!("{name} is missing: run tests/run.sh, which installs it ({env})");
    assert!(std::env::var_os("CI").is_none(), "{message}");
    eprintln!("\n!! WARNING: {message}. GitHub Actions checks SKIPPED.\n");
    None
}

fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(EXAMPLES))
        .expect("the examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "preview-build.yml and preview-config.yml");
    files
}

/// `actionlint` over `files`, with shellcheck on every `run:` script: its report, empty when
/// clean.
fn actionlint(actionlint: &Path, shellcheck: &Path, files: &[PathBuf]) -> String {
    let output = Command::new(actionlint)
        .args(["-no-color", "-pyflakes=", "-shellcheck"])
        .arg(shellcheck)
        .args(files)
        .output()
        .expect("run actionlint");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        output.status.success(),
        report.trim().is_empty(),
        "actionlint's exit status disagrees with its report: {report}"
    );
    report
}

#[test]
fn the_actions_examples_pass_actionlint_and_shellcheck() {
    let Some(linter) = tool("PREVIEW_TOWER_ACTIONLINT", "actionlint", "-version") else {
        return;
    };
    let Some(shellcheck) = tool("PREVIEW_TOWER_SHELLCHECK", "shellcheck", "--version") else {
        return;
    };
    // The shellcheck pass really runs: an unquoted command substitution is reported.
    let probe = scratch("actionlint").join("probe.yml");
    std::fs::write(
        &probe,
        "on: push\njobs:\n  probe:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo $(date)\n",
    )
    .expect("write");
    let report = actionlint(&linter, &shellcheck, &[probe]);
    assert!(report.contains("SC2046"), "no shellcheck pass: {report}");

    let report = actionlint(&linter, &shellcheck, &workflows());
    assert!(report.trim().is_empty(), "actionlint:\n{report}");
}

fn build_workflow() -> Value {
    let text = std::fs::read_to_string(root().join(EXAMPLES).join("preview-build.yml"))
        .expect("preview-build.yml");
    documents(&text).remove(0)
}

/// The step of `job` that uses `action` (`owner/name`, any version).
fn step<'a>(workflow: &'a Value, job: &str, action: &str) -> &'a Value {
    workflow["jobs"][job]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.split('@').next() == Some(action))
        })
        .unwrap_or_else(|| panic!("{job} uses no {action}"))
}

fn step_by_id<'a>(workflow: &'a Value, job: &str, id: &str) -> &'a Value {
    workflow["jobs"][job]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("{job} has no step `{id}`"))
}

fn fleets() -> Vec<(&'static str, Fleet)> {
    let text = std::fs::read_to_string(root().join("docs/examples/fleet.yaml")).expect("read");
    let example = Fleet::from_yaml(&text).expect("valid fleet");
    let demo = preview_tower::demo::fleet().expect("demo fleet");
    vec![
        ("docs/examples/fleet.yaml", example),
        ("the demo fleet", demo),
    ]
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("run git");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The seed job's tree step, run as GitHub runs it (`bash -eo pipefail`) in a repository with
/// a seed, writes the tree SHA of the seed path: the tag the plugin reads from GitHub.
fn assert_tree_step_writes_the_seed_tree(workflow: &Value, seed_path: &str) {
    let script = step_by_id(workflow, "preview-seed", "tree")["run"]
        .as_str()
        .expect("a script");
    let repo = scratch("seed-repo");
    git(&repo, &["init", "--quiet"]);
    std::fs::create_dir_all(repo.join(seed_path)).expect("mkdir");
    std::fs::write(repo.join(seed_path).join("seed.sql"), "select 1;\n").expect("write");
    std::fs::write(repo.join("app.py"), "print(1)\n").expect("write");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "seed"]);
    let outputs = repo.join("outputs");
    let status = Command::new("bash")
        .current_dir(&repo)
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .env("SEED_PATH", seed_path)
        .env("GITHUB_OUTPUT", &outputs)
        .status()
        .expect("run the tree step");
    assert!(status.success());
    let written = std::fs::read_to_string(&outputs).expect("outputs");
    let tree = git(&repo, &["rev-parse", &format!("HEAD:{seed_path}")]);
    assert_eq!(written.trim(), format!("sha={tree}"), "the seed tag");
}

#[test]
fn the_build_workflow_builds_what_the_fleet_deploys() {
    let workflow = build_workflow();
    // The image: the PR's head commit (not the merge commit a pull_request event checks out),
    // tagged with its SHA, which is the plugin's `revision`.
    assert_eq!(workflow["env"]["HEAD_SHA"], HEAD_SHA);
    for job in ["preview-image", "preview-seed"] {
        assert_eq!(
            step(&workflow, job, "actions/checkout")["with"]["ref"],
            "${{ env.HEAD_SHA }}",
            "{job} builds the PR's head commit"
        );
    }
    let image = &step(&workflow, "preview-image", "docker/build-push-action")["with"];
    assert!(
        image["tags"]
            .as_str()
            .is_some_and(|t| t.ends_with(":${{ env.HEAD_SHA }}") && !t.contains(',')),
        "the image is tagged with the head SHA only: {}",
        image["tags"]
    );
    for (service, set) in demo_sets_at(Some(super::rendered::AWAKE)) {
        assert_eq!(
            set["image"].as_str().unwrap_or_default(),
            format!(
                "{}:{}",
                set["image_repository"].as_str().unwrap_or_default(),
                set["revision"].as_str().unwrap_or_default()
            ),
            "{service}: the plugin deploys <image>:<revision>"
        );
    }
    // The seed image: tagged with the tree SHA of the seed path, built from that path.
    let seed = &step(&workflow, "preview-seed", "docker/build-push-action")["with"];
    assert!(
        seed["tags"]
            .as_str()
            .is_some_and(|t| t.ends_with(":${{ steps.tree.outputs.sha }}")),
        "the seed is tagged with the tree SHA: {}",
        seed["tags"]
    );
    assert_eq!(seed["context"], "${{ env.SEED_PATH }}");
    let default_seed_path = workflow["env"]["SEED_PATH"]
        .as_str()
        .and_then(|e| e.split("|| '").nth(1))
        .and_then(|e| e.split('\'').next())
        .expect("SEED_PATH with a default");
    assert_tree_step_writes_the_seed_tree(&workflow, default_seed_path);
    // The job the fleets wait on, and the architecture they pin.
    let ready = &workflow["jobs"]["preview-ready"];
    let needs = ready["needs"].to_string();
    assert!(
        needs.contains("preview-image") && needs.contains("preview-seed"),
        "preview-ready waits for both images: {needs}"
    );
    for (origin, fleet) in fleets() {
        let platform = format!("linux/{}", fleet.scheduling.architecture);
        for (what, build) in [("image", image), ("seed", seed)] {
            assert_eq!(
                build["platforms"], platform,
                "the {what} is built for {origin}'s architecture"
            );
        }
        for service in &fleet.services {
            if let Some(seed) = &service.seed {
                assert_eq!(seed.path, default_seed_path, "{origin}: {}", service.name);
            }
            if let Some(check) = &service.policy.build_check {
                assert_eq!(
                    ready["name"],
                    check.as_str(),
                    "{origin}: {} waits for the check `{check}`",
                    service.name
                );
            }
        }
        assert!(
            fleet
                .services
                .iter()
                .any(|s| s.policy.build_check.is_some()),
            "{origin} names a build check"
        );
    }
}
