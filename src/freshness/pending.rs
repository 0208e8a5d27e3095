//! The coalescing of one repo's pokes, as a plain state machine (no clock, no runtime).
//!
//! A batch is the pokes that one refresh answers. Pokes before the worker starts a round join
//! the waiting batch; pokes during a round open the next batch, which waits for the round to
//! end. So any number of pokes during a round make exactly one more round, never one each.

/// The pokes waiting for one repo's worker, and whether a round is running. `T` is the time of
/// a poke (an `Instant` in the service, a number in tests).
#[derive(Debug)]
pub(super) struct Pending<T> {
    /// When the first poke of the waiting batch came; `None` when no batch waits.
    since: Option<T>,
    /// Whether a round (refresh, patches, and a failure's pause) is running.
    running: bool,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Self {
            since: None,
            running: false,
        }
    }
}

impl<T: Copy + Ord> Pending<T> {
    /// Records a poke at `at`. Returns whether it opened a batch, i.e. whether the worker must
    /// be woken (a poke joining a waiting batch needs nothing more).
    pub(super) fn poke(&mut self, at: T) -> bool {
        match self.since {
            Some(since) => {
                self.since = Some(since.min(at));
                false
            }
            None => {
                self.since = Some(at);
                true
            }
        }
    }

    /// Starts a round for the waiting batch, if any and no round runs: the time of its first
    /// poke. Pokes from now on wait for [`Pending::finish`].
    pub(super) fn start(&mut self) -> Option<T> {
        if self.running {
            return None;
        }
        let since = self.since.take()?;
        self.running = true;
        Some(since)
    }

    /// Ends the running round. `retry` puts its batch back (a failed refresh to try again),
    /// merged with any batch that came meanwhile (the earliest time is kept).
    pub(super) fn finish(&mut self, retry: Option<T>) {
        self.running = false;
        if let Some(at) = retry {
            self.poke(at);
        }
    }

    /// Whether nothing waits and no round runs.
    pub(super) fn is_idle(&self) -> bool {
        !self.running && self.since.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::Pending;

    #[test]
    fn a_burst_before_the_worker_starts_is_one_round() {
        let mut pending = Pending::default();
        assert!(pending.poke(1), "the first poke wakes the worker");
        for at in 2..=5 {
            assert!(!pending.poke(at), "the others join its batch");
        }
        assert_eq!(pending.start(), Some(1), "measured from the first poke");
        pending.finish(None);
        assert_eq!(pending.start(), None);
        assert!(pending.is_idle());
    }

    #[test]
    fn pokes_during_a_round_make_exactly_one_more() {
        let mut pending = Pending::default();
        pending.poke(1);
        assert_eq!(pending.start(), Some(1));
        assert!(pending.poke(2), "a new batch: the worker must know");
        for at in 3..=9 {
            assert!(!pending.poke(at));
        }
        assert_eq!(pending.start(), None, "it waits for the round to end");
        assert!(!pending.is_idle());
        pending.finish(None);
        assert_eq!(pending.start(), Some(2));
        pending.finish(None);
        assert_eq!(pending.start(), None, "one more, not one per poke");
        assert!(pending.is_idle());
    }

    #[test]
    fn a_retried_batch_keeps_its_first_poke_and_absorbs_new_ones() {
        let mut pending = Pending::default();
        pending.poke(1);
        assert_eq!(pending.start(), Some(1));
        pending.poke(4);
        pending.finish(Some(1));
        assert_eq!(
            pending.start(),
            Some(1),
            "the retry and the new poke: one round"
        );
        pending.finish(Some(1));
        assert!(!pending.is_idle(), "the retry waits");
        assert_eq!(pending.start(), Some(1));
        pending.finish(None);
        assert!(pending.is_idle());
    }

    #[test]
    fn an_idle_repo_has_nothing_to_start() {
        let mut pending: Pending<u32> = Pending::default();
        assert!(pending.is_idle());
        assert_eq!(pending.start(), None);
        pending.finish(None);
        assert!(pending.is_idle());
    }
}
