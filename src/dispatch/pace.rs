//! A board's documented request budgets, honoured per replica: its rate per
//! minute, spaced evenly (no bursts), and any longer budgets on top (GCRA,
//! from `governor`).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::boards::BoardLimits;

pub struct Pace {
    limiters: Vec<DefaultDirectRateLimiter>,
}

impl Pace {
    /// `per_minute` (configuration) overrides the board's documented rate.
    pub fn new(limits: BoardLimits, per_minute: Option<u32>) -> Self {
        let mut limiters: Vec<DefaultDirectRateLimiter> = per_minute
            .or(limits.requests_per_minute)
            .and_then(NonZeroU32::new)
            .map(|n| RateLimiter::direct(Quota::per_minute(n).allow_burst(NonZeroU32::MIN)))
            .into_iter()
            .collect();
        for &(requests, period) in limits.windows {
            let (Some(burst), Some(quota)) = (
                NonZeroU32::new(requests),
                Quota::with_period(period / requests.max(1)),
            ) else {
                continue;
            };
            limiters.push(RateLimiter::direct(quota.allow_burst(burst)));
        }
        Self { limiters }
    }

    /// How many of `wanted` requests may go now, and, when fewer, how long
    /// until the next may.
    pub fn grant(&self, wanted: usize) -> (usize, Option<Duration>) {
        let mut granted = 0;
        while granted < wanted {
            for limiter in &self.limiters {
                if let Err(not_until) = limiter.check() {
                    return (
                        granted,
                        Some(not_until.wait_time_from(DefaultClock::default().now())),
                    );
                }
            }
            granted += 1;
        }
        (granted, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_limits_grant_everything() {
        let pace = Pace::new(BoardLimits::default(), None);
        assert_eq!(pace.grant(500), (500, None));
    }

    #[test]
    fn a_longer_budget_holds_once_spent() {
        const WINDOWS: &[(u32, Duration)] = &[(3, Duration::from_secs(60))];
        let pace = Pace::new(
            BoardLimits {
                requests_per_minute: None,
                windows: WINDOWS,
            },
            None,
        );
        let (granted, wait) = pace.grant(10);
        assert_eq!(granted, 3, "the budget's burst");
        let wait = wait.expect("the rest waits");
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert_eq!(pace.grant(1).0, 0);
    }

    #[test]
    fn the_rate_spaces_calls_and_configuration_overrides_it() {
        const WINDOWS: &[(u32, Duration)] = &[(1_000, Duration::from_secs(3_600))];
        let limits = BoardLimits {
            requests_per_minute: Some(6_000),
            windows: WINDOWS,
        };
        let pace = Pace::new(limits, Some(60));
        let (granted, wait) = pace.grant(5);
        assert_eq!(granted, 1, "no bursts: one now");
        let wait = wait.unwrap();
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
    }
}
