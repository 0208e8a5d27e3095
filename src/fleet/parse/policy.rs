//! The preview policy keys (`defaults` and each service's `overrides`): read each layer here;
//! merge overrides over defaults over the built-in values and check the rules that span keys
//! in `resolve`.

mod access;
mod associations;
mod price;
mod resolve;

pub(super) use resolve::{HostCheck, resolve};

use std::time::Duration;

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;

use super::cx::{Cx, Fields, join, quote};
use super::{host, hours, storage};
use crate::fleet::StorageSize;
use crate::yaml::{Located, did_you_mean, position};

/// The keys of `defaults` and `overrides`.
const POLICY_KEYS: [&str; 18] = [
    "label",
    "host_pattern",
    "drafts",
    "forks",
    "spot",
    "replicas",
    "ttl",
    "max_ttl",
    "sleep",
    "build_check",
    "expiry_warning",
    "wake_for",
    "keep_label",
    "priority_label",
    "price_per_hour",
    "activity_associations",
    "database_storage",
    "access",
];
const SLEEP_KEYS: [&str; 2] = ["enabled", "working_hours"];
const HOURS_KEYS: [&str; 4] = ["days", "start", "end", "time_zone"];

/// Longest opt-in label: GitHub's limit on label names.
const MAX_LABEL_CHARS: usize = 50;
/// Longest build check name. GitHub states no limit for check run names; a job name longer
/// than this is almost certainly a pasted command, not a name.
const MAX_CHECK_CHARS: usize = 100;
/// Largest PR number GitHub hands out for a long while; hosts must fit with it.
pub(super) const MAX_PR_NUMBER: u64 = 4_294_967_295;

/// A value set in the file, with the field that set it (to blame it in cross-key errors).
#[derive(Clone, Debug)]
pub(super) struct Set<T> {
    value: T,
    field: String,
    line: Option<u32>,
}

/// One layer of policy keys: what `defaults` or one `overrides` sets. Unset keys fall through.
#[derive(Clone, Debug, Default)]
pub(super) struct Layer {
    label: Option<Set<String>>,
    host_pattern: Option<Set<String>>,
    drafts: Option<Set<bool>>,
    forks: Option<Set<bool>>,
    spot: Option<Set<bool>>,
    replicas: Option<Set<u32>>,
    ttl: Option<Set<Duration>>,
    max_ttl: Option<Set<Duration>>,
    sleep_enabled: Option<Set<bool>>,
    days: Option<Set<Vec<Weekday>>>,
    start: Option<Set<NaiveTime>>,
    end: Option<Set<NaiveTime>>,
    time_zone: Option<Set<Tz>>,
    build_check: Option<Set<String>>,
    expiry_warning: Option<Set<Duration>>,
    wake_for: Option<Set<Duration>>,
    keep_label: Option<Set<String>>,
    priority_label: Option<Set<String>>,
    price: price::PriceLayer,
    activity_associations: Option<Set<Vec<crate::pull_request::AuthorAssociation>>>,
    database_storage: Option<Set<StorageSize>>,
    access: Option<Set<crate::fleet::Access>>,
}

impl Layer {
    /// Whether this layer sets the host pattern.
    pub(super) fn sets_host_pattern(&self) -> bool {
        self.host_pattern.is_some()
    }
}

/// Reads `key` of `fields` with `read`, remembering where it was set.
fn read<T>(
    cx: &mut Cx,
    fields: &Fields<'_>,
    key: &str,
    read: impl FnOnce(&mut Cx, &str, &Located) -> Option<T>,
) -> Option<Set<T>> {
    let node = fields.get(key)?;
    let field = fields.path(key);
    let value = read(cx, &field, node)?;
    let line = position(node).0;
    Some(Set { value, field, line })
}

