//! A synthetic month of pull-request activity, deterministic from a seed: the trace that
//! `preview-tower cost --simulate` replays. The model (documented with its numbers in
//! `docs/cost.md`):
//!
//! - `engineers` people in one time zone (Europe/Paris), working Monday to Friday, 09:00 to
//!   18:30 local time, from Monday 2 March 2026 (the month holds the change to summer time);
//! - each opens a PR on a working day with probability [`OPEN_PER_DAY`], at a random working
//!   time, in a repository of the fleet picked uniformly;
//! - 70 % of PRs carry the opt-in label from the start, 10 % get it a few hours later, 20 %
//!   never (no preview);
//! - a PR lives a log-normal time (median 26 h, σ 1.4: hours to weeks), its close moved into
//!   working hours; 12 % are abandoned: never closed, active only in their first days;
//! - on each working day of its life its author is active on it with probability 0.55: one to
//!   four pushes or comments at working times;
//! - 3 % get `/preview keep`, 6 % `/preview extend 7d`, 4 % a `/preview wake` one evening.
//!
//! The generator is [`rand_chacha::ChaCha8Rng`], whose stream is fixed for a seed across
//! versions and platforms: the same seed gives the same trace, and the same report. Pure.

use chrono::{DateTime, Datelike, Duration as Span, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Paris;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::replay::Window;
use super::trace::{EventKind, TraceEvent};
use crate::fleet::Fleet;
use crate::naming::RepoName;

/// Probability that an engineer opens a PR on a working day.
pub const OPEN_PER_DAY: f64 = 0.4;
/// Median PR lifetime, hours.
const MEDIAN_LIFE_HOURS: f64 = 26.0;
/// σ of the log of the lifetime.
const LIFE_SIGMA: f64 = 1.4;
/// Longest lifetime drawn, hours (45 days).
const MAX_LIFE_HOURS: f64 = 45.0 * 24.0;
/// Probability that a PR is abandoned (never closed).
const ABANDONED: f64 = 0.12;
/// Probability of activity on a PR on a working day of its life.
const ACTIVE_PER_DAY: f64 = 0.55;
/// Working time of the engineers, local, in minutes from midnight: 09:00 to 18:30.
const WORK_MINUTES: (u32, u32) = (9 * 60, 18 * 60 + 30);

/// What to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Engineers opening PRs.
    pub engineers: u32,
    /// Days simulated, from the start.
    pub days: u32,
    /// Seed of the random generator.
    pub seed: u64,
}

