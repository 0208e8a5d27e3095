//! Replays a trace through the real planner ([`crate::plan::plan`]) and counts the hours.
//!
//! The state of every PR is rebuilt from the events; at each step the planner is given that
//! state as [`PullFacts`] (activity read at `now`, so expiry is never held back by an outage,
//! and `live` from the previous plan, as the service does), and its plan is taken to hold until
//! the next event, the plan's own `next_change` or one hour later, whichever comes first. The
//! hours are therefore exact: a preview expires, sleeps and wakes at the very moments the
//! planner says. Pure.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::trace::{EventKind, TraceEvent};
use super::{Ledger, accrue};
use crate::fleet::{Fleet, Quota};
use crate::naming::ServiceName;
use crate::naming::{PreviewKey, RepoName};
use crate::plan::{self, PlanInput, PullFacts};
use crate::pull_request::parse_command;
use crate::pull_request::{Activity, TimedCommand};
use crate::pull_request::{ConfigFile, HeadFacts, PullRequest};

/// Longest step between two plans: a safety net; the plan's `next_change` normally comes first.
const MAX_STEP: TimeDelta = TimeDelta::hours(1);

/// A policy to compare, applied to the fleet by [`Scenario::fleet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Every labelled open PR previewed around the clock on on-demand capacity until it is
    /// closed: no TTL, no sleep, no spot, no quota.
    AlwaysOn,
    /// The fleet's TTL and quota; no sleep, no spot.
    Ttl,
    /// The fleet's TTL, quota and sleep; no spot.
    TtlSleep,
    /// The fleet as configured: TTL, quota, sleep and spot.
    TtlSleepSpot,
}

impl Scenario {
    /// Every scenario, from the baseline to the fleet as configured.
    pub const ALL: [Self; 4] = [
        Self::AlwaysOn,
        Self::Ttl,
        Self::TtlSleep,
        Self::TtlSleepSpot,
    ];

    /// A short name for the report.
    pub fn label(self) -> &'static str {
        match self {
            Self::AlwaysOn => "always on",
            Self::Ttl => "TTL",
            Self::TtlSleep => "TTL + sleep",
            Self::TtlSleepSpot => "TTL + sleep + spot",
        }
    }

    /// `fleet` with this scenario's policy. Build checks are dropped in every scenario (images
    /// are taken as built at once: the build's minutes do not change the month's cost).
    pub fn fleet(self, fleet: &Fleet) -> Fleet {
        let mut fleet = fleet.clone();
        if self == Self::AlwaysOn {
            fleet.quota = Quota::default();
        }
        for service in &mut fleet.services {
            let policy = &mut service.policy;
            policy.build_check = None;
            if self == Self::AlwaysOn {
                // A century is "never" for any trace.
                policy.ttl = Duration::from_secs(100 * 365 * 86_400);
                policy.max_ttl = policy.ttl;
            }
            if matches!(self, Self::AlwaysOn | Self::Ttl) {
                policy.sleep.enabled = false;
            }
            if self != Self::TtlSleepSpot {
                policy.spot = false;
            }
        }
        fleet
    }
}

/// The time window hours are counted in: `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Start, included.
    pub from: DateTime<Utc>,
    /// End, excluded.
    pub to: DateTime<Utc>,
}

/// What is known of one PR at a moment of the trace.
#[derive(Clone, Debug)]
struct PrState {
    open: bool,
    draft: bool,
    /// Each label with when it was last added.
    labels: BTreeMap<String, DateTime<Utc>>,
    last: DateTime<Utc>,
    pushes: u64,
    commands: Vec<TimedCommand>,
}

impl PrState {
    fn apply(&mut self, event: &TraceEvent) {
        if !self.open && !matches!(event.kind, EventKind::Opened { .. }) {
            return;
        }
        self.last = self.last.max(event.at);
        match &event.kind {
            EventKind::Opened { labels, draft } => {
                self.open = true;
                self.draft = *draft;
                self.labels = labels
                    .iter()
                    .map(|l| (l.to_lowercase(), event.at))
                    .collect();
                self.pushes += 1;
            }
            EventKind::Labeled { label } => {
                self.labels.insert(label.to_lowercase(), event.at);
            }
            EventKind::Unlabeled { label } => {
                self.labels.remove(&label.to_lowercase());
            }
            EventKind::Push => self.pushes += 1,
            EventKind::Comment => {}
            EventKind::Command { text } => {
                if let Ok(Some(command)) = parse_command(text) {
                    self.commands.push(TimedCommand {
                        command,
                        at: event.at,
                    });
                }
            }
            EventKind::ReadyForReview => self.draft = false,
            EventKind::ConvertedToDraft => self.draft = true,
            EventKind::Closed { .. } => self.open = false,
        }
    }

