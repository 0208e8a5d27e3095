//! The previews board: every preview of the fleet on one page, for the people who use them (QA,
//! product, developers), and the JSON behind it (`GET /api/v1/previews`).
//!
//! [`build`] is pure: the current plan, the Applications Argo CD shows, the cost meter and the
//! fleet in, a [`Board`] out: one [`Row`] per preview (and per PR held, queued or waiting for
//! its build), the PRs that asked for a preview and have none with why, the totals and the
//! last 30 days. [`Filter`] narrows and sorts the rows as the page's URL says; [`page`] renders
//! the HTML (maud, escaped by construction). The HTTP routes are `crate::http`'s; the board
//! never calls GitHub, and nothing on it is a secret (PR facts, names, URLs and prices only).

pub mod filter;
pub mod page;
mod rows;
mod totals;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration as Span, NaiveDate, Utc};
use serde::Serialize;
use url::Url;

use crate::cost::meter::Meter;
use crate::fleet::Fleet;
use crate::lifecycle::{Desired, Observed, PreviewCost, State, target_state};
use crate::naming::ServiceName;
use crate::plan::{ExclusionReason, HoldReason, Plan, Preview};

pub use filter::{Filter, SortKey};
use rows::{held_row, left, preview_row, waiting_row};
use totals::money;

/// Days in the board's chart.
pub const CHART_DAYS: usize = 30;

/// What the board is made from.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// The validated fleet (prices, links, repositories).
    pub fleet: &'a Fleet,
    /// The plan being served.
    pub plan: &'a Plan,
    /// The Applications Argo CD shows; `None` when they are not read (no Kubernetes API, or
    /// not listed yet).
    pub observed: Option<&'a [Observed]>,
    /// Hours counted so far.
    pub meter: &'a Meter,
    /// Jira's web address, to link issue keys (`<jira>/browse/KEY`).
    pub jira_url: Option<&'a Url>,
    /// Jira projects whose keys count (empty: any).
    pub jira_projects: &'a [String],
    /// Argo CD's web address (`--argocd-url`): the Application link when the fleet's `links`
    /// has none.
    pub argocd_url: Option<&'a str>,
    /// Now.
    pub now: DateTime<Utc>,
}

/// The whole board.
#[derive(Clone, Debug, Serialize)]
pub struct Board {
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// The fleet's currency.
    pub currency: String,
    /// Whether the Applications' state is known (Argo CD read).
    pub applications_known: bool,
    /// One row per preview, and per PR held, queued or waiting for its build; fleet service
    /// order, then PR number.
    pub previews: Vec<Row>,
    /// Labelled PRs that have no preview, with why.
    pub without_preview: Vec<Left>,
    /// The strip above the table.
    pub totals: Totals,
    /// The last [`CHART_DAYS`] UTC days, oldest first (today last).
    pub days: Vec<Day>,
}

/// One preview (service × PR) as people look at it.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The service's place in the fleet (the default order, and the Preview column's sort).
    #[serde(skip)]
    pub order: usize,
    /// The service.
    pub service: ServiceName,
    /// Its repository, `owner/name`.
    pub repo: String,
    /// The PR number.
    pub number: u64,
    /// The PR on GitHub.
    pub pr_url: String,
    /// The PR's title (untrusted text: escaped wherever it is shown); empty when not read.
    pub title: String,
    /// The PR's author.
    pub author: String,
    /// The head branch (untrusted).
    pub branch: String,
    /// Jira issues named by the PR.
    pub jira: Vec<JiraLink>,
    /// What the preview is doing.
    pub state: RowState,
    /// The state in a few words (for a degraded preview, Argo CD's message).
    pub state_text: String,
    /// The preview's address, while it has one.
    pub url: Option<String>,
    /// The commit deployed.
    pub commit: Option<String>,
    /// Where each dependency points.
    pub dependencies: Vec<Dependency>,
    /// The seed data version (the seed path's tree SHA, short).
    pub seed: Option<String>,
    /// `spot` or `on-demand`.
    pub capacity: Option<&'static str>,
    /// When the preview is deleted if nobody touches the PR.
    pub expires_at: Option<DateTime<Utc>>,
    /// Until then, in words (`2 d 5 h`).
    pub time_left: Option<String>,
    /// What it has cost so far and costs per day awake; `None` without prices.
    pub cost: Option<PreviewCost>,
    /// Its Argo CD Application.
    pub application_url: Option<String>,
    /// Its logs.
    pub logs_url: Option<String>,
}

