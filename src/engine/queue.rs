//! One queue as the engine tracks it: its setup, its members in order, which
//! of them may take a request now (per channel), the requests waiting for an
//! operator, and the rotation pointer.

use std::collections::BTreeSet;

use super::ids::{OperatorId, PerChannel, RequestId};
use super::setup::QueueSetup;
use super::time::Time;

/// Ordering key of a waiting request: oldest first, ties by id.
pub(crate) type WaitKey = (Time, RequestId);

pub(crate) struct QueueState {
    pub setup: QueueSetup,
    /// Dropped by a reload: takes no new arrivals, serves what it holds.
    pub removed: bool,
    /// Operators in configured order; a position is an index into this list.
    pub members: Vec<OperatorId>,
    /// Positions of members who may take one more request of this channel now.
    pub eligible: PerChannel<BTreeSet<u32>>,
    /// The same members keyed by how long they have been idle (`longest_idle` only).
    pub idle_order: PerChannel<BTreeSet<(Time, u32)>>,
    /// Requests an operator may be offered now, oldest first.
    pub waiting: PerChannel<BTreeSet<WaitKey>>,
    /// Position of whoever got the last request (`evenly`, mail and form rotation).
    pub pointer: Option<u32>,
    /// Requests in this queue that nobody holds yet.
    pub length: u32,
}

impl QueueState {
    pub fn new(setup: QueueSetup, members: Vec<OperatorId>) -> QueueState {
        QueueState {
            setup,
            removed: false,
            members,
            eligible: PerChannel::default(),
            idle_order: PerChannel::default(),
            waiting: PerChannel::default(),
            pointer: None,
            length: 0,
        }
    }

    pub fn position_of(&self, operator: OperatorId) -> Option<u32> {
        self.members.iter().position(|m| *m == operator).map(|p| p as u32)
    }

    pub fn member(&self, position: u32) -> OperatorId {
        self.members[position as usize]
    }
}
