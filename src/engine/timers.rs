//! Deadlines the engine waits for, in one heap. Entries are never removed
//! early: when one fires, the owner checks it is still current (lazy deletion).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::ids::{OfferId, OperatorId, RequestId};
use super::time::Time;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// The offer rang out or was not accepted in time.
    OfferExpires(OfferId),
    /// The request waited as long as its queue allows.
    MaxWait(RequestId),
    /// The known customer waited long enough for their responsible.
    ResponsibleWaitOver(RequestId),
    /// The pause between two rounds over the list is over.
    NextRound(RequestId),
    /// The operator's wrap-up time is over.
    WrapUpOver(OperatorId),
}

#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Time, Timer)>>,
}

impl Timers {
    pub fn add(&mut self, at: Time, timer: Timer) {
        self.heap.push(Reverse((at, timer)));
    }

    /// The earliest pending deadline (possibly stale).
    pub fn next(&self) -> Option<Time> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes the earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: Time) -> Option<(Time, Timer)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse(entry)| entry),
            _ => None,
        }
    }
}
