//! The board as HTML: a plain server-rendered page (it works without JavaScript), with a
//! stylesheet and a small script served beside it (`/assets/…`, so that the page's Content
//! Security Policy allows no inline code). maud escapes every value by construction: a PR
//! title is text on the page, never markup. The chart is SVG drawn here.

use maud::{DOCTYPE, Markup, html};

use super::filter::{Filter, SortKey};
use super::{Board, Day, Row, RowState};
use crate::lifecycle::money;

/// The stylesheet, served at `/assets/board.css`.
pub const STYLESHEET: &str = include_str!("board.css");

/// The script, served at `/assets/board.js`: refreshes the live part of the page every
/// 15 seconds from `/fragment` with the same query, without reloading the page.
pub const SCRIPT: &str = include_str!("board.js");

/// What the page offers in its filter's lists.
#[derive(Clone, Debug, Default)]
pub struct Choices {
    /// Every service of the fleet.
    pub services: Vec<String>,
    /// Every author with a row.
    pub authors: Vec<String>,
}

/// The whole page: `board` already filtered by `filter`.
pub fn page(board: &Board, filter: &Filter, choices: &Choices) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Previews" }
                link rel="stylesheet" href="assets/board.css";
                script src="assets/board.js" defer {}
            }
            body {
                header.top {
                    h1 { "Preview environments" }
                    p.sub {
                        "One per pull request and service."
                        span.js-only { " The page refreshes by itself." }
                    }
                    p #stale .notice hidden { "This page could not be refreshed (signed out, or preview-tower unreachable): reload it." }
                }
                (filter_form(filter, choices))
                main #live data-query=(filter.query()) {
                    (live(board, filter))
                }
                footer {
                    p {
                        "Times are UTC. Costs are at the fleet's prices, from preview-tower's cost meter. "
                        a href=(format!("api/v1/previews{}", filter.query())) { "This board as JSON" }
                        "."
                    }
                }
            }
        }
    }
}

