//! Validation of a loaded repo config tree, key by key, collecting every error.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Bounds, ConfigError, DependencyTarget, MIN_TTL, RepoConfig};
use crate::naming::ServiceName;
use crate::yaml::{
    Located, Node, code_span, did_you_mean, key_text, one_of, position, short_duration,
};

/// The keys a repo config may have.
const KEYS: [&str; 4] = ["dependencies", "ttl", "spot", "sleep"];

/// Keys people may try to set that only the fleet decides, for a pointed hint.
const FLEET_ONLY: [&str; 12] = [
    "image",
    "images",
    "tag",
    "namespace",
    "url",
    "urls",
    "host",
    "hosts",
    "staging_url",
    "overlay_path",
    "repo",
    "values",
];

/// Longest piece of untrusted text quoted back in a message.
const QUOTE_MAX: usize = 60;

/// Untrusted `text` quoted for a message: a code span it cannot break out of (see [`code_span`]).
fn quote(text: &str) -> String {
    code_span(text, QUOTE_MAX)
}

/// Validates the whole file; returns what was valid and every error.
pub(super) fn config(
    root: &Located,
    bounds: Option<&Bounds<'_>>,
) -> (RepoConfig, Vec<ConfigError>) {
    let mut checker = Checker {
        bounds,
        errors: Vec::new(),
        config: RepoConfig::default(),
    };
    match &root.value {
        Node::Null => {}
        Node::Map(entries) => {
            let mut seen = BTreeMap::new();
            for (key, value) in entries {
                if let Some(name) = checker.key(key, &mut seen) {
                    checker.setting(name, value);
                }
            }
        }
        other => checker.error(
            root,
            format!(
                "the file must be a mapping of settings, found {}",
                other.kind()
            ),
            Some("write settings as `key: value` lines, e.g. `ttl: 5d`".into()),
        ),
    }
    (checker.config, checker.errors)
}

struct Checker<'b> {
    bounds: Option<&'b Bounds<'b>>,
    errors: Vec<ConfigError>,
    config: RepoConfig,
}

