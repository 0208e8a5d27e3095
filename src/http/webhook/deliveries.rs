//! [`DeliveryLog`]: the verified deliveries of the last [`DeliveryLog::WINDOW`], by
//! `X-GitHub-Delivery` id and by the SHA-256 of the body, so that a delivery seen again (a
//! redelivery, a replay under the same id, or a captured body sent again under a fresh id) is
//! answered without being acted on twice.
//!
//! Nothing within the window is ever forgotten to make room: when the log holds
//! [`DeliveryLog::DEFAULT_CAPACITY`] deliveries younger than the window, a new one is refused
//! ([`Recorded::Full`], answered `503` with `Retry-After`; GitHub shows it as failed and it can
//! be redelivered) rather than let an old one in again. Only verified deliveries are recorded,
//! so a forger can neither fill the log nor evict anything. Kept in memory: a restart forgets
//! it, which costs at most one repeated refresh per delivery seen again (every effect is
//! idempotent).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What [`DeliveryLog::record`] made of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Not seen within the window: act on it.
    New,
    /// Its delivery id was seen within the window.
    SameId,
    /// Its body was seen within the window (under another id).
    SameBody,
    /// The log is full of deliveries younger than the window: refuse it for now.
    Full,
}

/// The SHA-256 of a delivery's body.
pub type Digest = [u8; 32];

/// The verified deliveries of the last window.
#[derive(Debug)]
pub struct DeliveryLog {
    capacity: usize,
    window: Duration,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    ids: HashMap<Box<str>, Instant>,
    digests: HashMap<Digest, Instant>,
    /// In the order recorded: `(when, id, digest)`.
    order: VecDeque<(Instant, Box<str>, Digest)>,
}

impl Seen {
    /// Forgets what is older than `window` at `now`.
    fn expire(&mut self, now: Instant, window: Duration) {
        while let Some((at, _, _)) = self.order.front() {
            if now.saturating_duration_since(*at) < window {
                break;
            }
            if let Some((at, id, digest)) = self.order.pop_front() {
                // A newer record of the same id or body stays.
                if self.ids.get(&id) == Some(&at) {
                    self.ids.remove(&id);
                }
                if self.digests.get(&digest) == Some(&at) {
                    self.digests.remove(&digest);
                }
            }
        }
    }
}

impl DeliveryLog {
    /// How many deliveries [`DeliveryLog::default`] keeps within its window: about 14 a
    /// second for an hour, far beyond a fleet's traffic, in about 15 MB at most.
    pub const DEFAULT_CAPACITY: usize = 50_000;
    /// How long a delivery is remembered.
    pub const WINDOW: Duration = Duration::from_secs(3600);

    /// A log keeping up to `capacity` deliveries (at least one) for `window`.
    pub fn new(capacity: usize, window: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            window,
            seen: Mutex::default(),
        }
    }

    /// What [`DeliveryLog::record`] would make of the delivery `id` with body `digest` at
    /// `now`, without recording it: the receiver records only what it acts on, so that
    /// deliveries that change nothing (other repositories of an org-wide installation) never
    /// fill the log.
    pub fn check(&self, id: &str, digest: &Digest, now: Instant) -> Recorded {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.expire(now, self.window);
        Self::verdict(&seen, self.capacity, id, digest)
    }

    /// Records the delivery `id` with body `digest`, seen at `now`.
    pub fn record(&self, id: &str, digest: &Digest, now: Instant) -> Recorded {
        // Plain data, consistent after every statement: a panic elsewhere cannot corrupt it.
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.expire(now, self.window);
        let verdict = Self::verdict(&seen, self.capacity, id, digest);
        if verdict == Recorded::New {
            seen.ids.insert(id.into(), now);
            seen.digests.insert(*digest, now);
            seen.order.push_back((now, id.into(), *digest));
        }
        verdict
    }

    fn verdict(seen: &Seen, capacity: usize, id: &str, digest: &Digest) -> Recorded {
        if seen.ids.contains_key(id) {
            Recorded::SameId
        } else if seen.digests.contains_key(digest) {
            Recorded::SameBody
        } else if seen.order.len() >= capacity {
            Recorded::Full
        } else {
            Recorded::New
        }
    }

    /// How many deliveries are remembered now.
    pub fn len(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .order
            .len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for DeliveryLog {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY, Self::WINDOW)
    }
}

/// The SHA-256 of `body`.
pub fn digest(body: &[u8]) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

    #[test]
    fn a_delivery_seen_again_by_id_or_by_body_is_refused() {
        let log = DeliveryLog::default();
        let now = Instant::now();
        assert_eq!(log.record(ID, &digest(b"one"), now), Recorded::New);
        assert_eq!(log.record(ID, &digest(b"two"), now), Recorded::SameId);
        assert_eq!(
            log.record("a-fresh-id", &digest(b"one"), now),
            Recorded::SameBody,
            "a captured body under a new id"
        );
        assert_eq!(log.record("another", &digest(b"two"), now), Recorded::New);
        assert_eq!(log.len(), 2);
    }

    #[test]
    fn a_full_log_refuses_new_deliveries_rather_than_forget_one_within_the_window() {
        let log = DeliveryLog::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for (i, id) in ["a", "b", "c"].iter().enumerate() {
            assert_eq!(
                log.record(id, &digest(id.as_bytes()), start),
                Recorded::New,
                "{i}"
            );
        }
        assert_eq!(log.record("d", &digest(b"d"), start), Recorded::Full);
        // Replays under 10,000 fresh ids neither get in nor evict anything.
        for n in 0..10_000 {
            let id = format!("replay-{n}");
            assert_eq!(log.record(&id, &digest(b"a"), start), Recorded::SameBody);
        }
        assert_eq!(log.record("a", &digest(b"a"), start), Recorded::SameId);
        // Once the window has passed, the oldest make room.
        let later = start + Duration::from_secs(61);
        assert_eq!(log.record("d", &digest(b"d"), later), Recorded::New);
        assert_eq!(log.record("a", &digest(b"a"), later), Recorded::New);
    }

    #[test]
    fn a_zero_capacity_keeps_one() {
        let log = DeliveryLog::new(0, Duration::from_secs(60));
        let now = Instant::now();
        assert_eq!(log.record("a", &digest(b"a"), now), Recorded::New);
        assert_eq!(log.record("b", &digest(b"b"), now), Recorded::Full);
    }
}