/// A Jira issue key, linked when Jira's address is known.
#[derive(Clone, Debug, Serialize)]
pub struct JiraLink {
    /// `ABC-123`.
    pub key: String,
    /// `<jira>/browse/ABC-123`.
    pub url: Option<String>,
}

/// Where a dependency of a preview points.
#[derive(Clone, Debug, Serialize)]
pub struct Dependency {
    /// The dependency's service.
    pub service: ServiceName,
    /// `staging` or `PR #42`.
    pub target: String,
    /// The address it calls.
    pub url: String,
}

/// What a row's preview is doing, as the lifecycle knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RowState {
    /// Up, at its commit.
    Healthy,
    /// Being created, synced or rolled out.
    Progressing,
    /// Its sync failed or its pods are broken.
    Degraded {
        /// Argo CD's message.
        message: String,
    },
    /// Scaled to zero outside working hours.
    Asleep {
        /// When it wakes.
        until: Option<DateTime<Utc>>,
    },
    /// Deleted soon if nobody touches the PR.
    Expiring {
        /// When.
        at: DateTime<Utc>,
        /// Until when it sleeps, when it is asleep now.
        asleep_until: Option<DateTime<Utc>>,
    },
    /// Waiting for a free slot.
    Queued {
        /// Place in the queue, from 1.
        position: u32,
        /// Which limit is full: `fleet` or `repo`.
        scope: &'static str,
        /// That limit.
        limit: u32,
    },
    /// Waiting for the image of its commit to be built.
    WaitingForBuild,
    /// Kept as it is while GitHub cannot be read.
    Held {
        /// What is not read.
        reason: String,
    },
    /// Planned; what Argo CD made of it is not known (its Applications are not read).
    Unknown,
}

impl RowState {
    /// The state's name, as the filter and the JSON say it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Progressing => "progressing",
            Self::Degraded { .. } => "degraded",
            Self::Asleep { .. } => "asleep",
            Self::Expiring { .. } => "expiring",
            Self::Queued { .. } => "queued",
            Self::WaitingForBuild => "waiting_for_build",
            Self::Held { .. } => "held",
            Self::Unknown => "unknown",
        }
    }

    /// Every state: its name (as the filter and the JSON say it) and its label, in the
    /// filter's order.
    pub const ALL: [(&'static str, &'static str); 9] = [
        ("healthy", "Healthy"),
        ("progressing", "Progressing"),
        ("degraded", "Degraded"),
        ("asleep", "Asleep"),
        ("expiring", "Expiring soon"),
        ("queued", "Queued"),
        ("waiting_for_build", "Waiting for build"),
        ("held", "Held"),
        ("unknown", "Unknown"),
    ];

    /// The label of a state name.
    pub fn label_of(name: &str) -> &'static str {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("Unknown", |(_, label)| label)
    }
}

/// A labelled PR without a preview.
#[derive(Clone, Debug, Serialize)]
pub struct Left {
    /// The service.
    pub service: ServiceName,
    /// The PR number.
    pub number: u64,
    /// The PR on GitHub.
    pub pr_url: String,
    /// Its title (untrusted).
    pub title: String,
    /// Its author.
    pub author: String,
    /// Why it has no preview, as `plan` says it.
    pub reason: String,
}

/// The strip above the table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    /// Previews planned (awake or asleep).
    pub up: usize,
    /// Of which asleep.
    pub asleep: usize,
    /// PRs queued for a slot.
    pub queued: usize,
    /// Preview-hours today (UTC).
    pub hours_today: f64,
    /// Their cost; `None` when a service has no price.
    pub cost_today: Option<f64>,
    /// Preview-hours this month (UTC), as far as the meter goes back.
    pub hours_month: f64,
    /// Their cost.
    pub cost_month: Option<f64>,
    /// What every row has cost so far, summed.
    pub cost_so_far: Option<f64>,
}

/// One day of the chart.
#[derive(Clone, Debug, Serialize)]
pub struct Day {
    /// The UTC day.
    pub date: NaiveDate,
    /// Preview-hours (awake and asleep).
    pub hours: f64,
    /// Their cost; `None` without prices.
    pub cost: Option<f64>,
}