impl Checker<'_> {
    fn error(&mut self, at: &Located, message: String, hint: Option<String>) {
        let (line, column) = position(at);
        self.errors.push(ConfigError {
            line,
            column,
            message,
            hint,
        });
    }

    /// The setting `key` names, when it is one of [`KEYS`] and not repeated; reports it otherwise.
    fn key(
        &mut self,
        key: &Located,
        seen: &mut BTreeMap<String, Option<u32>>,
    ) -> Option<&'static str> {
        let Some(text) = key_text(key) else {
            self.error(key, "a setting name must be plain text".into(), None);
            return None;
        };
        let Some(name) = KEYS.iter().copied().find(|k| *k == text.as_ref()) else {
            let hint = unknown_setting_hint(&text);
            self.error(key, format!("unknown setting {}", quote(&text)), Some(hint));
            return None;
        };
        self.first_time(key, name, seen, "setting").then_some(name)
    }

    /// Whether `name` is seen for the first time in this mapping; reports a repeat.
    fn first_time(
        &mut self,
        key: &Located,
        name: &str,
        seen: &mut BTreeMap<String, Option<u32>>,
        what: &str,
    ) -> bool {
        match seen.get(name) {
            Some(first) => {
                let hint = match first {
                    Some(line) => format!("keep one: it is first set on line {line}"),
                    None => "keep one".to_owned(),
                };
                let message = format!("{what} {} is set twice", quote(name));
                self.error(key, message, Some(hint));
                false
            }
            None => {
                seen.insert(name.to_owned(), position(key).0);
                true
            }
        }
    }

    fn setting(&mut self, name: &str, value: &Located) {
        match name {
            "dependencies" => self.dependencies(value),
            "ttl" => self.config.ttl = self.ttl(value),
            "spot" => self.config.spot = self.boolean("spot", value),
            _ => self.config.sleep = self.boolean("sleep", value),
        }
    }

    fn dependencies(&mut self, value: &Located) {
        let entries = match &value.value {
            // `dependencies:` with every entry commented out.
            Node::Null => return,
            Node::Map(entries) => entries,
            other => {
                let message = format!("`dependencies` must be a mapping, found {}", other.kind());
                let hint = "write one `name: target` line per dependency under `dependencies:`, \
                            e.g. `api: pr-123`";
                return self.error(value, message, Some(hint.into()));
            }
        };
        let mut seen = BTreeMap::new();
        for (key, target) in entries {
            let name = self
                .dependency_name(key)
                .filter(|name| self.first_time(key, name.as_str(), &mut seen, "dependency"));
            // The target is checked even when the name is wrong, to report every error at once.
            match (name, parse_target(&target.value)) {
                (Some(name), Ok(target)) => {
                    self.config.dependencies.insert(name, target);
                }
                (_, Err((message, hint))) => self.error(target, message, Some(hint)),
                (None, Ok(_)) => {}
            }
        }
    }

    fn dependency_name(&mut self, key: &Located) -> Option<ServiceName> {
        let Some(text) = key_text(key) else {
            self.error(key, "a dependency name must be plain text".into(), None);
            return None;
        };
        let shown = quote(&text);
        let Some(bounds) = self.bounds else {
            let name = ServiceName::new(&text);
            if name.is_none() {
                let hint = "service names are lowercase letters, digits and `-`, \
                            at most 40 characters";
                self.error(
                    key,
                    format!("{shown} is not a service name"),
                    Some(hint.into()),
                );
            }
            return name;
        };
        if let Some(name) = bounds.dependencies.iter().find(|d| d.as_str() == text) {
            return Some(name.clone());
        }
        let declared: Vec<&str> = bounds
            .dependencies
            .iter()
            .map(ServiceName::as_str)
            .collect();
        let hint = match (
            declared.is_empty(),
            did_you_mean(&text, declared.iter().copied()),
        ) {
            (true, _) => "this service has no dependencies in the fleet: remove this entry".into(),
            (false, Some(close)) => {
                format!(
                    "did you mean `{close}`? this service depends on {}",
                    one_of(&declared)
                )
            }
            (false, None) => format!("this service depends on {}", one_of(&declared)),
        };
        self.error(
            key,
            format!("{shown} is not a dependency of this service"),
            Some(hint),
        );
        None
    }

    fn ttl(&mut self, value: &Located) -> Option<Duration> {
        let (ttl, written) = match &value.value {
            Node::Str(text) => match humantime::parse_duration(text.trim()) {
                Ok(ttl) => (ttl, text.trim()),
                Err(_) => {
                    let message = format!("{} is not a duration", quote(text));
                    let hint = "write a number and a unit, e.g. `36h`, `5d` or `2d 12h`";
                    self.error(value, message, Some(hint.into()));
                    return None;
                }
            },
            Node::Int(n) => {
                let hint = format!("write e.g. `{n}h` or `{n}d`");
                self.error(value, format!("`{n}` has no unit"), Some(hint));
                return None;
            }
            other => {
                let message = format!("`ttl` must be a duration, found {}", other.kind());
                self.error(value, message, Some("write e.g. `ttl: 5d`".into()));
                return None;
            }
        };
        self.ttl_in_bounds(value, ttl, written).then_some(ttl)
    }

    /// Whether `ttl` is within the bounds; the message echoes the TTL as `written` and shows the
    /// bounds in their short form (`14d`), never humantime's months and years.
    fn ttl_in_bounds(&mut self, value: &Located, ttl: Duration, written: &str) -> bool {
        if ttl < MIN_TTL {
            let min = short_duration(MIN_TTL);
            let message = format!(
                "a TTL of {} is shorter than the minimum of `{min}`",
                quote(written)
            );
            self.error(value, message, Some(format!("ask for at least `{min}`")));
            return false;
        }
        match self.bounds {
            Some(bounds) if ttl > bounds.max_ttl => {
                let max = short_duration(bounds.max_ttl);
                let message = format!(
                    "a TTL of {} is longer than the fleet's maximum of `{max}`",
                    quote(written)
                );
                self.error(value, message, Some(format!("ask for at most `{max}`")));
                false
            }
            _ => true,
        }
    }

    fn boolean(&mut self, key: &str, value: &Located) -> Option<bool> {
        if let Node::Bool(b) = value.value {
            return Some(b);
        }
        let found = match &value.value {
            Node::Str(text) => quote(text),
            other => other.kind().to_owned(),
        };
        let hint = "write `true` or `false` (words like `yes` or `off` are not booleans here)";
        self.error(
            value,
            format!("`{key}` must be `true` or `false`, found {found}"),
            Some(hint.into()),
        );
        None
    }
}

