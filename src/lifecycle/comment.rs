//! The sticky PR comment: one per pull request, found again by its hidden marker and rewritten
//! in place. Pure: Markdown out of previews and their states.
//!
//! Everything a PR author wrote (branch, title, the config file's text quoted in errors) is
//! escaped so that it cannot break out of its table cell or code span, or fake the marker.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::State;
use super::money::{PreviewCost, money};
use crate::naming::{PreviewKey, ServiceName, short_sha};
use crate::plan::{DependencyRoute, Diagnostic, Exclusion, Held, Preview};

/// The hidden marker that identifies preview-tower's comment on a PR.
pub const MARKER: &str = "<!-- preview-tower:sticky-comment -->";

/// Text safe inside a Markdown table cell and a code span: no backticks, pipes, angle brackets
/// (no HTML comment, so no fake marker), no line breaks; at most `max` characters.
pub fn escape(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| match c {
            '`' => '\'',
            '|' => '¦',
            '<' => '‹',
            '>' => '›',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

fn state_text(state: Option<State>) -> &'static str {
    match state {
        Some(State::Success) => "✅ ready",
        Some(State::Failure | State::Error) => "❌ failing",
        Some(State::InProgress | State::Pending) => "⏳ deploying",
        Some(State::Queued) | None => "🕓 queued",
        Some(State::Inactive) => "🗑️ removed",
    }
}

fn dependency_line(preview: &Preview, out: &mut String) {
    for dep in &preview.dependencies {
        let route = match dep.route {
            DependencyRoute::Staging => "staging".to_owned(),
            DependencyRoute::Preview { number } => format!("preview of PR #{number}"),
        };
        let _ = write!(out, "`{}` → {route} ({}); ", dep.service, dep.url);
    }
}

fn diagnostics(preview: &Preview, out: &mut String) {
    for diagnostic in &preview.diagnostics {
        let _ = writeln!(
            out,
            "- **{}**: {}",
            preview.service,
            escape(&diagnostic.message(), 300)
        );
        if let Diagnostic::ConfigInvalid { errors, .. } = diagnostic {
            for error in errors.iter().take(20) {
                let line = error
                    .line
                    .map(|l| format!("line {l}: "))
                    .unwrap_or_default();
                let hint = error
                    .hint
                    .as_deref()
                    .map(|h| format!(" ({})", escape(h, 200)))
                    .unwrap_or_default();
                let _ = writeln!(out, "  - {line}{}{hint}", escape(&error.message, 200));
            }
        }
    }
}

/// What the comment says about money: the fleet's currency and what each preview (planned,
/// held, or deleted while idle) has cost so far (from the cost meter); a preview without an
/// entry (its service has no price) gets no cost line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Costs {
    /// The fleet's currency (`USD`, `EUR`, …).
    pub currency: String,
    /// Per preview.
    pub previews: BTreeMap<PreviewKey, PreviewCost>,
    /// The figures the comment showed last (its [`COST_RECORD`]): a figure is never shown
    /// lower (its step may have grown: a move to on-demand, a price change).
    pub shown: BTreeMap<PreviewKey, f64>,
}

impl Costs {
    /// The figure shown for `key`: its cost so far at its step, and never less than shown.
    pub fn shown(&self, key: &PreviewKey) -> Option<f64> {
        let cost = self.previews.get(key)?;
        let before = self.shown.get(key).copied().unwrap_or_default();
        Some(cost.shown_so_far().max(before))
    }
}

/// The hidden record of the figures a comment shows, per service, read back after a restart
/// of preview-tower so that a figure resumes where it was (the meter lives in memory):
/// `<!-- preview-tower:cost web=1.50 api=0.20 -->`.
pub const COST_RECORD: &str = "<!-- preview-tower:cost";

/// Most services read from one record: more than any repository has.
const MAX_RECORDED: usize = 64;

