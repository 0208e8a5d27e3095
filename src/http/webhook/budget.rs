//! [`ByteBudget`]: how many webhook body bytes may be held in memory at once, across every
//! delivery being read. A delivery reserves its bytes as they arrive ([`Reservation::grow`],
//! so that a client that declares a large body and sends nothing holds nothing), and gives them
//! back when it is answered; when the budget is spent, it is refused (`503`, `Retry-After`)
//! and the rest of its body is never read. Unsigned and forged bodies can then never hold more
//! than the budget, however many come at once.

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
    bytes: Arc<Semaphore>,
    held: Option<OwnedSemaphorePermit>,
}

impl Reservation {
    /// How many bytes are reserved.
    pub fn bytes(&self) -> usize {
        self.held
            .as_ref()
            .map_or(0, OwnedSemaphorePermit::num_permits)
    }

    /// Reserves `more` bytes besides; `false` (nothing more reserved) when that many are not
    /// free now.
    pub fn grow(&mut self, more: usize) -> bool {
        if more == 0 {
            return true;
        }
        let Ok(permits) = u32::try_from(more) else {
            return false;
        };
        let Ok(permit) = Arc::clone(&self.bytes).try_acquire_many_owned(permits) else {
            return false;
        };
        match &mut self.held {
            Some(held) => held.merge(permit),
            None => self.held = Some(permit),
        }
        true
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

    /// An empty reservation, to [`Reservation::grow`] as a body arrives.
    pub fn reserve(&self) -> Reservation {
        Reservation {
            bytes: Arc::clone(&self.bytes),
            held: None,
        }
    }

    /// Reserves `bytes` at once (at most the whole budget), or `None` when that many are not
    /// free now.
    pub fn try_reserve(&self, bytes: usize) -> Option<Reservation> {
        let mut reservation = self.reserve();
        reservation
            .grow(bytes.clamp(1, self.total))
            .then_some(reservation)
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
    fn a_reservation_grows_as_bytes_arrive_until_the_budget_is_spent() {
        let budget = ByteBudget::new(100);
        let mut reading = budget.reserve();
        assert_eq!(reading.bytes(), 0, "nothing held before a byte arrives");
        assert!(reading.grow(60) && reading.grow(30));
        assert_eq!((reading.bytes(), budget.available()), (90, 10));
        assert!(!reading.grow(20), "beyond the budget");
        assert_eq!(reading.bytes(), 90);
        drop(reading);
        assert_eq!(budget.available(), 100);
    }

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
