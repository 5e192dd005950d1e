//! One operator as the engine tracks them: presence, workday, wrap-up and load.
//!
//! The rules "may this operator take one more request of this queue and
//! channel" live here (`has_room`, `is_available`); the engine keeps the
//! per-queue indexes in step whenever they may have changed.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use super::event::{Presence, Workday};
use super::ids::{Channel, PerChannel, QueueId, RequestId};
use super::setup::{LimitCounts, OperatorSetup, QueueSetup};
use super::time::Time;

/// What an operator holds of one queue, for the queue's per-operator limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct QueueLoad {
    pub offers: u32,
    pub unanswered: u32,
    pub answered: u32,
}

impl QueueLoad {
    pub fn counted(&self, rule: LimitCounts) -> u32 {
        // Pending offers always count: an offer is a reservation.
        self.offers
            + match rule {
                LimitCounts::Open => self.unanswered + self.answered,
                LimitCounts::Unanswered => self.unanswered,
                LimitCounts::Answered => self.answered,
            }
    }

    pub fn is_empty(&self) -> bool {
        self.offers == 0 && self.unanswered == 0 && self.answered == 0
    }
}

pub(crate) struct OperatorState {
    pub setup: OperatorSetup,
    /// Dropped by a reload: gets nothing new, keeps what it holds until closed.
    pub removed: bool,
    pub presence: Presence,
    pub phone_reachable: bool,
    /// Calls on the operator's phone that acdd did not distribute.
    pub calls_outside: u32,
    pub workday: Workday,
    pub wrapping_up: bool,
    pub wrap_up_until: Time,
    /// Offers plus assignments, per channel.
    pub load: PerChannel<u32>,
    pub queue_load: FxHashMap<QueueId, QueueLoad>,
    /// Since when the operator holds nothing (for `longest_idle`).
    pub idle_since: Time,
    /// The `idle_since` under which the operator sits in `longest_idle` indexes.
    pub indexed_idle_since: Time,
    /// Known customers' requests waiting for this operator as their responsible.
    pub reserved: BTreeSet<(Time, RequestId)>,
    /// Queues listing this operator, with the position in each list.
    pub memberships: Vec<(QueueId, u32)>,
    pub assignments_total: u64,
    pub no_answers_total: u64,
    /// Offers rung out since the last accept (auto-pause).
    pub no_answers_in_a_row: u32,
}

impl OperatorState {
    pub fn new(setup: OperatorSetup) -> OperatorState {
        OperatorState {
            setup,
            removed: false,
            presence: Presence::Offline,
            phone_reachable: false,
            calls_outside: 0,
            workday: Workday::NotStarted,
            wrapping_up: false,
            wrap_up_until: Time::ZERO,
            load: PerChannel::default(),
            queue_load: FxHashMap::default(),
            idle_since: Time::ZERO,
            indexed_idle_since: Time::ZERO,
            reserved: BTreeSet::new(),
            memberships: Vec::new(),
            assignments_total: 0,
            no_answers_total: 0,
            no_answers_in_a_row: 0,
        }
    }

    pub fn total_load(&self) -> u32 {
        self.load.0.iter().sum()
    }

    pub fn serves(&self, channel: Channel) -> bool {
        *self.setup.capacity.get(channel) != Some(0)
    }

    /// Whether the operator counts as present for this queue and channel.
    /// Mail and forms only look at the workday; live channels at everything.
    pub fn is_available(&self, queue: &QueueSetup, channel: Channel) -> bool {
        if !queue.check_availability {
            return true;
        }
        let working = self.workday == Workday::Started;
        if !channel.is_live() {
            return working;
        }
        working
            && self.presence == Presence::Online
            && !self.wrapping_up
            && (channel != Channel::Phone || self.phone_reachable)
    }

    /// Whether one more request of this queue and channel fits: the channel
    /// capacity, a call outside acdd on the phone, the phone blocking other
    /// channels, and the queue's own limit.
    pub fn has_room(&self, queue_id: QueueId, queue: &QueueSetup, channel: Channel) -> bool {
        if self
            .setup
            .capacity
            .get(channel)
            .is_some_and(|capacity| *self.load.get(channel) >= capacity)
        {
            return false;
        }
        let phone_busy = *self.load.get(Channel::Phone) > 0 || self.calls_outside > 0;
        if channel == Channel::Phone && self.calls_outside > 0 {
            return false;
        }
        if channel != Channel::Phone && self.setup.phone_blocks_others && phone_busy {
            return false;
        }
        // The reverse does not hold: an operator in a chat may still take a call.
        if let Some(max) = queue.max_per_operator {
            let held = self.queue_load.get(&queue_id).copied().unwrap_or_default();
            if held.counted(queue.limit_counts) >= max {
                return false;
            }
        }
        true
    }

    /// Everything together: may the engine offer or assign this operator a
    /// request of this queue and channel now?
    pub fn is_eligible(&self, queue_id: QueueId, queue: &QueueSetup, channel: Channel) -> bool {
        !self.removed
            && self.serves(channel)
            && self.has_room(queue_id, queue, channel)
            && self.is_available(queue, channel)
    }

    pub fn queue_load_mut(&mut self, queue: QueueId) -> &mut QueueLoad {
        self.queue_load.entry(queue).or_default()
    }

    /// Drops the per-queue entry once nothing is held, so the map stays small.
    pub fn tidy_queue_load(&mut self, queue: QueueId) {
        if self.queue_load.get(&queue).is_some_and(|l| l.is_empty()) {
            self.queue_load.remove(&queue);
        }
    }

    pub fn shares_group_with(&self, other: &OperatorState) -> bool {
        self.setup.groups.iter().any(|g| other.setup.groups.contains(g))
    }
}
