//! Flood guard: at most N messages per second from one source address (2N
//! in a burst), counted before parsing; the rest are dropped, and logged at
//! most once per source every ten seconds. Trunks are not limited here.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

const LOG_EVERY: Duration = Duration::from_secs(10);

pub struct FloodGuard {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    last_logged: HashMap<IpAddr, Instant>,
}

impl FloodGuard {
    /// `per_second == 0`: no limit.
    pub fn new(per_second: u32) -> FloodGuard {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        FloodGuard {
            limiter,
            last_logged: HashMap::new(),
        }
    }

    /// Whether one more message from `source` may be handled now.
    pub fn allow(&mut self, source: IpAddr, now: Instant) -> bool {
        let Some(limiter) = &self.limiter else { return true };
        if limiter.check_key(&source).is_ok() {
            return true;
        }
        let log = self
            .last_logged
            .get(&source)
            .is_none_or(|at| now.duration_since(*at) >= LOG_EVERY);
        if log {
            self.last_logged.insert(source, now);
            tracing::warn!(%source, "SIP flood: messages over the per-source limit are dropped");
        }
        false
    }

    pub fn prune(&mut self, now: Instant) {
        self.last_logged.retain(|_, at| now.duration_since(*at) < LOG_EVERY);
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_beyond_the_burst_and_never_without_a_limit() {
        let source: IpAddr = "127.0.0.5".parse().unwrap();
        let now = Instant::now();
        let mut guard = FloodGuard::new(5);
        let allowed = (0..50).filter(|_| guard.allow(source, now)).count();
        assert!((10..=11).contains(&allowed), "burst of twice the rate: {allowed}");
        assert!(
            guard.allow("127.0.0.6".parse().unwrap(), now),
            "other sources are unaffected"
        );
        let mut open = FloodGuard::new(0);
        assert!((0..1000).all(|_| open.allow(source, now)));
    }
}
