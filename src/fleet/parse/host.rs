//! Host patterns: the rules that make every service × PR get its own host, provably.
//!
//! A valid pattern is `A{service}B{number}C`, each placeholder once, where `A` and `B` are
//! literal text without `.`, `B` is not empty and does not end with a digit, and `C` starts with
//! `.` (and may hold `{base_domain}`). Service names have no `.`, so the first label of a host
//! is `A<service>B<number>`, and since `B` ends with a non-digit the number is exactly the
//! trailing digits of that label: a host gives back its PR number, then its service name by
//! taking off `A` and `B`. So one pattern never renders the same host twice.
//!
//! Services may have different patterns (overrides). Two hosts with different endings (`C`
//! rendered) differ, as they differ after their first `.`; a stricter rule keeps endings apart
//! further: no ending may be the end of another, so no pattern's hosts sit under another's.
//! With the same ending, two hosts are equal exactly when the numbers are and
//! `A1<service1>B1` = `A2<service2>B2`: the fleet lists every service, so that is checked
//! outright, service by service.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use super::cx::{Cx, Fields, join, quote};
use crate::fleet::Service;
use crate::yaml::{Node, did_you_mean, key_text, position};

const SERVICE: &str = "{service}";
const NUMBER: &str = "{number}";
const BASE_DOMAIN: &str = "{base_domain}";
const EXAMPLE: &str = "`{service}-pr-{number}.{base_domain}`";

/// A valid host pattern cut around its placeholders: `before{service}between{number}after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Shape<'a> {
    /// Literal text before `{service}`, in the first label (may be empty).
    pub(super) before: &'a str,
    /// Literal text between `{service}` and `{number}`, in the first label: not empty, not
    /// ending with a digit.
    pub(super) between: &'a str,
    /// The rest, from the `.` that ends the first label; may hold `{base_domain}`.
    pub(super) after: &'a str,
}

impl Shape<'_> {
    /// The first label of the host of `service`, without the PR number.
    fn label_head(&self, service: &str) -> String {
        format!("{}{service}{}", self.before, self.between)
    }

    /// What follows the PR number in every host, `{base_domain}` filled in.
    fn ending(&self, base_domain: &str) -> String {
        self.after.replace(BASE_DOMAIN, base_domain)
    }
}

/// Checks the text of a host pattern on its own; returns its shape, or what is wrong and how
/// to fix it.
pub(super) fn shape(pattern: &str) -> Result<Shape<'_>, String> {
    placeholders_known(pattern)?;
    let shown = quote(pattern);
    let (Some(at_service), Some(at_number)) = (pattern.find(SERVICE), pattern.find(NUMBER)) else {
        return Err(format!(
            "{shown} must contain both `{{service}}` and `{{number}}` so that every service × PR gets its own host, e.g. {EXAMPLE}"
        ));
    };
    if pattern.matches(SERVICE).count() > 1 || pattern.matches(NUMBER).count() > 1 {
        return Err(format!(
            "{shown} must contain `{{service}}` and `{{number}}` once each, e.g. {EXAMPLE}"
        ));
    }
    if at_number < at_service {
        return Err(format!(
            "{shown} has `{{number}}` before `{{service}}`: write `{{service}}` first, e.g. {EXAMPLE}, so that the PR number ends the first label"
        ));
    }
    let before = &pattern[..at_service];
    let between = &pattern[at_service + SERVICE.len()..at_number];
    let after = &pattern[at_number + NUMBER.len()..];
    if [before, between]
        .iter()
        .any(|part| part.contains('.') || part.contains(BASE_DOMAIN))
    {
        return Err(format!(
            "{shown} must have `{{service}}` and `{{number}}` in its first label, before any `.` or `{{base_domain}}`, e.g. {EXAMPLE}"
        ));
    }
    if !after.starts_with('.') {
        return Err(format!(
            "{shown} must end the first label with `{{number}}`: follow it with `.`, e.g. {EXAMPLE}"
        ));
    }
    if between.is_empty() || between.ends_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "{shown} needs text between `{{service}}` and `{{number}}` that does not end with a digit, e.g. `-pr-`, so that the PR number can be told from the service name"
        ));
    }
    Ok(Shape {
        before,
        between,
        after,
    })
}

/// Only `{service}`, `{number}` and `{base_domain}` between braces.
fn placeholders_known(pattern: &str) -> Result<(), String> {
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let placeholder = &rest[open..open + close + 1];
        if ![SERVICE, NUMBER, BASE_DOMAIN].contains(&placeholder) {
            let fix = did_you_mean(placeholder, [SERVICE, NUMBER, BASE_DOMAIN])
                .map_or(String::new(), |close| format!("did you mean `{close}`? "));
            return Err(format!(
                "{} has the unknown placeholder {}: {fix}use only `{{service}}`, `{{number}}` and `{{base_domain}}`",
                quote(pattern),
                quote(placeholder)
            ));
        }
        rest = &rest[open + close + 1..];
    }
    Ok(())
}

