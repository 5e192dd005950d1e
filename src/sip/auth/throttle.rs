//! Failed-authentication throttling per source address: a `governor` rate
//! limiter per IP allows `limit` failures per `window`; the next failure bans
//! the address for `ban` (logged once per ban).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct AuthThrottle {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    banned: HashMap<IpAddr, Instant>,
    ban: Duration,
}

impl AuthThrottle {
    pub fn new(limit: u32, window: Duration, ban: Duration) -> AuthThrottle {
        let limit = NonZeroU32::new(limit.max(1)).unwrap_or(NonZeroU32::MIN);
        let period = (window / limit.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .expect("period is positive")
            .allow_burst(limit);
        AuthThrottle {
            failures: RateLimiter::keyed(quota),
            banned: HashMap::new(),
            ban,
        }
    }

    /// New limits; bans in force stay.
    pub fn reconfigure(&mut self, limit: u32, window: Duration, ban: Duration) {
        let banned = std::mem::take(&mut self.banned);
        *self = AuthThrottle::new(limit, window, ban);
        self.banned = banned;
    }

    /// Whether `source` is banned now.
    pub fn is_banned(&mut self, source: IpAddr, now: Instant) -> bool {
        match self.banned.get(&source) {
            Some(until) if *until > now => true,
            Some(_) => {
                self.banned.remove(&source);
                tracing::info!(%source, "SIP authentication ban lifted");
                false
            }
            None => false,
        }
    }

    /// Counts one failed authentication; true if `source` is now banned.
    pub fn failed(&mut self, source: IpAddr, now: Instant) -> bool {
        if self.failures.check_key(&source).is_ok() {
            return false;
        }
        self.banned.insert(source, now + self.ban);
        tracing::warn!(%source, ban_seconds = self.ban.as_secs(), "too many failed SIP authentications; source banned");
        true
    }

    /// Forgets lifted bans and idle limiter state.
    pub fn prune(&mut self, now: Instant) {
        self.banned.retain(|_, until| *until > now);
        self.failures.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_after_the_limit_and_lifts_later() {
        let mut throttle = AuthThrottle::new(3, Duration::from_secs(60), Duration::from_secs(10));
        let source: IpAddr = "127.0.0.9".parse().unwrap();
        let other: IpAddr = "127.0.0.8".parse().unwrap();
        let now = Instant::now();
        assert!(!throttle.failed(source, now));
        assert!(!throttle.failed(source, now));
        assert!(!throttle.failed(source, now));
        assert!(!throttle.is_banned(source, now));
        assert!(throttle.failed(source, now));
        assert!(throttle.is_banned(source, now));
        assert!(!throttle.is_banned(other, now));
        assert!(!throttle.is_banned(source, now + Duration::from_secs(11)));
    }
}
