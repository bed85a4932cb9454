//! A board's documented request budgets. Each replica spaces its own calls
//! with token buckets, evenly down to the board loop's claim gap: a
//! burst holds what the rate allows in one gap (at least one call), so a
//! fast rate is claimed in batches (a burst of one made every claim a single
//! posting, a transaction per request) and a slow one is still spaced call
//! by call. The budgets of all replicas together, which hold the exact
//! windows, are kept in PostgreSQL ([`cluster_budgets`]).

use std::time::Duration;

use tokio::time::Instant;

use crate::boards::BoardLimits;
use crate::config::BoardSettings;
use crate::store::boards::Budget;

/// A board's limits as budgets for every replica together (enforced in
/// PostgreSQL by [`crate::store::boards::claim_within_budgets`]): the rate
/// per minute (configuration first, else documented), the documented longer
/// windows, and any budgets configuration adds.
pub fn cluster_budgets(limits: BoardLimits, settings: Option<&BoardSettings>) -> Vec<Budget> {
    let per_minute = settings
        .and_then(|s| s.requests_per_minute)
        .or(limits.requests_per_minute)
        .filter(|&n| n > 0);
    let mut budgets: Vec<Budget> = per_minute
        .map(|requests| Budget::requests(requests, Duration::from_secs(60)))
        .into_iter()
        .collect();
    budgets.extend(
        limits
            .windows
            .iter()
            .map(|&(requests, period)| Budget::requests(requests, period)),
    );
    budgets.extend(
        settings
            .into_iter()
            .flat_map(|s| &s.budgets)
            .map(|b| Budget::requests(b.requests, Duration::from_millis(b.period_ms))),
    );
    budgets.extend(limits.sends_per_day.map(|sends| Budget {
        requests: sends,
        period: Duration::from_secs(24 * 60 * 60),
        sends_only: true,
    }));
    budgets
}

/// One budget as a token bucket: up to `capacity` calls at once, refilled
/// at `per_second`.
#[derive(Debug)]
struct Bucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(capacity: u32, per_second: f64) -> Self {
        Self {
            capacity: f64::from(capacity.max(1)),
            per_second,
            tokens: f64::from(capacity.max(1)),
            at: Instant::now(),
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.at = now;
    }

    /// How long until it holds `calls`.
    fn wait_for(&self, calls: usize) -> Duration {
        let missing = (calls as f64 - self.tokens).max(0.0);
        Duration::from_secs_f64(missing / self.per_second)
    }
}

/// A board's pace on this replica. Asking ([`Pace::grant`]) takes nothing;
/// only the calls a claim actually took are spent ([`Pace::spend`]): a claim
/// often finds fewer due postings than it may take, and a limiter that
/// spends on asking (as `governor`'s do, with no way to give back) drained
/// LinkedIn's 60,000-a-day window within seconds.
#[derive(Debug)]
pub struct Pace {
    buckets: Vec<Bucket>,
}

impl Pace {
    /// `per_minute` (configuration) overrides the board's documented rate;
    /// `granularity` is the claim gap (see the module's documentation).
    pub fn new(limits: BoardLimits, per_minute: Option<u32>, granularity: Duration) -> Self {
        let mut buckets: Vec<Bucket> = per_minute
            .or(limits.requests_per_minute)
            .filter(|&n| n > 0)
            .map(|n| {
                let per_gap = (f64::from(n) * granularity.as_secs_f64() / 60.0) as u32;
                Bucket::new(per_gap, f64::from(n) / 60.0)
            })
            .into_iter()
            .collect();
        buckets.extend(
            limits
                .windows
                .iter()
                .filter(|(requests, period)| *requests > 0 && !period.is_zero())
                .map(|&(requests, period)| {
                    Bucket::new(requests, f64::from(requests) / period.as_secs_f64())
                }),
        );
        Self { buckets }
    }

