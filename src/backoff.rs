//! Waiting between attempts: OPA's exponential backoff with jitter, and random polling delays.
//!
//! Owns: the delay formulas shared by the bundle downloader and the decision-log uploader.

use std::time::Duration;

/// First retry delay; grows by [`FACTOR`] per attempt up to the caller's maximum.
const BASE: Duration = Duration::from_millis(100);
const FACTOR: f64 = 1.6;
const JITTER: f64 = 0.2;

/// OPA's backoff: 100 ms growing by 1.6 per retry up to `max`, then ±20 % jitter.
pub fn backoff(retries: u32, max: Duration) -> Duration {
    let mut delay = BASE.as_secs_f64();
    for _ in 1..retries.min(64) {
        delay *= FACTOR;
        if delay >= max.as_secs_f64() {
            break;
        }
    }
    let capped = delay.min(max.as_secs_f64().max(BASE.as_secs_f64()));
    let jitter = 1.0 + JITTER * (rand::random::<f64>() * 2.0 - 1.0);
    Duration::from_secs_f64(capped * jitter)
}

/// Uniformly random between `min` and `max`.
pub fn between(min: Duration, max: Duration) -> Duration {
    let spread = max.saturating_sub(min);
    min + spread.mul_f64(rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let max = Duration::from_secs(2);
        let first = backoff(1, max);
        assert!(
            first >= Duration::from_millis(80) && first <= Duration::from_millis(120),
            "{first:?}"
        );
        let fifth = backoff(5, max);
        assert!(fifth > Duration::from_millis(400), "{fifth:?}");
        let late = backoff(40, max);
        assert!(late <= Duration::from_millis(2400), "{late:?}");
    }

    #[test]
    fn between_stays_in_range() {
        for _ in 0..100 {
            let d = between(Duration::from_secs(1), Duration::from_secs(2));
            assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(2));
        }
    }
}