/// Reads the policy keys of the mapping at `path` (`defaults`, `services[0].overrides`).
pub(super) fn layer(cx: &mut Cx, path: &str, node: Option<&Located>) -> Layer {
    let fields = cx.fields(path, node, &POLICY_KEYS);
    let sleep = cx.fields(&join(path, "sleep"), fields.get("sleep"), &SLEEP_KEYS);
    let hours = cx.fields(
        &sleep.path("working_hours"),
        sleep.get("working_hours"),
        &HOURS_KEYS,
    );
    Layer {
        label: read(cx, &fields, "label", label),
        host_pattern: read(cx, &fields, "host_pattern", host_pattern),
        drafts: read(cx, &fields, "drafts", Cx::boolean),
        forks: read(cx, &fields, "forks", Cx::boolean),
        spot: read(cx, &fields, "spot", Cx::boolean),
        replicas: read(cx, &fields, "replicas", replicas),
        ttl: read(cx, &fields, "ttl", ttl),
        max_ttl: read(cx, &fields, "max_ttl", Cx::duration),
        sleep_enabled: read(cx, &sleep, "enabled", Cx::boolean),
        days: read(cx, &hours, "days", hours::days),
        start: read(cx, &hours, "start", hours::time),
        end: read(cx, &hours, "end", hours::time),
        time_zone: read(cx, &hours, "time_zone", time_zone),
        build_check: read(cx, &fields, "build_check", build_check),
        expiry_warning: read(cx, &fields, "expiry_warning", positive_duration),
        wake_for: read(cx, &fields, "wake_for", positive_duration),
        keep_label: read(cx, &fields, "keep_label", label),
        priority_label: read(cx, &fields, "priority_label", label),
        price: price::layer(cx, &fields),
        activity_associations: read(cx, &fields, "activity_associations", associations::list),
        database_storage: read(cx, &fields, "database_storage", storage::database_storage),
        access: read(cx, &fields, "access", access::access),
    }
}

fn label(cx: &mut Cx, path: &str, node: &Located) -> Option<String> {
    let label = cx.text(path, node)?;
    let chars = label.chars().count();
    if label.trim().is_empty() || chars > MAX_LABEL_CHARS {
        let message = format!(
            "{} must be 1 to {MAX_LABEL_CHARS} characters (GitHub's limit)",
            quote(label)
        );
        cx.error(path, Some(node), message);
        return None;
    }
    Some(label.to_owned())
}

/// A check run name: what GitHub shows in the checks list (for GitHub Actions, the job's
/// `name`, or its id when it has none). Matched exactly, as GitHub's `check_name` filter does.
fn build_check(cx: &mut Cx, path: &str, node: &Located) -> Option<String> {
    cx.checked_text(path, node, |name| {
        let chars = name.chars().count();
        if name.trim().is_empty() || chars > MAX_CHECK_CHARS {
            return Err(format!(
                "{} must be 1 to {MAX_CHECK_CHARS} characters: the name of the check run that builds the image, e.g. `preview-ready`",
                quote(name)
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(format!(
                "{} has a control character (a line break or a tab): write the check's name on one line",
                quote(name)
            ));
        }
        if name.trim() != name {
            return Err(format!(
                "{} starts or ends with a space: GitHub matches check names exactly, remove it",
                quote(name)
            ));
        }
        Ok(())
    })
}

fn host_pattern(cx: &mut Cx, path: &str, node: &Located) -> Option<String> {
    cx.checked_text(path, node, |pattern| host::shape(pattern).map(|_| ()))
}

fn replicas(cx: &mut Cx, path: &str, node: &Located) -> Option<u32> {
    cx.integer(path, node, 1, 10)
        .and_then(|n| u32::try_from(n).ok())
}

fn ttl(cx: &mut Cx, path: &str, node: &Located) -> Option<Duration> {
    positive_duration(cx, path, node)
}

/// A duration longer than zero (`ttl`, `expiry_warning`, `wake_for`).
fn positive_duration(cx: &mut Cx, path: &str, node: &Located) -> Option<Duration> {
    let duration = cx.duration(path, node)?;
    if duration.is_zero() {
        cx.error(
            path,
            Some(node),
            "must be longer than zero: write e.g. `72h`",
        );
        return None;
    }
    Some(duration)
}

fn time_zone(cx: &mut Cx, path: &str, node: &Located) -> Option<Tz> {
    let name = cx.text(path, node)?;
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    let fix = did_you_mean(name, names)
        .map_or(String::new(), |close| format!("did you mean `{close}`? "));
    let message = format!(
        "{} is not an IANA time zone: {fix}write e.g. `Europe/Paris` or `UTC`",
        quote(name)
    );
    cx.error(path, Some(node), message);
    None
}

/// The innermost setting of a key: the override, else the default.
fn pick<'a, T>(over: &'a Option<Set<T>>, default: &'a Option<Set<T>>) -> Option<&'a Set<T>> {
    over.as_ref().or(default.as_ref())
}

fn value<T: Clone>(set: Option<&Set<T>>, builtin: T) -> T {
    set.map_or(builtin, |s| s.value.clone())
}

/// Reports `message` at the field `set` came from. The built-in defaults are consistent, so a
/// cross-key error always has a field set in the file to blame; `defaults` is the safety net.
fn blame<T>(cx: &mut Cx, set: Option<&Set<T>>, message: String) {
    match set {
        Some(set) => cx.error_at_line(&set.field, set.line, message),
        None => cx.error("defaults", None, message),
    }
}

#[cfg(test)]
mod tests;
