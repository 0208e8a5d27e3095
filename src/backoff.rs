//! How long to wait before trying again: the one backoff of the process's retry loops (the
//! sync's poll, the webhook-woken refreshes, the lifecycle's rounds, the Jira queue).
//!
//! The wait doubles per consecutive failure from a first wait to a cap, and a vendor's
//! `Retry-After` is honoured when it asks for longer, up to a longest honoured wait (so that a
//! bogus header cannot stop a loop for days). Each caller keeps its own [`Backoff`]. Pure: a
//! value in, a value out; no clock, no sleeping, no I/O.

use std::time::Duration;

/// A backoff's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure; it doubles per failure after that.
    pub first: Duration,
    /// The longest wait the doubling reaches.
    pub cap: Duration,
    /// The longest `Retry-After` honoured.
    pub retry_after_max: Duration,
}

impl Backoff {
    /// The wait after `failures` consecutive failures (`0` counts as the first), or the
    /// vendor's `retry_after` (at most [`Backoff::retry_after_max`]) when that is longer.
    pub fn delay(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = self
            .first
            .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)))
            .min(self.cap);
        match retry_after {
            Some(wait) => self.honoured(wait).max(exponential),
            None => exponential,
        }
    }

    /// `retry_after` as far as it is honoured: at most [`Backoff::retry_after_max`].
    pub fn honoured(&self, retry_after: Duration) -> Duration {
        retry_after.min(self.retry_after_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECONDS: Backoff = Backoff {
        first: Duration::from_secs(1),
        cap: Duration::from_secs(10),
        retry_after_max: Duration::from_secs(100),
    };

    fn delay(failures: u32, retry_after: Option<u64>) -> u64 {
        SECONDS
            .delay(failures, retry_after.map(Duration::from_secs))
            .as_secs()
    }

    #[test]
    fn the_wait_doubles_per_failure_up_to_the_cap() {
        let waits: Vec<u64> = (0..7).map(|failures| delay(failures, None)).collect();
        assert_eq!(waits, [1, 1, 2, 4, 8, 10, 10]);
        assert_eq!(delay(u32::MAX, None), 10, "no overflow");
    }

    #[test]
    fn a_longer_retry_after_wins_up_to_the_longest_honoured() {
        assert_eq!(delay(1, Some(30)), 30, "beyond the cap");
        assert_eq!(delay(4, Some(2)), 8, "shorter than the backoff");
        assert_eq!(delay(1, Some(86_400)), 100);
        assert_eq!(
            SECONDS.delay(1, Some(Duration::MAX)),
            SECONDS.retry_after_max
        );
        assert_eq!(SECONDS.honoured(Duration::from_secs(5)).as_secs(), 5);
    }
}
