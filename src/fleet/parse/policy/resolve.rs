//! Merging the layers: `overrides` over `defaults` over the built-in values, and the rules
//! that span keys (`max_ttl` and `ttl`, `expiry_warning`, distinct labels, working hours, the
//! rendered host), each error blamed on the innermost field that set a key involved.

use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Tz;

use super::super::cx::{Cx, quote};
use super::super::hours;
use super::{Layer, MAX_PR_NUMBER, Set, associations, blame, pick, price, value};
use crate::fleet::{HostPattern, Policy, SleepPolicy, StorageSize, WorkingHours};
use crate::naming::ServiceName;
use crate::naming::is_dns_name;
use crate::yaml::short_duration;

/// How to check the merged host pattern: the service name and base domain to render it with.
pub(in crate::fleet::parse) struct HostCheck<'a> {
    pub(in crate::fleet::parse) service: &'a ServiceName,
    pub(in crate::fleet::parse) base_domain: &'a str,
}

/// Merges `over` over `default` over the built-in defaults and checks the rules that span keys
/// (`max_ttl` ≥ `ttl`, `expiry_warning` < `ttl`, distinct labels, complete prices, `end` after
/// `start`, the host a DNS name). Errors blame the innermost field that set one of the keys
/// involved.
pub(in crate::fleet::parse) fn resolve(
    cx: &mut Cx,
    default: &Layer,
    over: &Layer,
    host: Option<HostCheck<'_>>,
) -> Option<Policy> {
    let errors = cx.errors.len();
    let (ttl, max_ttl) = (
        pick(&over.ttl, &default.ttl),
        pick(&over.max_ttl, &default.max_ttl),
    );
    let ttl_value = value(ttl, Duration::from_secs(72 * 3600));
    let max_ttl_value = value(max_ttl, Duration::from_secs(14 * 24 * 3600));
    if max_ttl_value < ttl_value {
        let blamed = if max_ttl.is_some() { max_ttl } else { ttl };
        let message = format!(
            "`max_ttl` ({}) is shorter than `ttl` ({}): raise `max_ttl` or lower `ttl`",
            short_duration(max_ttl_value),
            short_duration(ttl_value)
        );
        blame(cx, blamed, message);
    }
    let expiry_warning = pick(&over.expiry_warning, &default.expiry_warning);
    let expiry_warning_value = value(expiry_warning, Duration::from_secs(12 * 3600));
    if expiry_warning_value >= ttl_value {
        let blamed = if expiry_warning.is_some() {
            expiry_warning
        } else {
            ttl
        };
        let message = format!(
            "`expiry_warning` ({}) must be shorter than `ttl` ({}): otherwise every preview is \
             warned about from its last activity on; lower `expiry_warning` or raise `ttl`",
            short_duration(expiry_warning_value),
            short_duration(ttl_value)
        );
        blame(cx, blamed, message);
    }
    let labels = labels(cx, default, over);
    let price = price::resolve(cx, &default.price, &over.price);
    let working_hours = working_hours(cx, default, over);
    let pattern = pick(&over.host_pattern, &default.host_pattern);
    let pattern_value = value(pattern, HostPattern::DEFAULT.to_owned());
    if let Some(host) = host {
        check_host(cx, pattern, &pattern_value, &host);
    }
    let [label, keep_label, priority_label] = labels;
    let policy = Policy {
        label,
        host_pattern: HostPattern::new_unchecked(pattern_value),
        drafts: value(pick(&over.drafts, &default.drafts), false),
        forks: value(pick(&over.forks, &default.forks), false),
        spot: value(pick(&over.spot, &default.spot), true),
        replicas: value(pick(&over.replicas, &default.replicas), 1),
        ttl: ttl_value,
        max_ttl: max_ttl_value,
        sleep: SleepPolicy {
            enabled: value(pick(&over.sleep_enabled, &default.sleep_enabled), true),
            working_hours: working_hours?,
        },
        build_check: pick(&over.build_check, &default.build_check).map(|s| s.value.clone()),
        expiry_warning: expiry_warning_value,
        wake_for: value(
            pick(&over.wake_for, &default.wake_for),
            Duration::from_secs(4 * 3600),
        ),
        keep_label,
        priority_label,
        price: price?,
        activity_associations: associations::merged(default, over),
        database_storage: value(
            pick(&over.database_storage, &default.database_storage),
            StorageSize::default(),
        ),
        access: value(pick(&over.access, &default.access), Default::default()),
    };
    (cx.errors.len() == errors).then_some(policy)
}

/// The opt-in, keep and priority labels, merged; they must differ (GitHub compares label names
/// without case): a keep label equal to the opt-in label would keep every preview forever, a
/// priority label equal to it would put every PR first.
fn labels(cx: &mut Cx, default: &Layer, over: &Layer) -> [String; 3] {
    let sets = [
        ("label", pick(&over.label, &default.label), "preview"),
        (
            "keep_label",
            pick(&over.keep_label, &default.keep_label),
            "preview-keep",
        ),
        (
            "priority_label",
            pick(&over.priority_label, &default.priority_label),
            "preview-priority",
        ),
    ];
    let values = sets.map(|(_, set, builtin)| value(set, builtin.to_owned()));
    for later in 1..sets.len() {
        for earlier in 0..later {
            if values[later].eq_ignore_ascii_case(&values[earlier]) {
                let (name, set, _) = sets[later];
                let blamed = if set.is_some() { set } else { sets[earlier].1 };
                let message = format!(
                    "`{name}` and `{}` are both {}: use a label of its own for each",
                    sets[earlier].0,
                    quote(&values[later])
                );
                blame(cx, blamed, message);
            }
        }
    }
    values
}

fn working_hours(cx: &mut Cx, default: &Layer, over: &Layer) -> Option<WorkingHours> {
    let (start, end) = (
        pick(&over.start, &default.start),
        pick(&over.end, &default.end),
    );
    let hours = WorkingHours {
        days: value(pick(&over.days, &default.days), hours::WEEKDAYS.to_vec()),
        start: value(start, NaiveTime::from_hms_opt(8, 0, 0)?),
        end: value(end, NaiveTime::from_hms_opt(20, 0, 0)?),
        time_zone: value(pick(&over.time_zone, &default.time_zone), Tz::UTC),
    };
    if hours.end <= hours.start {
        let blamed = if end.is_some() { end } else { start };
        let message = format!(
            "`end` ({}) must be after `start` ({}) on the same day",
            hours.end.format("%H:%M"),
            hours.start.format("%H:%M")
        );
        blame(cx, blamed, message);
    }
    Some(hours)
}

fn check_host(cx: &mut Cx, pattern: Option<&Set<String>>, template: &str, host: &HostCheck<'_>) {
    let rendered = HostPattern::new_unchecked(template.to_owned()).render(
        host.service,
        MAX_PR_NUMBER,
        host.base_domain,
    );
    if is_dns_name(&rendered) {
        return;
    }
    let message = format!(
        "with service `{}` and PR number {MAX_PR_NUMBER} the host would be {}, not a valid DNS name \
         (lowercase labels of at most 63 characters, 253 in all): shorten the pattern",
        host.service,
        quote(&rendered)
    );
    match pattern {
        Some(set) => cx.error_at_line(&set.field, set.line, message),
        None => cx.error("base_domain", None, message),
    }
}
