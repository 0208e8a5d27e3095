//! Working hours: whether a moment falls inside them, and when that next changes. Pure: the
//! time zone's rules (daylight saving time included) come from `chrono-tz`, `now` is an input.

use chrono::{DateTime, Datelike, Duration as Span, LocalResult, NaiveDateTime, TimeZone, Utc};

use crate::fleet::WorkingHours;

/// Whether `at` falls within `hours`: on one of its days (local), from `start` (included) to
/// `end` (excluded), local time.
pub fn is_working_time(hours: &WorkingHours, at: DateTime<Utc>) -> bool {
    let local = at.with_timezone(&hours.time_zone);
    let time = local.time();
    hours.days.contains(&local.weekday()) && hours.start <= time && time < hours.end
}

/// The first moment after `at` when [`is_working_time`] changes, within the next eight days;
/// `None` when it never does (no working days).
pub fn next_change(hours: &WorkingHours, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = at.with_timezone(&hours.time_zone).date_naive();
    let now = is_working_time(hours, at);
    (0..=8)
        .filter_map(|days| today.checked_add_signed(Span::days(days)))
        .flat_map(|day| [day.and_time(hours.start), day.and_time(hours.end)])
        .filter_map(|local| to_utc(hours, local))
        .filter(|candidate| *candidate > at)
        .find(|candidate| is_working_time(hours, *candidate) != now)
}

/// The instant of local time `local`: the earlier one when clocks go back and it happens twice;
/// when clocks go forward over it, the first instant after the gap.
fn to_utc(hours: &WorkingHours, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let tz = hours.time_zone;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        // In a gap (spring forward): the first local minute that exists after it.
        LocalResult::None => (1..=180).find_map(|minutes| {
            tz.from_local_datetime(&(local + Span::minutes(minutes)))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, Weekday};

    use super::*;

    fn hours(tz: chrono_tz::Tz, start: (u32, u32), end: (u32, u32)) -> WorkingHours {
        WorkingHours {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            start: NaiveTime::from_hms_opt(start.0, start.1, 0).expect("time"),
            end: NaiveTime::from_hms_opt(end.0, end.1, 0).expect("time"),
            time_zone: tz,
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn the_edges_of_the_working_day_in_its_time_zone() {
        // Paris in winter is UTC+1: 08:00–20:00 local is 07:00–19:00 UTC.
        let paris = hours(chrono_tz::Europe::Paris, (8, 0), (20, 0));
        let cases = [
            ("2026-11-27T06:59:59Z", false), // Friday, 07:59:59 local
            ("2026-11-27T07:00:00Z", true),  // 08:00 local: start is inside
            ("2026-11-27T18:59:59Z", true),
            ("2026-11-27T19:00:00Z", false), // 20:00 local: end is outside
            ("2026-11-28T12:00:00Z", false), // Saturday
            ("2026-11-30T07:00:00Z", true),  // Monday
        ];
        for (at, working) in cases {
            assert_eq!(is_working_time(&paris, utc(at)), working, "{at}");
        }
        assert_eq!(
            next_change(&paris, utc("2026-11-27T12:00:00Z")),
            Some(utc("2026-11-27T19:00:00Z"))
        );
        // Friday evening: the next change is Monday morning.
        assert_eq!(
            next_change(&paris, utc("2026-11-27T19:00:00Z")),
            Some(utc("2026-11-30T07:00:00Z"))
        );
        assert_eq!(
            next_change(&paris, utc("2026-11-27T06:59:59Z")),
            Some(utc("2026-11-27T07:00:00Z"))
        );
    }

    #[test]
    fn daylight_saving_time_moves_the_utc_hours() {
        let paris = hours(chrono_tz::Europe::Paris, (8, 0), (20, 0));
        // Summer (UTC+2): 08:00 local is 06:00 UTC.
        assert!(is_working_time(&paris, utc("2026-06-01T06:00:00Z")));
        assert!(!is_working_time(&paris, utc("2026-06-01T05:59:59Z")));
        // Clocks go back on Sunday 2026-10-25: Friday ends at 18:00 UTC, Monday starts 07:00.
        assert_eq!(
            next_change(&paris, utc("2026-10-23T12:00:00Z")),
            Some(utc("2026-10-23T18:00:00Z"))
        );
        assert_eq!(
            next_change(&paris, utc("2026-10-23T18:00:00Z")),
            Some(utc("2026-10-26T07:00:00Z"))
        );
    }

    #[test]
    fn a_start_inside_the_spring_forward_gap_starts_right_after_it() {
        // New York skips 02:00–03:00 on Sunday 2026-03-08; a working day starting 02:30 on a
        // Sunday starts at 03:00 EDT (07:00 UTC) that day.
        let mut night = hours(chrono_tz::America::New_York, (2, 30), (4, 0));
        night.days = vec![Weekday::Sun];
        assert_eq!(
            next_change(&night, utc("2026-03-08T05:00:00Z")),
            Some(utc("2026-03-08T07:00:00Z"))
        );
        assert!(is_working_time(&night, utc("2026-03-08T07:00:00Z")));
    }

    #[test]
    fn no_working_days_never_change() {
        let mut never = hours(chrono_tz::UTC, (8, 0), (20, 0));
        never.days.clear();
        assert!(!is_working_time(&never, utc("2026-11-27T12:00:00Z")));
        assert_eq!(next_change(&never, utc("2026-11-27T12:00:00Z")), None);
    }
}