/// The part of the page that refreshes: the totals, the chart and the tables.
pub fn live(board: &Board, filter: &Filter) -> Markup {
    html! {
        p.updated {
            "Updated "
            time datetime=(board.generated_at.to_rfc3339()) {
                (board.generated_at.format("%Y-%m-%d %H:%M:%S UTC"))
            }
        }
        (totals(board, filter))
        @if !board.applications_known {
            p.notice { "Argo CD's Applications are not read here, so whether each preview is up is not known." }
        }
        section {
            h2 {
                "Previews "
                span.count { "(" (board.previews.len()) (if board.previews.len() == 1 { " row" } else { " rows" }) ")" }
                @if filter.narrows() { span.filtered { " filtered" } }
            }
            @if board.previews.is_empty() {
                p.empty { "No preview matches." }
            } @else {
                div.scroll { (table(board, filter)) }
            }
        }
        @if !board.without_preview.is_empty() {
            section {
                h2 { "Asked for a preview, have none" }
                table.without {
                    thead { tr { th { "Pull request" } th { "Author" } th { "Why" } } }
                    tbody {
                        @for left in &board.without_preview {
                            tr {
                                td {
                                    span.service { (left.service) }
                                    " "
                                    a href=(left.pr_url) { "#" (left.number) }
                                    " "
                                    span.title { (left.title) }
                                }
                                td { (left.author) }
                                td { (left.reason) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn amount(value: Option<f64>, currency: &str) -> String {
    value.map_or_else(|| "–".to_owned(), |v| shown(v, currency))
}

/// An amount as the page shows it: to the cent, and "< $0.01" for less than a cent but more
/// than nothing (which "$0.00" would hide).
fn shown(value: f64, currency: &str) -> String {
    if value > 0.0 && value < 0.005 {
        format!("< {}", money(0.01, currency))
    } else {
        money(value, currency)
    }
}

fn totals(board: &Board, filter: &Filter) -> Markup {
    let t = &board.totals;
    let c = &board.currency;
    html! {
        section.totals aria-label="Totals for every service" {
            div.card { span.big { (t.up) } span.label { "previews (" (t.up - t.asleep) " awake)" } }
            div.card { span.big { (t.asleep) } span.label { "asleep" } }
            div.card { span.big { (t.queued) } span.label { "queued for a slot" } }
            div.card {
                span.big { (amount(t.cost_today, c)) }
                span.label { "today · " (format!("{:.1}", t.hours_today)) " preview-hours" }
            }
            div.card {
                span.big { (amount(t.cost_month, c)) }
                span.label { "this month · " (format!("{:.1}", t.hours_month)) " preview-hours" }
            }
            div.card.chart { (chart(&board.days, c)) }
        }
        @if filter.narrows() { p.scope { "The totals are for every service; the tables below are filtered." } }
    }
}

/// Bars of the last 30 days' cost (hours when there are no prices).
fn chart(days: &[Day], currency: &str) -> Markup {
    const WIDTH: f64 = 300.0;
    const HEIGHT: f64 = 60.0;
    let priced = days.iter().all(|d| d.cost.is_some());
    let value = |d: &Day| {
        if priced {
            d.cost.unwrap_or(0.0)
        } else {
            d.hours
        }
    };
    let max = days.iter().map(value).fold(0.0_f64, f64::max);
    #[allow(clippy::cast_precision_loss)]
    let slot = WIDTH / days.len().max(1) as f64;
    let label = if priced {
        format!(
            "Cost per day, last 30 days (highest {})",
            money(max, currency)
        )
    } else {
        format!("Preview-hours per day, last 30 days (highest {max:.1})")
    };
    let bars: Vec<(String, String, String, String, String)> = days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let v = value(day);
            let height = if max > 0.0 {
                (v / max * HEIGHT).max(if v > 0.0 { 1.0 } else { 0.0 })
            } else {
                0.0
            };
            #[allow(clippy::cast_precision_loss)]
            let x = i as f64 * slot + 1.0;
            let tip = if priced {
                amount(day.cost, currency)
            } else {
                format!("{:.1} h", day.hours)
            };
            (
                format!("{x:.1}"),
                format!("{:.1}", HEIGHT - height),
                format!("{:.1}", (slot - 2.0).max(1.0)),
                format!("{height:.1}"),
                format!("{}: {tip}", day.date.format("%a %d %b")),
            )
        })
        .collect();
    html! {
        svg.bars viewBox=(format!("0 0 {WIDTH} {}", HEIGHT + 2.0)) role="img" aria-label=(label) {
            title { (label) }
            @for (x, y, width, height, tip) in &bars {
                rect x=(x) y=(y) width=(width) height=(height) { title { (tip) } }
            }
            line x1="0" x2=(WIDTH) y1=(HEIGHT + 1.0) y2=(HEIGHT + 1.0) {}
        }
        @if let (Some(first), Some(last)) = (days.first(), days.last()) {
            div.axis { span { (first.date.format("%d %b")) } span { "today, " (last.date.format("%d %b")) } }
        }
        span.label { (label) }
    }
}

/// A labelled list of `(value, label)` options after "all", with `chosen` selected.
fn choice<'a>(
    text: &str,
    name: &str,
    chosen: Option<&str>,
    options: impl Iterator<Item = (&'a str, &'a str)>,
) -> Markup {
    html! {
        label {
            (text)
            select name=(name) {
                option value="" { "all" }
                @for (value, label) in options {
                    option value=(value) selected[chosen == Some(value)] { (label) }
                }
            }
        }
    }
}

fn filter_form(filter: &Filter, choices: &Choices) -> Markup {
    html! {
        form.filter method="get" action="" role="search" {
            (choice("Service ", "service", filter.service.as_deref(), choices.services.iter().map(|s| (s.as_str(), s.as_str()))))
            (choice("Author ", "author", filter.author.as_deref(), choices.authors.iter().map(|a| (a.as_str(), a.as_str()))))
            (choice("State ", "state", filter.state.as_deref(), RowState::ALL.into_iter()))
            label {
                "Search "
                input type="search" name="q" value=[filter.q.as_deref()] placeholder="title, branch, PR, Jira key";
            }
            @if let Some(sort) = filter.sort {
                input type="hidden" name="sort" value=(sort.as_str());
            }
            @if filter.order == Some(super::filter::Order::Desc) {
                input type="hidden" name="order" value="desc";
            }
            button type="submit" { "Filter" }
            @if filter.narrows() { a.clear href="?" { "Clear" } }
        }
    }
}

fn header(filter: &Filter, key: SortKey, text: &str) -> Markup {
    let marker = match (filter.sort == Some(key), filter.order) {
        (true, Some(super::filter::Order::Desc)) => " ↓",
        (true, _) => " ↑",
        _ => " ↕",
    };
    html! { th { a href=(filter.sorted_by(key)) title="Sort by this column" { (text) span.sort { (marker) } } } }
}

fn table(board: &Board, filter: &Filter) -> Markup {
    html! {
        table.previews {
            thead {
                tr {
                    (header(filter, SortKey::Service, "Preview"))
                    (header(filter, SortKey::Author, "Author"))
                    (header(filter, SortKey::State, "State"))
                    th { "Open" }
                    th.hide-narrow { "Commit" }
                    th { "Talks to" }
                    th.hide-narrow { "Seed data" }
                    th.hide-narrow { "Capacity" }
                    (header(filter, SortKey::Expires, "Expires"))
                    (header(filter, SortKey::Cost, "Cost"))
                }
            }
            tbody {
                @for row in &board.previews { (row_markup(row, &board.currency)) }
            }
        }
    }
}

fn capacity_hint(capacity: Option<&str>) -> &'static str {
    match capacity {
        Some("spot") => {
            "Spot: spare cloud capacity, cheaper; a node may be taken back and the pods move"
        }
        Some(_) => "On-demand: regular cloud capacity, never taken back",
        None => "",
    }
}

fn row_markup(row: &Row, currency: &str) -> Markup {
    let state = row.state.name();
    html! {
        tr data-service=(row.service) data-pr=(row.number) data-state=(state) {
            td.preview {
                span.service { (row.service) }
                " "
                a.pr href=(row.pr_url) title=(row.repo) { "#" (row.number) }
                @if !row.title.is_empty() { div.title { (row.title) } }
                @if !row.jira.is_empty() {
                    div.jira {
                        @for issue in &row.jira {
                            @if let Some(url) = &issue.url {
                                a href=(url) { (issue.key) }
                            } @else {
                                span { (issue.key) }
                            }
                            " "
                        }
                    }
                }
            }
            td.author { (row.author) }
            td.state {
                span class=(format!("badge {state}")) { (RowState::label_of(state)) }
                @if !row.state_text.eq_ignore_ascii_case(state) { div.detail { (row.state_text) } }
            }
            td.links {
                @if let Some(url) = &row.url { a.open href=(url) { "Open" } br; }
                @if let Some(url) = &row.application_url { a href=(url) { "Argo CD" } br; }
                @if let Some(url) = &row.logs_url { a href=(url) { "Logs" } }
            }
            td.commit { @if let Some(sha) = &row.commit { code title=(sha) { (crate::naming::short_sha(sha, 8)) } } @else { "–" } }
            td.deps {
                @for dep in &row.dependencies {
                    div.dep title=(dep.url) { span.service { (dep.service) } " → " (dep.target) }
                }
                @if row.dependencies.is_empty() { "–" }
            }
            td.seed { @if let Some(seed) = &row.seed { code title="The version of the seed data (the seed folder's tree SHA)" { (seed) } } @else { "–" } }
            td.capacity title=(capacity_hint(row.capacity)) { (row.capacity.unwrap_or("–")) }
            td.expires {
                @if let Some(at) = row.expires_at {
                    time datetime=(at.to_rfc3339()) { (at.format("%a %d %b %H:%M")) }
                    @if let Some(left) = &row.time_left { div.time-left { "in " (left) } }
                } @else if row.url.is_some() { "kept" } @else { "–" }
            }
            td.cost {
                @if let Some(cost) = row.cost {
                    span.so-far title="So far" { (shown(cost.so_far, currency)) }
                    div.per-day { (money(cost.per_day_awake, currency)) " a day awake" }
                } @else { "–" }
            }
        }
    }
}
