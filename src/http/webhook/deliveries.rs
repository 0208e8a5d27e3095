//! [`DeliveryLog`]: the `X-GitHub-Delivery` ids seen lately, so that a replayed or redelivered
//! delivery is answered without being acted on twice.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};

/// The last `capacity` delivery ids, oldest evicted first. Only verified deliveries are
/// recorded, so a forger cannot evict real ids. Kept in memory: a restart forgets it, which
/// costs at most one repeated refresh per redelivered id (every effect is idempotent).
#[derive(Debug)]
pub struct DeliveryLog {
    capacity: usize,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    ids: HashSet<Box<str>>,
    order: VecDeque<Box<str>>,
}

impl DeliveryLog {
    /// How many ids [`DeliveryLog::default`] keeps: hours of traffic for a busy fleet, about a
    /// megabyte.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// A log keeping the last `capacity` ids (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            seen: Mutex::default(),
        }
    }

    /// Records `id`: `true` the first time, `false` when it is already in the log.
    pub fn record(&self, id: &str) -> bool {
        // Plain data, consistent after every statement: a panic elsewhere cannot corrupt it.
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.ids.contains(id) {
            return false;
        }
        if seen.order.len() >= self.capacity
            && let Some(oldest) = seen.order.pop_front()
        {
            seen.ids.remove(&oldest);
        }
        seen.ids.insert(id.into());
        seen.order.push_back(id.into());
        true
    }

    /// How many ids are kept now.
    pub fn len(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .order
            .len()
    }

    /// Whether no id is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for DeliveryLog {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_delivery_of_an_id_is_refused() {
        let log = DeliveryLog::default();
        assert!(log.record("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
        assert!(!log.record("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
        assert!(log.record("72d3162e-cc78-11e3-81ab-4c9367dc0959"));
        assert_eq!(log.len(), 2);
    }

    #[test]
    fn the_oldest_ids_are_evicted_first() {
        let log = DeliveryLog::new(3);
        for id in ["a", "b", "c", "d"] {
            assert!(log.record(id));
        }
        assert_eq!(log.len(), 3);
        assert!(log.record("a"), "evicted, so new again");
        assert!(!log.record("c"));
        assert!(!log.record("d"));
        assert!(log.record("b"), "evicted by the second `a`");
    }

    #[test]
    fn a_zero_capacity_keeps_one() {
        let log = DeliveryLog::new(0);
        assert!(log.record("a"));
        assert!(!log.record("a"));
        assert!(log.record("b"));
        assert!(log.record("a"));
    }
}
