//! The external tools the deployables are checked with: real kustomize (`kubectl kustomize`)
//! and `kubernetes-validate` (core Kubernetes schemas). `tests/run.sh` installs both and
//! exports their paths; outside CI a missing tool skips the checks loudly.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the tools are, or `None` (after a loud warning) when they are missing outside CI.
pub struct Tools {
    pub kubectl: PathBuf,
    /// The command line that runs kubernetes-validate (`python3 -m kubernetes_validate` with
    /// its `PYTHONPATH`, or the script).
    validate: Vec<String>,
    validate_pythonpath: Option<String>,
}

fn missing(what: &str) -> Option<Tools> {
    let message = format!("{what} is missing: run tests/run.sh, which installs it");
    assert!(std::env::var_os("CI").is_none(), "{message}");
    eprintln!("\n!! WARNING: {message}. Deployable checks SKIPPED.\n");
    None
}

impl Tools {
    pub fn find() -> Option<Tools> {
        let kubectl = std::env::var_os("PREVIEW_TOWER_KUBECTL")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("kubectl"));
        let works = Command::new(&kubectl)
            .args(["version", "--client"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !works {
            return missing("kubectl (with kustomize)");
        }
        let pythonpath = std::env::var("PREVIEW_TOWER_KUBERNETES_VALIDATE_PATH").ok();
        let validate = vec!["python3".into(), "-m".into(), "kubernetes_validate".into()];
        let mut probe = Command::new(&validate[0]);
        probe.args(&validate[1..]).arg("--version");
        if let Some(path) = &pythonpath {
            probe.env("PYTHONPATH", path);
        }
        if !probe.output().is_ok_and(|o| o.status.success()) {
            return missing("kubernetes-validate");
        }
        Some(Tools {
            kubectl,
            validate,
            validate_pythonpath: pythonpath,
        })
    }

    /// `kubectl kustomize DIR`: the rendered documents, or the tool's error.
    pub fn kustomize(&self, dir: &Path) -> Result<String, String> {
        let output = Command::new(&self.kubectl)
            .arg("kustomize")
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run kubectl: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "kubectl kustomize {} failed: {}",
                dir.display(),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// `kubernetes-validate --strict` for Kubernetes 1.33 (EKS) on `file`: the errors and the
    /// "no schema" warnings, each a line.
    pub fn validate_core(&self, file: &Path) -> Vec<String> {
        let mut command = Command::new(&self.validate[0]);
        command
            .args(&self.validate[1..])
            .args(["--strict", "--quiet", "-k", "1.33.0"])
            .arg(file);
        if let Some(path) = &self.validate_pythonpath {
            command.env("PYTHONPATH", path);
        }
        let output = match command.output() {
            Ok(output) => output,
            Err(e) => return vec![format!("cannot run kubernetes-validate: {e}")],
        };
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let mut problems: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with("ERROR") || l.starts_with("WARN"))
            .map(str::to_owned)
            .collect();
        if !output.status.success() && problems.is_empty() {
            problems.push(format!("kubernetes-validate failed: {text}"));
        }
        problems
    }
}
