//! One request as the engine tracks it, from arrival until it is closed,
//! abandoned or handed to its missed action.

use rustc_hash::FxHashSet;

use super::ids::{Channel, OfferId, OperatorId, QueueId, RequestId};
use super::queue::WaitKey;
use super::time::Time;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// A known customer waiting for their responsible operator only.
    Reserved { operator: OperatorId },
    /// Waiting for any operator of the queue.
    Queued,
    /// Transferred to one operator, who has it on offer.
    Directed { operator: OperatorId },
    /// Somebody holds it.
    Assigned { operator: OperatorId, answered: bool },
}

pub(crate) struct Request {
    pub id: RequestId,
    pub channel: Channel,
    pub queue: QueueId,
    /// When the customer started waiting; orders requests across queues.
    pub waiting_since: Time,
    pub responsible: Option<OperatorId>,
    pub phase: Phase,
    /// Offers out now (several only in `all` mode).
    pub offers: Vec<OfferId>,
    /// Operators offered this request in the current round.
    pub tried: FxHashSet<OperatorId>,
    /// Whether the request sits in its queue's `waiting` index.
    pub indexed: bool,
    /// Set while waiting for the next round over the list.
    pub next_round_at: Option<Time>,
    pub max_wait_at: Option<Time>,
    pub responsible_until: Option<Time>,
    /// Queues this request has been in, for overflow loops.
    pub visited: Vec<QueueId>,
    /// Whoever accepts next becomes the customer's responsible (manual transfer).
    pub responsible_on_accept: bool,
}

impl Request {
    pub fn new(id: RequestId, channel: Channel, queue: QueueId, waiting_since: Time) -> Request {
        Request {
            id,
            channel,
            queue,
            waiting_since,
            responsible: None,
            phase: Phase::Queued,
            offers: Vec::new(),
            tried: FxHashSet::default(),
            indexed: false,
            next_round_at: None,
            max_wait_at: None,
            responsible_until: None,
            visited: vec![queue],
            responsible_on_accept: false,
        }
    }

    pub fn key(&self) -> WaitKey {
        (self.waiting_since, self.id)
    }

    pub fn holder(&self) -> Option<OperatorId> {
        match self.phase {
            Phase::Assigned { operator, .. } => Some(operator),
            _ => None,
        }
    }
}
