//! The in-repo config file (`.preview.yaml`): how a developer changes a preview from the PR.
//!
//! PLACEHOLDER: the types are final; parsing lands with the config work.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::fleet::ServiceName;

/// Largest config file read, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024;

/// A valid repo config. Every field is optional: absent means "the fleet's default".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RepoConfig {
    /// Where each dependency points; dependencies not listed point at staging.
    pub dependencies: BTreeMap<ServiceName, DependencyTarget>,
    /// Idle TTL asked for, within the fleet's maximum.
    pub ttl: Option<Duration>,
    /// `Some(false)` opts out of spot capacity. `Some(true)` cannot force spot on.
    pub spot: Option<bool>,
    /// `Some(false)` opts out of sleeping outside working hours.
    pub sleep: Option<bool>,
}

/// Where a dependency of a preview points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyTarget {
    /// The dependency's staging environment (the default).
    Staging,
    /// The dependency's preview of its PR number N (`pr-N`).
    PullRequest(u64),
}

/// The fleet's bounds a repo config must stay within.
#[derive(Clone, Debug)]
pub struct Bounds<'a> {
    /// The dependencies the fleet declares for the service.
    pub dependencies: &'a [ServiceName],
    /// The longest TTL a PR may ask for.
    pub max_ttl: Duration,
}

/// One problem in a repo config file, with where it is and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigError {
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// What is wrong.
    pub message: String,
    /// How to fix it (a "did you mean", the allowed values).
    pub hint: Option<String>,
}

/// Parses and validates a repo config file. `bounds` is `None` when no fleet is known
/// (`check-config` without `--config`): only the file's shape is checked then.
pub fn parse(text: &str, bounds: Option<&Bounds<'_>>) -> Result<RepoConfig, Vec<ConfigError>> {
    let _ = (text, bounds);
    Err(vec![ConfigError {
        line: None,
        column: None,
        message: "repo config parsing is not built yet".into(),
        hint: None,
    }])
}

/// Compiler-style rendering of `errors` in the file at `path`.
pub fn render_errors(path: &str, errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(|e| format!("{path}: error: {}\n", e.message))
        .collect()
}