    fn facts(&self, repo: &RepoName, number: u64, label: &str, now: DateTime<Utc>) -> PullFacts {
        let pr = PullRequest {
            number,
            title: format!("{repo}#{number}"),
            body: String::new(),
            branch: format!("pr-{number}"),
            target_branch: "main".to_owned(),
            // A distinct made-up commit per push: 40 hex digits.
            head_sha: format!(
                "{:040x}",
                (u128::from(self.pushes) << 64) | u128::from(number)
            ),
            author: "someone".to_owned(),
            labels: self.labels.keys().cloned().collect(),
            draft: self.draft,
            from_fork: false,
            updated_at: self.last,
        };
        PullFacts {
            pr: pr.into(),
            head: Some(HeadFacts {
                config: ConfigFile::Missing,
                seed_tree_sha: Some("5eed".repeat(10)),
            }),
            last_valid_config: None,
            activity: Some(Activity {
                last: Some(self.last),
                labelled_at: self.labels.get(&label.to_lowercase()).copied(),
                commands: self.commands.clone(),
                read_at: now,
            }),
            live: false,
        }
    }
}

/// Replays `events` (sorted by time, as [`super::trace::parse`] returns them) on `fleet` and
/// counts each service's hours within `window`.
pub fn replay(fleet: &Fleet, events: &[TraceEvent], window: Window) -> Ledger {
    let mut ledger = Ledger::new();
    replay_plans(fleet, events, window, |plan, from, to| {
        accrue(&mut ledger, plan, hours(to - from));
    });
    ledger
}

/// Replays `events` on `fleet` and hands each plan with the part of `window` it holds over,
/// `[from, to)`, to `step`, in time order: what the running service's cost meter would have
/// counted had it served these plans.
pub fn replay_plans(
    fleet: &Fleet,
    events: &[TraceEvent],
    window: Window,
    mut step: impl FnMut(&plan::Plan, DateTime<Utc>, DateTime<Utc>),
) {
    let Some(first) = events.first() else {
        return;
    };
    let mut prs: BTreeMap<(RepoName, u64), PrState> = BTreeMap::new();
    let mut live: BTreeSet<PreviewKey> = BTreeSet::new();
    let mut next_event = 0;
    let mut now = first.at.min(window.from);
    while now < window.to {
        while let Some(event) = events.get(next_event).filter(|e| e.at <= now) {
            prs.entry((event.repo.clone(), event.pr))
                .or_insert_with(|| PrState {
                    open: false,
                    draft: false,
                    labels: BTreeMap::new(),
                    last: event.at,
                    pushes: 0,
                    commands: Vec::new(),
                })
                .apply(event);
            next_event += 1;
        }
        let facts = facts(fleet, &prs, &live, now);
        let input = PlanInput {
            fleet,
            services: facts
                .iter()
                .map(|(s, f)| (s.clone(), f.as_slice()))
                .collect(),
            now,
        };
        let plan = plan::plan(&input);
        let mut until = (now + MAX_STEP).min(window.to);
        if let Some(event) = events.get(next_event) {
            until = until.min(event.at);
        }
        if let Some(change) = plan.next_change.filter(|c| *c > now) {
            until = until.min(change);
        }
        let (from, to) = (now.max(window.from), until.min(window.to));
        if to > from {
            step(&plan, from, to);
        }
        live = plan
            .previews
            .iter()
            .map(crate::plan::Preview::key)
            .collect();
        now = until;
    }
}

/// The facts of every service at `now`: one [`PullFacts`] per open PR of its repository.
fn facts(
    fleet: &Fleet,
    prs: &BTreeMap<(RepoName, u64), PrState>,
    live: &BTreeSet<PreviewKey>,
    now: DateTime<Utc>,
) -> BTreeMap<ServiceName, Vec<PullFacts>> {
    fleet
        .services
        .iter()
        .map(|service| {
            let pulls = prs
                .iter()
                .filter(|((repo, _), state)| repo == &service.repo && state.open)
                .map(|((repo, number), state)| {
                    let mut facts = state.facts(repo, *number, &service.policy.label, now);
                    facts.live = live.contains(&PreviewKey::new(service.name.clone(), *number));
                    facts
                })
                .collect();
            (service.name.clone(), pulls)
        })
        .collect()
}

/// A span in hours.
fn hours(span: TimeDelta) -> f64 {
    // Milliseconds: exact for any span a trace has.
    #[allow(clippy::cast_precision_loss)]
    let ms = span.num_milliseconds() as f64;
    ms / 3_600_000.0
}
