//! A preview's lifetime: when idleness deletes it, whether its PR should be warned, and
//! whether it sleeps now. Pure: computed from facts with timestamps and `now`.
//!
//! **Expiry.** A preview expires `ttl` after the PR's last activity (a push, a label change, a
//! comment or review, a `/preview` command). `/preview extend <d>` at `t` keeps it at least
//! until `t + d` (at most `max_ttl` from `t`); `/preview keep` or the keep label turns expiry
//! off; of the two commands the latest wins. Expiry needs evidence: the PR's activity must have
//! been read *after* the moment it was due (by [`EVIDENCE_MARGIN`], for clock skew and listing
//! lag), so a GitHub outage (activity we could not read) never expires anything, and a PR whose
//! activity was never read does not expire.
//!
//! **Sleep.** Outside the working hours (when sleep is on for the service and the PR did not
//! opt out) a preview sleeps: every workload at 0 replicas. `/preview wake` at `t` keeps it
//! awake until `t + wake_for`.

use chrono::{DateTime, Duration as Span, Utc};

use super::schedule;
use crate::fleet::Policy;
use crate::pull_request::{Activity, Command, TimedCommand};

/// How long after its expiry moment a preview's activity must have been read for the expiry to
/// count: clock skew between GitHub and us, and GitHub's listing lag.
pub const EVIDENCE_MARGIN: std::time::Duration = std::time::Duration::from_secs(120);

/// When and whether a preview goes away for idleness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiry {
    /// When it is deleted if nothing happens; `None`: kept, or activity never read.
    pub expires_at: Option<DateTime<Utc>>,
    /// Past `expires_at`, with activity read after it: positive evidence of idleness.
    pub expired: bool,
    /// Within the warning window before `expires_at` (and not expired).
    pub warning: bool,
}

/// The expiry of a preview with TTL `ttl` (the PR's, within the maximum) for a PR with
/// `activity` (`None`: never read) that carries the keep label when `kept_by_label`.
pub fn expiry(
    policy: &Policy,
    ttl: std::time::Duration,
    kept_by_label: bool,
    activity: Option<&Activity>,
    now: DateTime<Utc>,
) -> Expiry {
    let never = Expiry {
        expires_at: None,
        expired: false,
        warning: false,
    };
    let Some(activity) = activity else {
        return never;
    };
    let Some(last) = activity.last else {
        return never;
    };
    let latest_life_command = activity
        .commands
        .iter()
        .filter(|c| matches!(c.command, Command::Keep | Command::Extend(_)))
        .max_by_key(|c| c.at);
    if kept_by_label || latest_life_command.is_some_and(|c| c.command == Command::Keep) {
        return never;
    }
    let mut expires_at = last.checked_add_signed(span(ttl));
    if let Some(TimedCommand {
        command: Command::Extend(by),
        at,
    }) = latest_life_command
    {
        let until = at.checked_add_signed(span((*by).min(policy.max_ttl)));
        expires_at = expires_at.max(until);
    }
    let Some(expires_at) = expires_at else {
        return never;
    };
    let expired = expires_at <= now && settled(expires_at).is_some_and(|at| activity.read_at >= at);
    let warning = !expired
        && expires_at
            .checked_sub_signed(span(policy.expiry_warning))
            .is_some_and(|from| from <= now);
    Expiry {
        expires_at: Some(expires_at),
        expired,
        warning,
    }
}

/// When a read can prove a preview that expires at `expires_at` idle: a little after it, since
/// the expiry is on GitHub's clock, the read on ours, and a comment made just before the
/// expiry may not be listed yet.
fn settled(expires_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    expires_at.checked_add_signed(span(EVIDENCE_MARGIN))
}

/// The first moment after `now` when a preview's plan changes with time alone: its expiry
/// can be proven ([`settled`]), its warning starts (`warning` before `expires_at`), or it falls
/// asleep or wakes up (`sleep_changes_at`).
pub(super) fn next_change(
    expires_at: Option<DateTime<Utc>>,
    warning: std::time::Duration,
    sleep_changes_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let warn_from = expires_at.and_then(|at| at.checked_sub_signed(span(warning)));
    [expires_at.and_then(settled), warn_from, sleep_changes_at]
        .into_iter()
        .flatten()
        .filter(|at| *at > now)
        .min()
}

/// Whether a preview sleeps now, and when that next changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sleep {
    /// Scaled to zero now.
    pub asleep: bool,
    /// When `asleep` next changes, if it does.
    pub changes_at: Option<DateTime<Utc>>,
}

/// Whether a preview of a service with `policy` sleeps at `now`; `opted_out` when the PR's repo
/// config says `sleep: false`; `activity` for `/preview wake`.
pub fn sleep(
    policy: &Policy,
    opted_out: bool,
    activity: Option<&Activity>,
    now: DateTime<Utc>,
) -> Sleep {
    if !policy.sleep.enabled || opted_out {
        return Sleep {
            asleep: false,
            changes_at: None,
        };
    }
    let hours = &policy.sleep.working_hours;
    let woken_until = activity
        .into_iter()
        .flat_map(|a| &a.commands)
        .filter(|c| c.command == Command::Wake)
        .filter_map(|c| c.at.checked_add_signed(span(policy.wake_for)))
        .max()
        .filter(|until| *until > now);
    let working = schedule::is_working_time(hours, now);
    match woken_until {
        // Woken: awake until the wake ends, then as the working hours say.
        Some(until) if !working => {
            let asleep_then = !schedule::is_working_time(hours, until);
            Sleep {
                asleep: false,
                changes_at: if asleep_then {
                    Some(until)
                } else {
                    schedule::next_change(hours, until)
                },
            }
        }
        Some(until) => {
            // Working hours now: the wake matters only if they end before it does.
            let ends = schedule::next_change(hours, now);
            match ends {
                Some(end) if end < until => Sleep {
                    asleep: false,
                    changes_at: Some(until),
                },
                _ => Sleep {
                    asleep: false,
                    changes_at: ends,
                },
            }
        }
        None => Sleep {
            asleep: !working,
            changes_at: schedule::next_change(hours, now),
        },
    }
}

fn span(duration: std::time::Duration) -> Span {
    Span::from_std(duration).unwrap_or(Span::MAX)
}

#[cfg(test)]
mod tests;
