//! Spacing of writes to GitHub: serialized, at least a gap apart, and held off when GitHub
//! says to wait (secondary limits: "wait at least one second between each request", honour
//! `Retry-After`).

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Hands out turns for writes, one at a time, `gap` apart.
#[derive(Debug)]
pub struct Pacer {
    gap: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    /// Turns at least `gap` apart.
    pub fn new(gap: Duration) -> Self {
        Self {
            gap,
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for the next turn.
    pub async fn turn(&self) {
        let mut next = self.next.lock().await;
        tokio::time::sleep_until(*next).await;
        *next = Instant::now() + self.gap;
    }

    /// Whether GitHub asked everyone to wait (a [`Pacer::hold_off`] still running).
    pub async fn holding(&self) -> bool {
        *self.next.lock().await > Instant::now() + self.gap
    }

    /// No turn before `wait` from now (a rate limit).
    pub async fn hold_off(&self, wait: Duration) {
        let mut next = self.next.lock().await;
        *next = (*next).max(Instant::now() + wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn turns_are_a_gap_apart_and_a_hold_off_pushes_the_next_one() {
        let pacer = Pacer::new(Duration::from_secs(1));
        let start = Instant::now();
        pacer.turn().await;
        pacer.turn().await;
        pacer.turn().await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        pacer.hold_off(Duration::from_secs(60)).await;
        pacer.turn().await;
        assert_eq!(start.elapsed(), Duration::from_secs(62));
    }
}