/// The figures a comment's [`COST_RECORD`] holds, per service; nothing when it has none or
/// it is not ours. Untrusted as any text: only service names and finite, non-negative amounts
/// below a billion are read, at most [`MAX_RECORDED`] of them.
pub fn recorded_costs(body: &str) -> Vec<(ServiceName, f64)> {
    let Some(start) = body.find(COST_RECORD) else {
        return Vec::new();
    };
    let rest = &body[start + COST_RECORD.len()..];
    let Some(end) = rest.find("-->") else {
        return Vec::new();
    };
    rest[..end]
        .split_whitespace()
        .filter_map(|pair| {
            let (service, amount) = pair.split_once('=')?;
            let service = ServiceName::new(service)?;
            let amount: f64 = amount.parse().ok()?;
            (amount.is_finite() && (0.0..1e9).contains(&amount)).then_some((service, amount))
        })
        .take(MAX_RECORDED)
        .collect()
}

/// One line per priced preview: the figure so far, moving by visible steps
/// ([`PreviewCost::shown_so_far`]), and the cost of a day awake; then the hidden record of
/// those figures ([`COST_RECORD`]).
fn cost_lines(
    previews: &[(&Preview, Option<State>)],
    waiting: &[&Exclusion],
    held: &[&Held],
    costs: &Costs,
    out: &mut String,
) {
    let mut lines = String::new();
    let mut record = String::new();
    let held = held.iter().map(|h| {
        let tail = " (not counted while GitHub cannot be read)".to_owned();
        (h.key(), tail)
    });
    let deleted = waiting
        .iter()
        .filter(|w| w.reason == crate::plan::ExclusionReason::Expired)
        .map(|w| (w.key(), " (deleted while idle)".to_owned()));
    let planned = previews.iter().map(|(preview, _)| {
        let tail = costs.previews.get(&preview.key()).map(|cost| {
            format!(
                " · {} per day awake ({})",
                money(cost.per_day_awake, &costs.currency),
                preview.capacity.as_str()
            )
        });
        (preview.key(), tail.unwrap_or_default())
    });
    for (key, tail) in held.chain(deleted).chain(planned) {
        if let Some(shown) = costs.shown(&key) {
            let _ = write!(record, " {}={shown:.2}", key.service);
            let money = money(shown, &costs.currency);
            let _ = writeln!(lines, "- `{}`: {money} so far{tail}", key.service);
        }
    }
    if !lines.is_empty() {
        let _ = write!(
            out,
            "\n**Cost** (at the fleet's prices; asleep hours cost little)\n\n{lines}\n{COST_RECORD}{record} -->\n"
        );
    }
}

