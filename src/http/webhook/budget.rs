//! [`ByteBudget`]: how many webhook body bytes may be held in memory at once, across every
//! delivery being read. A delivery reserves what it may need (its `Content-Length`, or the
//! largest delivery without one) before a byte of its body is read, and gives it back when it
//! is answered; when the budget is spent, it is refused at once (`503`, `Retry-After`) instead
//! of being read. Unsigned and forged bodies can then never hold more than the budget, however
//! many come at once.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The webhook bytes that may be in memory at once.
#[derive(Debug)]
pub struct ByteBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

/// Bytes reserved for one delivery, given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    _permit: OwnedSemaphorePermit,
    bytes: usize,
}

impl Reservation {
    /// How many bytes the delivery may read.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl ByteBudget {
    /// The default budget: 64 MiB, room for two of GitHub's largest deliveries (25 MB) and
    /// many ordinary ones (a few KiB to a few hundred KiB) at once.
    pub const DEFAULT_BYTES: usize = 64 * 1024 * 1024;

    /// A budget of `total` bytes (at least one byte).
    pub fn new(total: usize) -> Self {
        let total = total.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Reserves `bytes` (at most the whole budget), or `None` when that many are not free now.
    pub fn try_reserve(&self, bytes: usize) -> Option<Reservation> {
        let bytes = bytes.clamp(1, self.total);
        let permits = u32::try_from(bytes).ok()?;
        let permit = Arc::clone(&self.bytes)
            .try_acquire_many_owned(permits)
            .ok()?;
        Some(Reservation {
            _permit: permit,
            bytes,
        })
    }

    /// Bytes not reserved now.
    pub fn available(&self) -> usize {
        self.bytes.available_permits()
    }
}

impl Default for ByteBudget {
    fn default() -> Self {
        Self::new(Self::DEFAULT_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_beyond_the_budget_are_refused_until_one_is_given_back() {
        let budget = ByteBudget::new(100);
        let first = budget.try_reserve(60).expect("room");
        assert_eq!(first.bytes(), 60);
        assert!(budget.try_reserve(50).is_none(), "only 40 left");
        let second = budget.try_reserve(40).expect("exactly what is left");
        assert_eq!(budget.available(), 0);
        drop(first);
        assert_eq!(budget.available(), 60);
        drop(second);
        assert!(
            budget.try_reserve(1_000).is_some(),
            "at most the whole budget"
        );
    }
}
