//! Time as the engine sees it: a point given by the caller, never read from a clock.
//!
//! `Time` counts milliseconds since the Unix epoch so that a waiting request
//! recovered after a restart keeps its original arrival time. Tests use any
//! origin they like; the engine only compares and adds.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time, in milliseconds. Supplied with every event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Time(pub u64);

impl Time {
    pub const ZERO: Time = Time(0);

    pub fn from_secs(secs: u64) -> Time {
        Time(secs * 1000)
    }

    pub fn plus_ms(self, ms: u64) -> Time {
        Time(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self`; zero when `earlier` is later.
    pub fn since(self, earlier: Time) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    pub fn as_millis(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}
