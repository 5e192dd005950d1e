//! The keys an operator presses to pause or resume a call's recording
//! from the phone: `*` then `1` within 3 s (as Asterisk's sample `automon`
//! code). Pure: `recording.rs` feeds it the keys of the operator's leg with
//! the time they came.

use std::time::Duration;

use tokio::time::Instant;

/// How long after `*` its `1` may come.
const PAUSE_KEY_GAP: Duration = Duration::from_secs(3);

/// An operator's keys on the way to `*1`.
#[derive(Debug, Default)]
pub(crate) struct PauseKeys {
    star_at: Option<Instant>,
}

impl PauseKeys {
    /// `key` pressed at `now`: true when it completes `*1`.
    pub fn press(&mut self, key: char, now: Instant) -> bool {
        match key {
            '*' => {
                self.star_at = Some(now);
                false
            }
            '1' => self
                .star_at
                .take()
                .is_some_and(|at| now.saturating_duration_since(at) <= PAUSE_KEY_GAP),
            _ => {
                self.star_at = None;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_then_one_within_three_seconds_toggles() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut keys = PauseKeys::default();
        assert!(!keys.press('1', at(0)), "1 alone");
        assert!(!keys.press('*', at(100)));
        assert!(keys.press('1', at(600)), "*1");
        assert!(!keys.press('1', at(700)), "a second 1 needs its own *");
        assert!(!keys.press('*', at(1_000)));
        assert!(!keys.press('1', at(4_001)), "1 more than 3 s after *");
        assert!(!keys.press('*', at(5_000)));
        assert!(!keys.press('5', at(5_100)));
        assert!(!keys.press('1', at(5_200)), "another key between");
        assert!(!keys.press('*', at(6_000)));
        assert!(!keys.press('*', at(6_100)));
        assert!(keys.press('1', at(6_200)), "** then 1 still counts");
    }
}