/// The board of `inputs`.
pub fn build(inputs: &Inputs<'_>) -> Board {
    let plan = inputs.plan;
    let apps: BTreeMap<&str, &Observed> = inputs
        .observed
        .unwrap_or_default()
        .iter()
        .map(|o| (o.name.as_str(), o))
        .collect();
    let mut rows: Vec<(usize, Row)> = Vec::new();
    let order = |service: &ServiceName| {
        inputs
            .fleet
            .services
            .iter()
            .position(|s| &s.name == service)
            .unwrap_or(usize::MAX)
    };
    for preview in &plan.previews {
        let state = preview_state(
            preview,
            inputs
                .observed
                .map(|_| apps.get(preview.name.as_str()).copied()),
        );
        rows.push((order(&preview.service), preview_row(inputs, preview, state)));
    }
    // A preview held for its dependency is planned too: it has its row above.
    for held in plan
        .held
        .iter()
        .filter(|h| !matches!(h.reason, HoldReason::Dependency { .. }))
    {
        rows.push((order(&held.service), held_row(inputs, held, &apps)));
    }
    let mut without_preview = Vec::new();
    for exclusion in &plan.excluded {
        match exclusion.reason {
            ExclusionReason::Queued { .. } | ExclusionReason::WaitingForBuild => {
                rows.push((order(&exclusion.service), waiting_row(inputs, exclusion)));
            }
            ExclusionReason::NotLabelled => {}
            reason => without_preview.push(left(inputs, exclusion, reason)),
        }
    }
    rows.sort_by_key(|(order, row)| (*order, row.number));
    let previews: Vec<Row> = rows
        .into_iter()
        .map(|(order, mut row)| {
            row.order = order;
            row
        })
        .collect();
    let (totals, days) = money(inputs, plan, &previews);
    Board {
        generated_at: inputs.now,
        currency: inputs.fleet.currency.clone(),
        applications_known: inputs.observed.is_some(),
        previews,
        without_preview,
        totals,
        days,
    }
}

/// A planned preview's state: what Argo CD says of it (`observed`: `None` when the
/// Applications are not read, `Some(None)` when it has none yet), but expiring when the PR is
/// warned (its deletion is the news, asleep or not), and asleep rather than rolling out or up
/// (scaling to zero is a rollout). A degraded preview says so before anything: someone must
/// look.
fn preview_state(preview: &Preview, observed: Option<Option<&Observed>>) -> RowState {
    let (state, why) = match observed {
        Some(app) => {
            let (state, why) = target_state(&Desired::from_preview(preview), app);
            (Some(state), why)
        }
        None => (None, String::new()),
    };
    if matches!(state, Some(State::Failure | State::Error)) {
        return RowState::Degraded { message: why };
    }
    if let Some(at) = preview.expires_at.filter(|_| preview.expiry_warning) {
        return RowState::Expiring {
            at,
            asleep_until: preview.asleep.then_some(preview.sleep_changes_at).flatten(),
        };
    }
    if preview.asleep {
        return RowState::Asleep {
            until: preview.sleep_changes_at,
        };
    }
    match state {
        None => RowState::Unknown,
        Some(State::Success) => RowState::Healthy,
        Some(_) => RowState::Progressing,
    }
}

/// The state in a few words, with its time when it has one.
fn state_text(state: &RowState, now: DateTime<Utc>) -> String {
    match state {
        RowState::Healthy => "healthy".into(),
        RowState::Progressing => "progressing".into(),
        RowState::Degraded { message } => message.chars().take(300).collect(),
        RowState::Asleep { until: Some(at) } => {
            format!("asleep until {} UTC", at.format("%a %H:%M"))
        }
        RowState::Asleep { until: None } => "asleep".into(),
        RowState::Expiring { at, asleep_until } => {
            let asleep = asleep_until
                .map(|until| format!(", asleep until {} UTC", until.format("%a %H:%M")))
                .unwrap_or_default();
            format!(
                "deleted in {} unless someone touches the PR{asleep}",
                time_left(*at - now)
            )
        }
        RowState::Queued {
            position,
            scope,
            limit,
        } => format!(
            "queued: {} in line (the {scope} runs {limit} at most)",
            ordinal(*position)
        ),
        RowState::WaitingForBuild => "no commit of it is built yet".into(),
        RowState::Held { reason } => {
            format!("held while GitHub cannot be read ({reason})")
        }
        RowState::Unknown => "deployed state unknown".into(),
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, … `11th`, `21st`.
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A span in words: `2 d 5 h`, `5 h 10 min`, `7 min`; `now` for what is due.
pub fn time_left(span: Span) -> String {
    let minutes = span.num_minutes();
    if minutes <= 0 {
        return "now".into();
    }
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes} min"),
        (0, h) => format!("{h} h {minutes} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests;
