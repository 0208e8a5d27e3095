//! Time-driven rounds: a preview expires, is warned about, falls asleep or wakes up at a known
//! time, with no event from GitHub. When such a time comes, its repo is poked like a webhook
//! would: the refresh (free when nothing changed: every listing is revalidated with its `ETag`)
//! gives the fresh `read_at` that expiry needs, replans, and the ApplicationSets whose answers
//! changed are told. Pure here: which repos are due, and how long to wait.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::fleet::Fleet;
use crate::naming::RepoName;
use crate::plan::{Plan, Preview};

/// Longest wait between two looks at the served plan (a plan published meanwhile may change
/// sooner than the one the timer looked at).
pub(super) const MAX_WAIT: Duration = Duration::from_secs(60);

/// The times at which `preview`, of a service of `fleet`, changes with time alone: its
/// expiry, the start of its warning, its falling asleep or waking up.
fn times(fleet: &Fleet, preview: &Preview) -> impl Iterator<Item = DateTime<Utc>> {
    let warning = fleet
        .service(preview.service.as_str())
        .map_or(Duration::ZERO, |s| s.policy.expiry_warning);
    let warn_from = preview.expires_at.and_then(|at| {
        chrono::Duration::from_std(warning)
            .ok()
            .and_then(|w| at.checked_sub_signed(w))
    });
    [preview.expires_at, warn_from, preview.sleep_changes_at]
        .into_iter()
        .flatten()
}

/// The repo of each preview of `plan` with a change in `(since(repo), now]`: what changed
/// since that repo was last refreshed on the timer's or a webhook's behalf.
pub(super) fn due(
    fleet: &Fleet,
    plan: &Plan,
    now: DateTime<Utc>,
    since: impl Fn(&RepoName) -> Option<DateTime<Utc>>,
) -> BTreeSet<RepoName> {
    let mut repos = BTreeSet::new();
    for preview in &plan.previews {
        let Some(service) = fleet.service(preview.service.as_str()) else {
            continue;
        };
        let Some(from) = since(&service.repo).or(plan.planned_at) else {
            continue;
        };
        if times(fleet, preview).any(|t| from < t && t <= now) {
            repos.insert(service.repo.clone());
        }
    }
    repos
}

/// How long to wait, from `now`, before looking again: until the next change of `plan`
/// after `now`, at most [`MAX_WAIT`], at least a second.
pub(super) fn wait(fleet: &Fleet, plan: &Plan, now: DateTime<Utc>) -> Duration {
    let next = plan
        .previews
        .iter()
        .flat_map(|p| times(fleet, p))
        .filter(|t| *t > now)
        .min();
    next.and_then(|t| t.signed_duration_since(now).to_std().ok())
        .unwrap_or(MAX_WAIT)
        .clamp(Duration::from_secs(1), MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::testing::{facts, fleet, plan_of, pr};

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, hour, minute, 0)
            .single()
            .expect("time")
    }

    /// A plan made at 10:00 whose `web` preview expires at 14:00 (warned from 02:00: the
    /// default 12-hour window) and falls asleep at 20:00.
    fn plan() -> Plan {
        let mut plan = plan_of(&[("web", vec![facts(pr(1), None)])]);
        plan.planned_at = Some(at(10, 0));
        let preview = &mut plan.previews[0];
        preview.expires_at = Some(at(14, 0));
        preview.sleep_changes_at = Some(at(20, 0));
        plan
    }

    #[test]
    fn a_repo_is_due_once_a_change_passed_since_its_last_round() {
        let (fleet, plan) = (fleet(), plan());
        let web: RepoName = "acme/web".parse().expect("repo");
        let never = |_: &RepoName| None;
        type Case = (DateTime<Utc>, Option<DateTime<Utc>>, bool);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            (at(13, 59), None, false),          // nothing since the plan
            (at(14, 0), None, true),            // the expiry, exactly
            (at(14, 0), Some(at(14, 0)), false), // a round already ran then
            (at(19, 0), Some(at(14, 1)), false),
            (at(20, 0), Some(at(14, 1)), true), // falls asleep
        ];
        for (now, last_round, due_now) in cases {
            let since = |_: &RepoName| *last_round;
            let repos = if last_round.is_some() {
                due(&fleet, &plan, *now, since)
            } else {
                due(&fleet, &plan, *now, never)
            };
            assert_eq!(repos.contains(&web), *due_now, "{now} after {last_round:?}");
        }
    }

    #[test]
    fn the_timer_waits_for_the_next_change_within_bounds() {
        let (fleet, plan) = (fleet(), plan());
        assert_eq!(wait(&fleet, &plan, at(13, 59)), Duration::from_secs(60));
        assert_eq!(
            wait(&fleet, &plan, at(13, 59) + chrono::Duration::seconds(30)),
            Duration::from_secs(30)
        );
        assert_eq!(wait(&fleet, &plan, at(14, 0)), MAX_WAIT, "next: 20:00");
        assert_eq!(wait(&fleet, &plan, at(21, 0)), MAX_WAIT, "nothing ahead");
        assert_eq!(
            wait(
                &fleet,
                &plan,
                at(20, 0) - chrono::Duration::milliseconds(200)
            ),
            Duration::from_secs(1),
            "at least a second"
        );
    }
}