/// The first day simulated: Monday 2 March 2026, 00:00 in Paris.
pub fn start() -> DateTime<Utc> {
    local(day(0), 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn day(offset: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default() + Span::days(i64::from(offset))
}

/// `minutes` after midnight of `date` in Paris; `None` in a DST gap.
fn local(date: NaiveDate, minutes: u32) -> Option<DateTime<Utc>> {
    let time = NaiveTime::from_num_seconds_from_midnight_opt(minutes * 60, 0)?;
    Paris
        .from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

fn working_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A synthetic trace for `fleet`'s repositories, sorted by time, and the window it covers.
pub fn simulate(fleet: &Fleet, params: &Params) -> (Vec<TraceEvent>, Window) {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let repos: Vec<(RepoName, String)> = fleet
        .repos()
        .into_iter()
        .filter_map(|repo| {
            let service = fleet.services_of(repo).next()?;
            Some((repo.clone(), service.policy.label.clone()))
        })
        .collect();
    let window = Window {
        from: start(),
        to: local(day(params.days), 0).unwrap_or(DateTime::<Utc>::MAX_UTC),
    };
    let mut events = Vec::new();
    let mut next_number = vec![1000u64; repos.len()];
    for offset in 0..params.days {
        let date = day(offset);
        if !working_day(date) {
            continue;
        }
        for _ in 0..params.engineers {
            if repos.is_empty() || !rng.random_bool(OPEN_PER_DAY) {
                continue;
            }
            let index = rng.random_range(0..repos.len());
            let (repo, label) = &repos[index];
            let number = next_number[index];
            next_number[index] += 1;
            let Some(opened) = work_time(&mut rng, date) else {
                continue;
            };
            let pr = Pr {
                repo,
                number,
                opened,
                end: window.to,
            };
            pr.events(&mut rng, label, &mut events);
        }
    }
    events.retain(|e| e.at < window.to);
    events.sort_by_key(|e| e.at);
    (events, window)
}

/// A random working time on `date`.
fn work_time(rng: &mut ChaCha8Rng, date: NaiveDate) -> Option<DateTime<Utc>> {
    local(date, rng.random_range(WORK_MINUTES.0..WORK_MINUTES.1))
}

/// The first working time at or after `at`, a random time into that working day when `at` is
/// outside working hours.
fn into_working_hours(rng: &mut ChaCha8Rng, at: DateTime<Utc>) -> DateTime<Utc> {
    let local_at = at.with_timezone(&Paris);
    let minutes = local_at.hour_minutes();
    let mut date = local_at.date_naive();
    if working_day(date) && (WORK_MINUTES.0..WORK_MINUTES.1).contains(&minutes) {
        return at;
    }
    if minutes >= WORK_MINUTES.0 || !working_day(date) {
        date = date.succ_opt().unwrap_or(date);
    }
    while !working_day(date) {
        date = date.succ_opt().unwrap_or(date);
    }
    work_time(rng, date).unwrap_or(at)
}

trait HourMinutes {
    fn hour_minutes(&self) -> u32;
}

impl<T: chrono::Timelike> HourMinutes for T {
    fn hour_minutes(&self) -> u32 {
        self.hour() * 60 + self.minute()
    }
}

/// One synthetic PR being written out.
struct Pr<'a> {
    repo: &'a RepoName,
    number: u64,
    opened: DateTime<Utc>,
    /// End of the simulation.
    end: DateTime<Utc>,
}

impl Pr<'_> {
    fn event(&self, at: DateTime<Utc>, kind: EventKind) -> TraceEvent {
        TraceEvent {
            at,
            repo: self.repo.clone(),
            pr: self.number,
            kind,
        }
    }

    fn events(&self, rng: &mut ChaCha8Rng, label: &str, out: &mut Vec<TraceEvent>) {
        let labelling: f64 = rng.random();
        let labels = if labelling < 0.7 {
            vec![label.to_owned()]
        } else {
            Vec::new()
        };
        out.push(self.event(
            self.opened,
            EventKind::Opened {
                labels,
                draft: false,
            },
        ));
        if (0.7..0.8).contains(&labelling) {
            let at = self.opened + Span::minutes(rng.random_range(60..6 * 60));
            let label = label.to_owned();
            out.push(self.event(at, EventKind::Labeled { label }));
        }
        let abandoned = rng.random_bool(ABANDONED);
        let life = lognormal(rng, MEDIAN_LIFE_HOURS, LIFE_SIGMA).min(MAX_LIFE_HOURS);
        let closed = into_working_hours(rng, self.opened + minutes(life * 60.0));
        // Abandoned PRs see activity in their first days only.
        let active_until = if abandoned {
            self.opened + Span::days(rng.random_range(1..5))
        } else {
            closed
        };
        self.activity(rng, active_until.min(self.end), out);
        self.commands(rng, active_until.min(self.end), out);
        if !abandoned {
            out.push(self.event(closed, EventKind::Closed { merged: true }));
        }
    }

    /// Pushes and comments on working days between opening and `until`.
    fn activity(&self, rng: &mut ChaCha8Rng, until: DateTime<Utc>, out: &mut Vec<TraceEvent>) {
        let mut date = self.opened.with_timezone(&Paris).date_naive();
        while local(date, 0).is_some_and(|midnight| midnight < until) {
            if working_day(date) && rng.random_bool(ACTIVE_PER_DAY) {
                for _ in 0..rng.random_range(1..=4) {
                    let Some(at) = work_time(rng, date) else {
                        continue;
                    };
                    if at > self.opened && at < until {
                        let kind = if rng.random_bool(0.6) {
                            EventKind::Push
                        } else {
                            EventKind::Comment
                        };
                        out.push(self.event(at, kind));
                    }
                }
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
    }

    /// The occasional `/preview keep`, `extend` or `wake`.
    fn commands(&self, rng: &mut ChaCha8Rng, until: DateTime<Utc>, out: &mut Vec<TraceEvent>) {
        let span = (until - self.opened).num_minutes().max(1);
        let roll: f64 = rng.random();
        let text = if roll < 0.03 {
            "/preview keep"
        } else if roll < 0.09 {
            "/preview extend 7d"
        } else if roll < 0.13 {
            "/preview wake"
        } else {
            return;
        };
        let mut at = self.opened + Span::minutes(rng.random_range(0..span));
        if text == "/preview wake" {
            // An evening look at the preview, after working hours.
            let date = at.with_timezone(&Paris).date_naive();
            match local(date, rng.random_range(19 * 60..22 * 60)) {
                Some(evening) if evening < until => at = evening,
                _ => return,
            }
        }
        let text = text.to_owned();
        out.push(self.event(at, EventKind::Command { text }));
    }
}

/// A log-normal draw with median `median` and log-σ `sigma` (Box–Muller).
fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median * (sigma * normal).exp()
}

fn minutes(minutes: f64) -> Span {
    // Lifetimes are capped at 45 days: far within i64 minutes.
    #[allow(clippy::cast_possible_truncation)]
    Span::minutes(minutes.round() as i64)
}