/// The hint for an unknown setting: the closest one, or why it cannot be set from a PR.
fn unknown_setting_hint(text: &str) -> String {
    let settings = one_of(&KEYS);
    match did_you_mean(text, KEYS) {
        Some(close) => format!("did you mean `{close}`? the settings are {settings}"),
        None if text.eq_ignore_ascii_case("access") => format!(
            "who may open a preview (`access`) is the fleet's to decide, not the PR's; \
             the settings are {settings}"
        ),
        None if FLEET_ONLY.contains(&text.to_ascii_lowercase().as_str()) => format!(
            "images, URLs, hosts and namespaces come from the fleet, not from the PR; \
             the settings are {settings}"
        ),
        None => format!("the settings are {settings}"),
    }
}

/// The dependency target `value` names, or a message and a hint.
fn parse_target(value: &Node) -> Result<DependencyTarget, (String, String)> {
    const EXPECTED: &str = "write `staging` or `pr-<N>` with the PR number, e.g. `pr-123`";
    let text = match value {
        Node::Str(text) => text.trim(),
        Node::Int(n) => return Err(pr_suggestion(&n.to_string(), &n.to_string())),
        other => {
            let message = format!("a dependency target must be text, found {}", other.kind());
            return Err((message, EXPECTED.into()));
        }
    };
    if text == "staging" {
        return Ok(DependencyTarget::Staging);
    }
    if let Some(number) = text.strip_prefix("pr-").and_then(canonical_number) {
        return match u32::try_from(number) {
            Ok(n) if n > 0 => Ok(DependencyTarget::PullRequest(number)),
            _ => Err((
                format!("{} is not a valid PR number", quote(text)),
                "PR numbers are between 1 and 4294967295".into(),
            )),
        };
    }
    Err(target_mistake(text))
}

/// The message and hint for a target that is neither `staging` nor `pr-<N>`.
fn target_mistake(text: &str) -> (String, String) {
    if let Some(digits) = pr_digits(text) {
        return pr_suggestion(text, digits);
    }
    let message = format!("{} is not a dependency target", quote(text));
    if text.contains("://") || text.contains('/') || text.contains('.') || text.contains(':') {
        let hint = "a dependency can only point at `staging` or a PR's preview (`pr-<N>`): \
                    URLs, hosts, namespaces and images come from the fleet, not from the PR";
        return (message, hint.into());
    }
    if did_you_mean(text, ["staging"]).is_some() {
        return (message, "did you mean `staging`?".into());
    }
    (
        message,
        "write `staging` or `pr-<N>` with the PR number, e.g. `pr-123`".into(),
    )
}

/// The message and hint for a PR reference written the wrong way (`12`, `#12`, `PR-12`).
fn pr_suggestion(written: &str, digits: &str) -> (String, String) {
    let message = format!("{} is not a dependency target", quote(written));
    match canonical_number(digits.trim_start_matches('0'))
        .filter(|n| (1..=u64::from(u32::MAX)).contains(n))
    {
        Some(n) => (message, format!("did you mean `pr-{n}`?")),
        None => (
            message,
            "PR numbers are between 1 and 4294967295, written `pr-<N>`".into(),
        ),
    }
}

/// The digits of a PR reference like `12`, `#12`, `pr12`, `PR-12`, `pr_12`, `pr #12`.
fn pr_digits(text: &str) -> Option<&str> {
    let lower_prefix = text.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("pr"));
    let rest = if lower_prefix { &text[2..] } else { text };
    let digits = rest.trim_start_matches(['-', '_', ' ', '#']);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A decimal number written without sign or leading zeros.
fn canonical_number(digits: &str) -> Option<u64> {
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !(digits.len() > 1 && digits.starts_with('0'));
    canonical.then(|| digits.parse().ok()).flatten()
}
