use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::testing::policy;

const HOUR: i64 = 3600;

fn t(hours_after_noon: f64) -> DateTime<Utc> {
    let noon = Utc
        .with_ymd_and_hms(2026, 11, 25, 12, 0, 0) // a Wednesday
        .single()
        .expect("time");
    #[allow(clippy::cast_possible_truncation)]
    let seconds = (hours_after_noon * HOUR as f64) as i64;
    noon + Span::seconds(seconds)
}

fn activity(last: f64, read: f64, commands: &[(Command, f64)]) -> Activity {
    Activity {
        last: Some(t(last)),
        labelled_at: None,
        commands: commands
            .iter()
            .map(|(command, at)| TimedCommand {
                command: *command,
                at: t(*at),
            })
            .collect(),
        read_at: t(read),
    }
}

const TTL: Duration = Duration::from_secs(72 * 3600);

#[test]
fn expiry_at_its_edges() {
    let p = policy();
    // (activity, now, expires_at, expired, warning)
    let cases: [(Activity, f64, Option<f64>, bool, bool); 8] = [
        // Idle 59 h 59 m: before the 12 h warning window.
        (activity(0.0, 59.9, &[]), 59.9, Some(72.0), false, false),
        // Exactly 12 h before: warned.
        (activity(0.0, 60.0, &[]), 60.0, Some(72.0), false, true),
        // One second before expiry: warned, not expired.
        (activity(0.0, 71.999, &[]), 71.999, Some(72.0), false, true),
        // At expiry, read at expiry: not yet (the read must settle); read two minutes later:
        // expired.
        (activity(0.0, 72.0, &[]), 72.0, Some(72.0), false, true),
        (activity(0.0, 72.034, &[]), 72.034, Some(72.0), true, false),
        // Past expiry but the last read was before it (GitHub down): not expired.
        (activity(0.0, 71.0, &[]), 90.0, Some(72.0), false, true),
        // New activity moves expiry.
        (activity(50.0, 80.0, &[]), 80.0, Some(122.0), false, false),
        // An extension beyond the TTL.
        (
            activity(
                0.0,
                80.0,
                &[(Command::Extend(Duration::from_secs(96 * 3600)), 1.0)],
            ),
            80.0,
            Some(97.0),
            false,
            false,
        ),
    ];
    for (i, (activity, now, expires, expired, warning)) in cases.into_iter().enumerate() {
        let e = expiry(&p, TTL, false, Some(&activity), t(now));
        assert_eq!(e.expires_at, expires.map(t), "case {i}");
        assert_eq!((e.expired, e.warning), (expired, warning), "case {i}");
    }
}

#[test]
fn an_extension_never_shortens_and_is_capped_by_the_maximum() {
    let p = policy(); // max_ttl 14 d
    let short = activity(
        10.0,
        11.0,
        &[(Command::Extend(Duration::from_secs(3600)), 10.0)],
    );
    assert_eq!(
        expiry(&p, TTL, false, Some(&short), t(11.0)).expires_at,
        Some(t(82.0)),
        "the TTL from the last activity still holds"
    );
    let long = activity(
        0.0,
        1.0,
        &[(Command::Extend(Duration::from_secs(90 * 24 * 3600)), 0.0)],
    );
    assert_eq!(
        expiry(&p, TTL, false, Some(&long), t(1.0)).expires_at,
        Some(t(14.0 * 24.0)),
    );
}

#[test]
fn keep_turns_expiry_off_until_a_later_extension() {
    let p = policy();
    let kept = activity(0.0, 500.0, &[(Command::Keep, 1.0)]);
    let e = expiry(&p, TTL, false, Some(&kept), t(500.0));
    assert_eq!((e.expires_at, e.expired), (None, false));
    let by_label = activity(0.0, 500.0, &[]);
    assert!(!expiry(&p, TTL, true, Some(&by_label), t(500.0)).expired);
    let then_extended = activity(
        0.0,
        500.0,
        &[
            (Command::Keep, 1.0),
            (Command::Extend(Duration::from_secs(24 * 3600)), 2.0),
        ],
    );
    let e = expiry(&p, TTL, false, Some(&then_extended), t(500.0));
    assert_eq!(e.expires_at, Some(t(72.0)));
    assert!(e.expired);
}

#[test]
fn unread_activity_never_expires() {
    let p = policy();
    assert_eq!(
        expiry(&p, TTL, false, None, t(10_000.0)),
        Expiry {
            expires_at: None,
            expired: false,
            warning: false
        }
    );
}

#[test]
fn sleep_outside_working_hours_and_wake_for_a_while() {
    let p = policy(); // Mon–Fri 08:00–20:00 UTC, wake_for 4 h
    // Wednesday 12:00: awake until 20:00.
    let s = sleep(&p, false, None, t(0.0));
    assert_eq!((s.asleep, s.changes_at), (false, Some(t(8.0))));
    // 20:00: asleep until Thursday 08:00.
    let s = sleep(&p, false, None, t(8.0));
    assert_eq!((s.asleep, s.changes_at), (true, Some(t(20.0))));
    // Opted out, or sleep off: never asleep.
    assert!(!sleep(&p, true, None, t(8.0)).asleep);
    let mut off = policy();
    off.sleep.enabled = false;
    assert!(!sleep(&off, false, None, t(8.0)).asleep);
    // `/preview wake` at 22:00: awake until 02:00, then asleep until 08:00.
    let woken = activity(0.0, 10.0, &[(Command::Wake, 10.0)]);
    let s = sleep(&p, false, Some(&woken), t(11.0));
    assert_eq!((s.asleep, s.changes_at), (false, Some(t(14.0))));
    let s = sleep(&p, false, Some(&woken), t(14.0));
    assert_eq!((s.asleep, s.changes_at), (true, Some(t(20.0))));
    // Woken at 18:00: the working day ends at 20:00 but the wake lasts until 22:00.
    let late = activity(0.0, 6.0, &[(Command::Wake, 6.0)]);
    let s = sleep(&p, false, Some(&late), t(7.0));
    assert_eq!((s.asleep, s.changes_at), (false, Some(t(10.0))));
}
