//! The in-repo config file (`.preview.yaml`): how a developer changes a preview from the PR.
//!
//! The file is read at the PR's head commit, so whoever opens the PR writes it: it is untrusted
//! input. [`parse`] never panics, bounds the work it does (file size, nesting, aliases), and
//! reports every problem with its line, column and a hint. The file can only pick among what
//! the fleet allows: where each declared dependency points (`staging` or another PR's preview),
//! a TTL within the fleet's maximum, and opting out of spot capacity or sleeping. It cannot
//! express URLs, namespaces, images or anything else that would let a PR reach beyond its own
//! preview. Pure: the caller reads the file.

mod check;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::naming::ServiceName;
use crate::yaml;

/// Largest config file read, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024;

/// Shortest TTL a PR may ask for.
pub const MIN_TTL: Duration = Duration::from_secs(60 * 60);

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

/// Limits for loading an untrusted repo config: a real one has a handful of keys.
const LIMITS: yaml::Limits = yaml::Limits {
    max_depth: 16,
    max_nodes: 2_048,
    max_aliases: 64,
    max_replayed_events: 1_024,
    merge_keys: false,
};

/// Parses and validates a repo config file. `bounds` is `None` when no fleet is known
/// (`check-config` without `--config`): only the file's shape is checked then.
///
/// Returns every problem found, in file order. Never panics, whatever `text` holds; files over
/// [`MAX_FILE_BYTES`] are rejected before parsing.
pub fn parse(text: &str, bounds: Option<&Bounds<'_>>) -> Result<RepoConfig, Vec<ConfigError>> {
    if text.len() > MAX_FILE_BYTES {
        return Err(vec![too_large(text.len() as u64)]);
    }
    let root = match yaml::load(text, LIMITS) {
        Ok(Some(root)) => root,
        Ok(None) => return Ok(RepoConfig::default()),
        Err(err) => return Err(vec![load_error(err)]),
    };
    let (config, mut errors) = check::config(&root, bounds);
    if errors.is_empty() {
        return Ok(config);
    }
    errors.sort_by_key(|e| (e.line, e.column));
    Err(errors)
}

/// The error of a file of `bytes` bytes, over [`MAX_FILE_BYTES`]: what [`parse`] says of such a
/// file, for a reader that stops at the limit and never holds the text.
pub fn too_large(bytes: u64) -> ConfigError {
    ConfigError {
        line: None,
        column: None,
        message: format!("the file is {bytes} bytes, over the limit of {MAX_FILE_BYTES} bytes"),
        hint: Some("keep only the keys `dependencies`, `ttl`, `spot` and `sleep`".into()),
    }
}

fn load_error(err: yaml::LoadError) -> ConfigError {
    let hint = if err.limit {
        "the file needs only a few plain keys: remove anchors, aliases and deep nesting"
    } else {
        "fix the YAML syntax: check indentation and quoting around this place"
    };
    ConfigError {
        line: err.line,
        column: err.column,
        message: err.message,
        hint: Some(hint.to_owned()),
    }
}

/// Renders `errors` in compiler style, one block per error:
///
/// ```text
/// .preview.yaml:3:8: error: `pr12` is not a dependency target
///   = hint: did you mean `pr-12`?
/// ```
///
/// `:LINE:COL` (or just `:COL`) is left out when unknown. Blocks are separated by a blank line.
/// This is what `preview-tower check-config` prints.
pub fn render_errors(path: &str, errors: &[ConfigError]) -> String {
    let mut out = String::new();
    for (i, error) in errors.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(path);
        if let Some(line) = error.line {
            let _ = write!(out, ":{line}");
            if let Some(column) = error.column {
                let _ = write!(out, ":{column}");
            }
        }
        let _ = writeln!(out, ": error: {}", error.message);
        if let Some(hint) = &error.hint {
            let _ = writeln!(out, "  = hint: {hint}");
        }
    }
    out
}

#[cfg(test)]
mod tests;