/// The comment for one PR's previews (one per service of the PR's repo), each with the state
/// GitHub shows for it, the services still waiting for one, and those `held` (kept as they are
/// while GitHub cannot be read). None of them means the PR has no preview any more: the last
/// edit.
pub fn render(
    previews: &[(&Preview, Option<State>)],
    waiting: &[&Exclusion],
    held: &[&Held],
    costs: &Costs,
    config_path: &str,
) -> String {
    let mut out = format!("{MARKER}\n### 🔭 Preview environments\n\n");
    if previews.is_empty() && waiting.is_empty() && held.is_empty() {
        out.push_str(
            "The previews of this pull request are gone: it was merged or closed, lost its label, \
             or sat idle past its time to live. An open pull request with the label gets them \
             back.\n",
        );
        return out;
    }
    out.push_str("| service | state | URL | commit | seed data | dependencies |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for (preview, state) in previews {
        let seed = preview
            .seed_tag()
            .map_or("–".to_owned(), |tag| format!("`{}`", short_sha(tag, 8)));
        let mut deps = String::new();
        dependency_line(preview, &mut deps);
        let deps = if deps.is_empty() {
            "–".to_owned()
        } else {
            deps.trim_end_matches("; ").to_owned()
        };
        let state = if preview.asleep {
            match preview.sleep_changes_at {
                Some(at) => format!("💤 asleep until {} UTC", at.format("%a %H:%M")),
                None => "💤 asleep".to_owned(),
            }
        } else {
            state_text(*state).to_owned()
        };
        let _ = writeln!(
            out,
            "| `{}` | {state} | {} | `{}` | {seed} | {deps} |",
            preview.service,
            preview.url,
            short_sha(&preview.revision, 8),
        );
    }
    for exclusion in waiting {
        let _ = writeln!(
            out,
            "| `{}` | ⏸️ {} | – | – | – | – |",
            exclusion.service,
            exclusion.reason.describe(),
        );
    }
    for h in held {
        let _ = writeln!(
            out,
            "| `{}` | ⏸️ kept on its last known state while GitHub cannot be read ({}) | – | – | – | – |",
            h.service,
            h.reason.describe(),
        );
    }
    cost_lines(previews, waiting, held, costs, &mut out);
    let mut notes = String::new();
    for (preview, _) in previews {
        diagnostics(preview, &mut notes);
    }
    if !notes.is_empty() {
        let _ = write!(out, "\n**Things to know**\n\n{notes}");
    }
    if let Some(expiry) = previews.iter().filter_map(|(p, _)| p.expires_at).min() {
        if previews.iter().any(|(p, _)| p.expiry_warning) {
            let _ = writeln!(
                out,
                "\n⚠️ **Idle: deleted after {} UTC** unless something happens on this pull \
                 request (a push, a comment, a review). `/preview extend 3d` or `/preview keep` \
                 keeps it longer.",
                expiry.format("%Y-%m-%d %H:%M")
            );
        } else {
            let _ = writeln!(
                out,
                "\nDeleted when idle after {} UTC.",
                expiry.format("%Y-%m-%d %H:%M")
            );
        }
    }
    if previews.iter().any(|(p, _)| p.asleep) {
        out.push_str(
            "\n💤 Asleep outside working hours (scaled to zero; the data of its PostgreSQL and \
             MongoDB is kept): `/preview wake` wakes it for a few hours.\n",
        );
    }
    let _ = write!(
        out,
        "\nChange a preview from the PR with `{config_path}` (see docs/repo-config.md): point a \
         dependency at another PR's preview (`api: pr-42`), set `ttl`, opt out of `spot` or `sleep`.\n"
    );
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::testing::{facts, plan_of, pr};

    #[test]
    fn the_comment_shows_urls_states_dependencies_and_config_errors() {
        let plan = plan_of(&[
            (
                "web",
                vec![facts(
                    pr(101),
                    Some("dependencies:\n  api: pr-42\n  billing: pr-9\n"),
                )],
            ),
            (
                "api",
                vec![facts(pr(42), Some("dependancies: {}\nspot: maybe\n"))],
            ),
        ]);
        let web = &plan.previews[0];
        let text = render(
            &[(web, Some(State::Success))],
            &[],
            &[],
            &Costs::default(),
            ".preview.yaml",
        );
        insta::assert_snapshot!("web_ready", text);
        let api = &plan.previews[1];
        let text = render(
            &[(api, Some(State::InProgress))],
            &[],
            &[],
            &Costs::default(),
            ".preview.yaml",
        );
        insta::assert_snapshot!("api_config_errors", text);
    }

    #[test]
    fn the_last_edit_says_the_previews_are_gone() {
        let text = render(&[], &[], &[], &Costs::default(), ".preview.yaml");
        assert!(text.starts_with(MARKER) && text.contains("gone"));
    }

    #[test]
    fn a_service_waiting_for_its_build_gets_a_row_beside_the_ready_ones() {
        let plan = plan_of(&[("web", vec![facts(pr(101), None)])]);
        let web = &plan.previews[0];
        let api = Exclusion {
            service: crate::testing::name("api"),
            number: 101,
            reason: crate::plan::ExclusionReason::WaitingForBuild,
            pr: None,
        };
        let text = render(
            &[(web, Some(State::Success))],
            &[&api],
            &[],
            &Costs::default(),
            ".preview.yaml",
        );
        insta::assert_snapshot!("web_ready_api_waiting_for_build", text);
    }

    #[test]
    fn a_held_preview_is_said_to_be_kept_as_it_is() {
        let plan = plan_of(&[("web", vec![facts(pr(101), None)])]);
        let web = &plan.previews[0];
        let api = Held {
            service: crate::testing::name("api"),
            number: 101,
            reason: crate::plan::HoldReason::Files,
        };
        let text = render(
            &[(web, Some(State::Success))],
            &[],
            &[&api],
            &Costs::default(),
            ".preview.yaml",
        );
        insta::assert_snapshot!("web_ready_api_held", text);
        assert!(!text.contains("gone"));
        let alone = render(&[], &[], &[&api], &Costs::default(), ".preview.yaml");
        assert!(
            alone.contains("kept on its last known state") && !alone.contains("gone"),
            "{alone}"
        );
    }

    #[test]
    fn a_preview_about_to_expire_and_asleep_says_so_and_how_to_keep_it() {
        let plan = plan_of(&[("web", vec![facts(pr(101), None)])]);
        let mut web = plan.previews[0].clone();
        web.expires_at = Some(crate::testing::now() + chrono::Duration::hours(3));
        web.expiry_warning = true;
        web.asleep = true;
        web.sleep_changes_at = Some(crate::testing::now() + chrono::Duration::hours(20));
        let text = render(
            &[(&web, Some(State::Success))],
            &[],
            &[],
            &Costs::default(),
            ".preview.yaml",
        );
        insta::assert_snapshot!("web_warned_asleep", text);
    }

    #[test]
    fn a_priced_preview_gets_a_cost_line_and_a_record_read_back() {
        let plan = plan_of(&[("web", vec![facts(pr(101), None)])]);
        let web = &plan.previews[0];
        let costs = Costs {
            currency: "EUR".into(),
            previews: [(
                web.key(),
                PreviewCost {
                    so_far: 1.37,
                    per_day_awake: 2.4,
                },
            )]
            .into(),
            shown: BTreeMap::new(),
        };
        let text = render(
            &[(web, Some(State::Success))],
            &[],
            &[],
            &costs,
            ".preview.yaml",
        );
        assert!(
            text.contains("- `web`: €1.00 so far · €2.40 per day awake"),
            "{text}"
        );
        assert_eq!(
            recorded_costs(&text),
            [(crate::testing::name("web"), 1.0)],
            "{text}"
        );
    }

    #[test]
    fn a_figure_is_never_shown_lower_nor_dropped_while_deleted_for_idleness() {
        let plan = plan_of(&[("web", vec![facts(pr(101), None)])]);
        let web = &plan.previews[0];
        // Moved to on-demand: a day awake costs 6.00, the step is 2; 1.70 would show 0.00.
        let mut costs = Costs {
            currency: "USD".into(),
            previews: [(
                web.key(),
                PreviewCost {
                    so_far: 1.7,
                    per_day_awake: 6.0,
                },
            )]
            .into(),
            shown: [(web.key(), 1.5)].into(),
        };
        let text = render(
            &[(web, Some(State::Success))],
            &[],
            &[],
            &costs,
            ".preview.yaml",
        );
        assert!(text.contains("- `web`: $1.50 so far"), "{text}");
        // Deleted while idle: its line and its record stay, for when it comes back.
        let expired = Exclusion {
            service: web.service.clone(),
            number: 101,
            reason: crate::plan::ExclusionReason::Expired,
            pr: None,
        };
        costs.shown.clear();
        costs.previews.insert(
            web.key(),
            PreviewCost {
                so_far: 1.7,
                per_day_awake: 0.4,
            },
        );
        let text = render(&[], &[&expired], &[], &costs, ".preview.yaml");
        assert!(
            text.contains("- `web`: $1.70 so far (deleted while idle)"),
            "{text}"
        );
        assert_eq!(recorded_costs(&text), [(crate::testing::name("web"), 1.7)]);
    }

    #[test]
    fn a_record_reads_only_names_and_sane_amounts() {
        let body = "<!-- preview-tower:cost web=1.50 API=2 api=-1 billing=NaN x=1e99 \
                    ok=3.25 -->";
        let read = recorded_costs(body);
        assert_eq!(
            read,
            [
                (crate::testing::name("web"), 1.5),
                (crate::testing::name("ok"), 3.25)
            ]
        );
        assert!(recorded_costs("<!-- preview-tower:cost web=1.50").is_empty());
    }

    proptest! {
        #[test]
        fn any_text_reads_as_a_bounded_record(text in any::<String>()) {
            let body = format!("{COST_RECORD} {text} -->");
            let read = recorded_costs(&body);
            prop_assert!(read.len() <= MAX_RECORDED);
            prop_assert!(read.iter().all(|(_, a)| a.is_finite() && *a >= 0.0 && *a < 1e9));
        }

        #[test]
        fn escaped_text_stays_in_its_cell(text in any::<String>()) {
            let escaped = escape(&text, 300);
            prop_assert!(!escaped.contains(['`', '|', '<', '>', '\n', '\r']));
            prop_assert!(escaped.chars().count() <= 300);
        }
    }
}
