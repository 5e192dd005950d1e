//! Everything that can happen to the engine, as adapters report it.

use super::ids::{Channel, OfferId, OperatorId, QueueId, RequestId};
use super::setup::EngineSetup;
use super::time::Time;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Event {
    /// A new request, already stored by the adapter under `request`.
    Arrived(Arrival),
    /// The operator took the offer (phone: 200 OK; chat: accept).
    Accepted {
        offer: OfferId,
    },
    /// The operator said no (phone: 486/603; chat: decline).
    Declined {
        offer: OfferId,
    },
    /// The offer could not be delivered or was not answered (phone: 408/480/503).
    Failed {
        offer: OfferId,
        reason: FailReason,
    },
    /// The operator answered the customer (first reply); matters for limit counting.
    Answered {
        request: RequestId,
    },
    /// The request is finished; the operator goes to wrap-up.
    Closed {
        request: RequestId,
    },
    /// The customer left before anybody took the request.
    Abandoned {
        request: RequestId,
    },
    /// The customer stopped waiting to be called back instead (a caller's
    /// callback key): it ends like an abandon, but is no abandon in figures.
    CallbackRequested {
        request: RequestId,
    },
    /// An assigned request moves to another operator or queue.
    Transfer {
        request: RequestId,
        to: TransferTarget,
    },
    /// An operator takes a request that is ringing elsewhere.
    Pickup {
        operator: OperatorId,
        target: PickupTarget,
    },
    Presence {
        operator: OperatorId,
        presence: Presence,
    },
    /// Whether any SIP contact of the operator is registered and answers.
    PhoneReachable {
        operator: OperatorId,
        reachable: bool,
    },
    Workday {
        operator: OperatorId,
        workday: Workday,
    },
    /// The operator's phone starts (`in_use`) or ends a call that acdd did
    /// not distribute (a call between operators): meanwhile their phone
    /// takes no offer, and with `phone_blocks_others` no other channel does.
    PhoneInUse {
        operator: OperatorId,
        in_use: bool,
    },
    /// Nothing happened but time passed: fire due deadlines.
    Tick,
    /// A new configuration; requests and operators by the same name keep their state.
    Reconfigure(Box<EngineSetup>),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Arrival {
    pub request: RequestId,
    pub channel: Channel,
    pub queue: QueueId,
    /// The known customer's responsible operator, if any.
    pub responsible: Option<OperatorId>,
    /// When the customer started waiting; earlier than now for recovered or
    /// overflowed requests. `None`: now.
    pub waiting_since: Option<Time>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailReason {
    /// Rang out, or 408/480.
    NoAnswer,
    /// Could not be delivered (no contact, 503, transport error).
    Unreachable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferTarget {
    Operator(OperatorId),
    Queue(QueueId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PickupTarget {
    /// The oldest request ringing for anybody in the picker's groups.
    Group,
    /// The request ringing for this operator.
    Operator(OperatorId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Presence {
    Offline,
    Online,
    Away,
    DoNotDisturb,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Workday {
    NotStarted,
    Started,
    Paused { reason: String },
    Ended,
}