/// One service's host pattern, for the fleet-wide check.
#[derive(Clone, Copy, Debug)]
pub(super) struct HostOf<'a> {
    /// The service's index in `services`.
    pub(super) index: usize,
    /// The service's name.
    pub(super) service: &'a str,
    /// Its pattern.
    pub(super) shape: Shape<'a>,
    /// Whether its `overrides` set the pattern (it is blamed first).
    pub(super) overridden: bool,
}

/// Two services whose hosts could collide or nest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Clash {
    /// The service to blame, by its place in the slice given to [`clashes`]: one whose
    /// `overrides` set its pattern.
    pub(super) blamed: usize,
    /// What is wrong and how to fix it.
    pub(super) message: String,
}

/// Finds every service whose hosts could be the same as another's or sit under them (see the
/// module documentation), each blamed at most once. In O(n log n) for n services, plus n times
/// the number of distinct endings.
pub(super) fn clashes(hosts: &[HostOf<'_>], base_domain: &str) -> Vec<Clash> {
    let endings: Vec<String> = hosts.iter().map(|h| h.shape.ending(base_domain)).collect();
    let mut first_of_ending: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, ending) in endings.iter().enumerate() {
        first_of_ending.entry(ending).or_insert(i);
    }
    let mut first_of_host: BTreeMap<(String, &str), usize> = BTreeMap::new();
    let mut blamed = BTreeSet::new();
    let mut found = Vec::new();
    for (i, host) in hosts.iter().enumerate() {
        let ending = endings[i].as_str();
        let head = host.shape.label_head(host.service);
        let same = match first_of_host.entry((head, ending)) {
            Entry::Occupied(first) => Some(*first.get()),
            Entry::Vacant(slot) => {
                slot.insert(i);
                None
            }
        };
        let nested = first_of_ending
            .iter()
            .find(|(other, _)| {
                **other != ending && (other.ends_with(ending) || ending.ends_with(**other))
            })
            .map(|(_, j)| *j);
        for j in same.into_iter().chain(nested) {
            let (at, other) = blame(hosts, i, j);
            if blamed.insert(at) {
                let message = clash(&hosts[at], &endings[at], &hosts[other], &endings[other]);
                found.push(Clash {
                    blamed: at,
                    message,
                });
            }
        }
    }
    found
}

/// Which of services `i` and `j` to blame, then the other: the one whose `overrides` set its
/// pattern, the later one if both did.
fn blame(hosts: &[HostOf<'_>], i: usize, j: usize) -> (usize, usize) {
    let (early, late) = (i.min(j), i.max(j));
    if hosts[late].overridden || !hosts[early].overridden {
        (late, early)
    } else {
        (early, late)
    }
}

/// Why `host` clashes with `other`: the same hosts, or endings that nest.
fn clash(host: &HostOf<'_>, ending: &str, other: &HostOf<'_>, other_ending: &str) -> String {
    let (name, other_name, other_index) = (host.service, other.service, other.index);
    if ending == other_ending {
        let head = host.shape.label_head(name);
        format!(
            "`{name}` and `{other_name}` (services[{other_index}]) would get the same hosts, `{head}<number>{ending}`: change one of their host patterns"
        )
    } else {
        format!(
            "the hosts of `{name}` end in `{ending}` and those of `{other_name}` (services[{other_index}]) in `{other_ending}`: one ending must not be the end of the other, or some previews' hosts would sit under others'; use the same ending, or endings that do not nest"
        )
    }
}

/// Reports services whose hosts could collide or nest (see [`clashes`]), at the `host_pattern`
/// of their `overrides`. `services` holds `None` where a service is invalid. Runs only when
/// every pattern is valid on its own: a service whose pattern was refused falls back to
/// another one, which would be blamed for nothing.
pub(super) fn report(
    cx: &mut Cx,
    services: &[Option<Service>],
    all: &[(String, Fields<'_>)],
    base_domain: &str,
) {
    if cx.errors.iter().any(|e| e.field.ends_with("host_pattern")) {
        return;
    }
    let mut hosts = Vec::new();
    let mut at = Vec::new();
    for (index, (service, (path, fields))) in services.iter().zip(all).enumerate() {
        let Some(service) = service else { continue };
        let Ok(shape) = shape(service.policy.host_pattern.as_str()) else {
            continue;
        };
        let line = override_line(fields);
        hosts.push(HostOf {
            index,
            service: service.name.as_str(),
            shape,
            overridden: line.is_some(),
        });
        at.push((path, line.flatten()));
    }
    for found in clashes(&hosts, base_domain) {
        if let Some((path, line)) = at.get(found.blamed) {
            let field = join(&join(path, "overrides"), "host_pattern");
            cx.error_at_line(&field, *line, found.message);
        }
    }
}

/// `Some(line)` when the service's `overrides` set `host_pattern`.
fn override_line(fields: &Fields<'_>) -> Option<Option<u32>> {
    let overrides = fields.get("overrides")?;
    let Node::Map(entries) = &overrides.value else {
        return None;
    };
    entries
        .iter()
        .find(|(key, _)| key_text(key).as_deref() == Some("host_pattern"))
        .map(|(_, value)| position(value).0)
}

#[cfg(test)]
mod tests;
