//! The durable retry schedule, as pure functions of the attempt number.
//!
//! The delay is written to Postgres as `next_attempt_at`, so it survives any
//! restart; nothing here sleeps. Jitter is passed in (`jitter` in `[0, 1)`)
//! so the functions are deterministic under test.
//!
//! With the defaults (30 s base, 6 h cap, 12 attempts) the nominal delays are
//! 30 s, 1 m, 2 m, 4 m … 4 h 16 m, 6 h: about 14.5 hours from the first
//! attempt to the last, because ads are time-sensitive.

use std::time::Duration;

use crate::config::RetryPolicy;

/// Delay after the `failed_attempts`-th failure (1 for the first failure),
/// spread by ±20 %; a board's `Retry-After` wins when later.
pub fn retry_delay(
    policy: &RetryPolicy,
    failed_attempts: u32,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Duration {
    let doublings = failed_attempts.saturating_sub(1).min(40);
    let nominal = policy
        .base_ms
        .saturating_mul(1u64 << doublings.min(63))
        .min(policy.cap_ms);
    let spread = Duration::from_millis(nominal).mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0));
    match retry_after {
        Some(asked) => spread.max(clamp_retry_after(policy, asked, jitter)),
        None => spread,
    }
}

/// Wait for a throttled call (429, quota): the board's `Retry-After`, or the
/// base delay, plus up to 10 % so a crowd of postings does not return at once.
pub fn snooze_delay(policy: &RetryPolicy, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let asked = retry_after.unwrap_or(Duration::from_millis(policy.base_ms));
    clamp_retry_after(policy, asked, jitter)
}

fn clamp_retry_after(policy: &RetryPolicy, asked: Duration, jitter: f64) -> Duration {
    asked
        .min(Duration::from_millis(policy.max_retry_after_ms))
        .mul_f64(1.0 + 0.1 * jitter.clamp(0.0, 1.0))
}

/// True when the attempt just made was the last one allowed.
pub fn exhausted(policy_max_attempts: i32, attempts_made: i32) -> bool {
    attempts_made >= policy_max_attempts
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        base_ms: 30_000,
        cap_ms: 6 * 3600 * 1000,
        max_attempts: 12,
        max_retry_after_ms: 24 * 3600 * 1000,
    };

    #[test]
    fn nominal_schedule_doubles_from_base_to_cap() {
        let middle: Vec<u64> = (1..=11)
            .map(|n| retry_delay(&POLICY, n, 0.5, None).as_secs())
            .collect();
        assert_eq!(
            middle,
            [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600]
        );
        let total: u64 = middle.iter().sum();
        // About 14.5 hours between the first attempt and the twelfth.
        assert!((14 * 3600..15 * 3600).contains(&total), "{total}");
    }

    #[test]
    fn jitter_spreads_twenty_percent_each_way() {
        assert_eq!(retry_delay(&POLICY, 1, 0.0, None), Duration::from_secs(24));
        assert_eq!(retry_delay(&POLICY, 1, 1.0, None), Duration::from_secs(36));
    }

    #[test]
    fn a_later_retry_after_wins_and_an_earlier_one_does_not() {
        let later = retry_delay(&POLICY, 1, 0.0, Some(Duration::from_secs(120)));
        assert_eq!(later, Duration::from_secs(120));
        let earlier = retry_delay(&POLICY, 3, 0.5, Some(Duration::from_secs(5)));
        assert_eq!(earlier, Duration::from_secs(120));
    }

    #[test]
    fn retry_after_is_capped() {
        let asked = Duration::from_secs(7 * 24 * 3600);
        assert_eq!(
            snooze_delay(&POLICY, Some(asked), 0.0),
            Duration::from_secs(24 * 3600)
        );
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        assert_eq!(
            retry_delay(&POLICY, 500, 0.5, None),
            Duration::from_secs(21600)
        );
    }

    #[test]
    fn the_twelfth_attempt_is_the_last() {
        assert!(!exhausted(12, 11));
        assert!(exhausted(12, 12));
    }
}
