//! Everything the engine asks adapters to do, and what it tells the event log.

use super::ids::{Channel, OfferId, OperatorId, QueueId, RequestId};
use super::setup::MissedAction;
use super::time::Time;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Propose the request to the operator until `deadline` (phone: ring them).
    Offer {
        offer: OfferId,
        request: RequestId,
        operator: OperatorId,
        queue: QueueId,
        channel: Channel,
        deadline: Time,
    },
    /// The offer is off (phone: CANCEL the leg).
    Withdraw {
        offer: OfferId,
        request: RequestId,
        operator: OperatorId,
        reason: WithdrawReason,
    },
    /// The request is the operator's now (phone: bridge).
    Assign {
        request: RequestId,
        operator: OperatorId,
        queue: QueueId,
        channel: Channel,
        via: AssignVia,
    },
    /// An accept that came too late or is not the operator's to make
    /// (phone: ACK and BYE the late 200 OK).
    RefuseAccept { offer: OfferId, reason: Refusal },
    /// Nobody took the request: the adapter runs this (voicemail, forward, hang up).
    /// Overflow into another queue never shows up here; the engine does it.
    RunMissed {
        request: RequestId,
        queue: QueueId,
        action: MissedAction,
        reason: MissedReason,
    },
    /// Make the operator the customer's responsible (CRM).
    ChangeResponsible { request: RequestId, operator: OperatorId },
    /// For the event log and metrics; nothing to do on the wire.
    Note(Note),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WithdrawReason {
    /// Somebody else accepted (ring-all) or picked it up.
    TakenElsewhere,
    /// Nobody answered within the deadline.
    Timeout,
    /// The customer left.
    Abandoned,
    /// The request ran out of waiting time or moved queue.
    Missed,
    /// The operator was removed by a reload.
    Reconfigured,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssignVia {
    /// An operator accepted an offer.
    Offer,
    /// Mail or form rotation: assigned without an offer.
    Rotation,
    /// Mail or form from a known customer: straight to the responsible.
    Responsible,
    Pickup,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The offer was withdrawn or never existed.
    UnknownOffer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissedReason {
    MaxWait,
    QueueFull,
    /// Overflow would loop back into a queue the request already visited.
    OverflowLoop,
    /// The queue has no operator left (all removed by a reload).
    NoOperators,
}

/// Facts for the event log and metrics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Note {
    Queued {
        request: RequestId,
        queue: QueueId,
        channel: Channel,
    },
    Overflowed {
        request: RequestId,
        from: QueueId,
        to: QueueId,
    },
    Abandoned {
        request: RequestId,
        queue: QueueId,
        waited_ms: u64,
        /// The customer asked to be called back (`Event::CallbackRequested`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        callback: bool,
    },
    Closed {
        request: RequestId,
        operator: OperatorId,
    },
    Declined {
        offer: OfferId,
        operator: OperatorId,
    },
    NoAnswer {
        offer: OfferId,
        operator: OperatorId,
    },
    Transferred {
        request: RequestId,
        from: OperatorId,
    },
    /// The event referred to something the engine does not know or forbids.
    Ignored {
        what: Cow<'static, str>,
    },
    /// The operator let too many offers ring out in a row and is paused
    /// (reason `no_answer`) until they resume.
    AutoPaused {
        operator: OperatorId,
    },
    /// Pickup found nothing to pick up (or the queue forbids it).
    PickupRefused {
        operator: OperatorId,
    },
}
