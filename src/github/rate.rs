//! GitHub's rate-limit headers as last seen, for metrics and for slowing down before the limit
//! runs out.
//!
//! Every answer from GitHub carries `x-ratelimit-limit`, `-remaining`, `-used`, `-reset` and
//! `-resource`. The adapter records the `core` resource's here (process-wide: one process
//! talks to one GitHub). With a GitHub App installed on several organisations each has its own
//! budget; the gauges then show the budget of the last answer.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::HeaderMap;
use prometheus_client::metrics::gauge::Gauge;

/// The last rate-limit headers of the `core` resource.
#[derive(Debug, Default)]
pub struct RateLimits {
    /// `x-ratelimit-limit`: requests per hour.
    pub limit: Gauge,
    /// `x-ratelimit-remaining`.
    pub remaining: Gauge,
    /// `x-ratelimit-used`.
    pub used: Gauge,
    /// `x-ratelimit-reset`: Unix time the window resets.
    pub reset: Gauge,
}

static RATE_LIMITS: LazyLock<RateLimits> = LazyLock::new(RateLimits::default);

/// Answers GitHub gave this process, whatever their status (`304`s included).
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// How many requests GitHub answered since the process started: what the cold start log says
/// it spent.
pub fn requests() -> u64 {
    REQUESTS.load(Ordering::Relaxed)
}

/// The process's rate-limit gauges.
pub fn rate_limits() -> &'static RateLimits {
    &RATE_LIMITS
}

/// Counts an answer and records its rate-limit headers (only the `core` resource's).
pub fn observe(headers: &HeaderMap) {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    let number =
        |name: &str| -> Option<i64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let resource = headers
        .get("x-ratelimit-resource")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("core");
    if resource != "core" {
        return;
    }
    let (Some(limit), Some(remaining)) =
        (number("x-ratelimit-limit"), number("x-ratelimit-remaining"))
    else {
        return;
    };
    let limits = rate_limits();
    limits.limit.set(limit);
    limits.remaining.set(remaining);
    if let Some(used) = number("x-ratelimit-used") {
        limits.used.set(used);
    }
    if let Some(reset) = number("x-ratelimit-reset") {
        limits.reset.set(reset);
    }
}

/// How long to hold polling off: until the window resets, when fewer than `reserve` (a
/// fraction of the limit) requests remain, so that webhooks-driven refreshes and the lifecycle's
/// writes still have budget. `None` when there is room (or nothing is known yet).
pub fn hold_off(reserve: f64, now_unix: i64) -> Option<Duration> {
    let limits = rate_limits();
    let limit = limits.limit.get();
    let remaining = limits.remaining.get();
    let reset = limits.reset.get();
    if limit <= 0 || reset <= now_unix {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let low = (remaining as f64) < (limit as f64) * reserve;
    low.then(|| Duration::from_secs(u64::try_from(reset - now_unix).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("value"));
        }
        map
    }

    #[test]
    fn core_headers_are_recorded_and_a_low_budget_holds_polling_until_the_reset() {
        observe(&headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4000"),
            ("x-ratelimit-used", "1000"),
            ("x-ratelimit-reset", "1000060"),
        ]));
        assert_eq!(rate_limits().remaining.get(), 4000);
        assert_eq!(hold_off(0.05, 1_000_000), None);
        // Another resource does not touch the core budget.
        observe(&headers(&[
            ("x-ratelimit-limit", "30"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-resource", "search"),
        ]));
        assert_eq!(rate_limits().limit.get(), 5000);
        observe(&headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "100"),
            ("x-ratelimit-reset", "1000060"),
        ]));
        assert_eq!(hold_off(0.05, 1_000_000), Some(Duration::from_secs(60)));
        assert_eq!(hold_off(0.05, 1_000_100), None, "past the reset");
    }
}