    /// How many of `wanted` calls may go now, and, when fewer, how long
    /// until one more may. Spends nothing.
    pub fn grant(&mut self, wanted: usize) -> (usize, Option<Duration>) {
        let now = Instant::now();
        let mut granted = wanted;
        for bucket in &mut self.buckets {
            bucket.refill(now);
            granted = granted.min(bucket.tokens.floor() as usize);
        }
        if granted == wanted {
            return (granted, None);
        }
        let wait = self
            .buckets
            .iter()
            .map(|bucket| bucket.wait_for(granted + 1))
            .max()
            .unwrap_or_default();
        (granted, Some(wait))
    }

    /// Spends `calls` (at most what [`Pace::grant`] allowed).
    pub fn spend(&mut self, calls: usize) {
        for bucket in &mut self.buckets {
            bucket.tokens -= calls as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_budgets_take_configuration_first_then_documented_windows_and_extras() {
        const WINDOWS: &[(u32, Duration)] = &[(20_000, Duration::from_secs(600))];
        let documented = BoardLimits {
            requests_per_minute: Some(300),
            windows: WINDOWS,
            ..BoardLimits::default()
        };
        assert_eq!(
            cluster_budgets(documented, None),
            [
                Budget::requests(300, Duration::from_secs(60)),
                Budget::requests(20_000, Duration::from_secs(600)),
            ]
        );

        let settings: BoardSettings = toml::from_str(
            r#"base_url = "http://board"
               languages = ["en"]
               requests_per_minute = 10
               budgets = [{ requests = 5000, period_ms = 86400000 }]"#,
        )
        .unwrap();
        assert_eq!(
            cluster_budgets(documented, Some(&settings)),
            [
                Budget::requests(10, Duration::from_secs(60)),
                Budget::requests(20_000, Duration::from_secs(600)),
                Budget::requests(5000, Duration::from_secs(86_400)),
            ]
        );
        assert!(cluster_budgets(BoardLimits::default(), None).is_empty());

        let google = BoardLimits {
            sends_per_day: Some(200),
            ..BoardLimits::default()
        };
        assert_eq!(
            cluster_budgets(google, None),
            [Budget {
                requests: 200,
                period: Duration::from_secs(86_400),
                sends_only: true
            }]
        );
    }

    #[test]
    fn a_burst_is_what_the_rate_allows_in_one_claim_gap() {
        let mut pace = Pace::new(
            BoardLimits::default(),
            Some(60_000),
            Duration::from_millis(20),
        );
        let (granted, wait) = pace.grant(500);
        assert_eq!(granted, 20);
        assert!(wait.expect("the rest waits") <= Duration::from_millis(1));
        let mut slow = Pace::new(BoardLimits::default(), Some(120), Duration::from_millis(20));
        assert_eq!(slow.grant(5).0, 1, "spaced call by call");
    }

    #[test]
    fn no_limits_grant_everything() {
        let mut pace = Pace::new(BoardLimits::default(), None, Duration::from_millis(20));
        assert_eq!(pace.grant(500), (500, None));
    }

    #[test]
    fn a_longer_budget_holds_once_spent() {
        const WINDOWS: &[(u32, Duration)] = &[(3, Duration::from_secs(60))];
        let mut pace = Pace::new(
            BoardLimits {
                requests_per_minute: None,
                windows: WINDOWS,
                ..BoardLimits::default()
            },
            None,
            Duration::from_millis(20),
        );
        let (granted, wait) = pace.grant(10);
        assert_eq!(granted, 3, "the budget's burst");
        assert_eq!(pace.grant(10).0, 3, "asking spends nothing");
        pace.spend(3);
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
            ..BoardLimits::default()
        };
        let mut pace = Pace::new(limits, Some(60), Duration::from_millis(20));
        let (granted, wait) = pace.grant(5);
        assert_eq!(granted, 1, "no bursts at 60 a minute: one now");
        let wait = wait.unwrap();
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
    }
}
