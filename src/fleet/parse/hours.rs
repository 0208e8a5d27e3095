//! Working hours: days of the week (a list or a range like `mon-fri`) and times of day.

use chrono::{NaiveTime, Weekday};

use super::cx::{Cx, index, quote};
use crate::yaml::{Located, Node};

/// Monday to Friday: the default working days.
pub(super) const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

const HINT: &str = "write a list like `[mon, tue, wed]` or a range like `mon-fri`";

/// The days at `path`: a list of day names or a range (`mon-fri`, wrapping allowed: `fri-mon`),
/// in week order from Monday. Full names (`monday`) and any letter case are accepted.
pub(super) fn days(cx: &mut Cx, path: &str, node: &Located) -> Option<Vec<Weekday>> {
    let days = match &node.value {
        Node::Str(text) => range(cx, path, node, text)?,
        Node::Seq(items) => list(cx, path, items)?,
        other => {
            let message = format!("must be days of the week, found {}: {HINT}", other.kind());
            cx.error(path, Some(node), message);
            return None;
        }
    };
    if days.is_empty() {
        let message =
            format!("must name at least one day: {HINT}, or set `enabled: false` to never sleep");
        cx.error(path, Some(node), message);
        return None;
    }
    let mut sorted = days;
    sorted.sort_by_key(|day| day.num_days_from_monday());
    Some(sorted)
}

fn range(cx: &mut Cx, path: &str, node: &Located, text: &str) -> Option<Vec<Weekday>> {
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (first.trim(), last.trim()),
        None => (text.trim(), text.trim()),
    };
    let (Some(first), Some(last)) = (day(first), day(last)) else {
        cx.error(
            path,
            Some(node),
            format!("{} is not a day or a range of days: {HINT}", quote(text)),
        );
        return None;
    };
    let mut days = vec![first];
    let mut day = first;
    while day != last {
        day = day.succ();
        days.push(day);
    }
    Some(days)
}

fn list(cx: &mut Cx, path: &str, items: &[Located]) -> Option<Vec<Weekday>> {
    let mut days = Vec::with_capacity(items.len());
    let mut valid = true;
    for (i, item) in items.iter().enumerate() {
        let parsed = match &item.value {
            Node::Str(text) => day(text.trim()),
            _ => None,
        };
        let shown = item
            .value
            .scalar_text()
            .unwrap_or_else(|| item.value.kind().to_owned());
        match parsed {
            Some(day) if days.contains(&day) => {
                cx.error(
                    &index(path, i),
                    Some(item),
                    format!("{} is listed twice: remove one", quote(&shown)),
                );
                valid = false;
            }
            Some(day) => days.push(day),
            None => {
                let message = format!(
                    "{} is not a day: use `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`",
                    quote(&shown)
                );
                cx.error(&index(path, i), Some(item), message);
                valid = false;
            }
        }
    }
    valid.then_some(days)
}

/// A day from its short (`mon`) or full (`monday`) English name, in any case.
fn day(name: &str) -> Option<Weekday> {
    const NAMES: [(&str, Weekday); 7] = [
        ("mon", Weekday::Mon),
        ("tue", Weekday::Tue),
        ("wed", Weekday::Wed),
        ("thu", Weekday::Thu),
        ("fri", Weekday::Fri),
        ("sat", Weekday::Sat),
        ("sun", Weekday::Sun),
    ];
    let lower = name.to_ascii_lowercase();
    NAMES.iter().find_map(|(short, day)| {
        let full = day_name(*day);
        (lower == *short || lower == full).then_some(*day)
    })
}

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

/// A local time of day written `HH:MM` (24-hour clock).
pub(super) fn time(cx: &mut Cx, path: &str, node: &Located) -> Option<NaiveTime> {
    let text = cx.text(path, node)?;
    let valid = text.len() == 5 && text.as_bytes()[2] == b':';
    match NaiveTime::parse_from_str(text, "%H:%M") {
        Ok(time) if valid => Some(time),
        _ => {
            let message = format!(
                "{} is not a time of day: write `HH:MM` on a 24-hour clock, e.g. \"08:00\"",
                quote(text)
            );
            cx.error(path, Some(node), message);
            None
        }
    }
}
