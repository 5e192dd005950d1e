//! The engine's own view of configuration: plain values, no serde, no files.
//!
//! `config/` turns the TOML file into an `EngineSetup`; tests build one by hand.
//! Durations are in milliseconds.

use super::ids::{Channel, PerChannel};
use serde::{Deserialize, Serialize};

/// Everything the engine needs to route.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EngineSetup {
    pub operators: Vec<OperatorSetup>,
    pub queues: Vec<QueueSetup>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OperatorSetup {
    /// The configured id; the engine interns it to an `OperatorId`.
    pub name: String,
    /// Simultaneous requests per channel; `None` means no limit.
    pub capacity: PerChannel<Option<u32>>,
    /// An operator on a phone call (or with one ringing) gets no other channel.
    pub phone_blocks_others: bool,
    /// Pickup groups.
    pub groups: Vec<String>,
}

impl OperatorSetup {
    /// An operator with the usual capacities: one call, three chats, mail and forms unlimited.
    pub fn new(name: &str) -> OperatorSetup {
        OperatorSetup {
            name: name.to_string(),
            capacity: PerChannel([Some(1), Some(3), None, None]),
            phone_blocks_others: true,
            groups: Vec::new(),
        }
    }
}

/// How a queue picks operators for live requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Always from the top of the list.
    InOrder,
    /// Continue after whoever got the last request.
    Evenly,
    /// Every eligible operator at once; the first accept wins.
    All,
    /// The eligible operator who has been free the longest.
    LongestIdle,
}

/// What the queue's maximum per operator counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LimitCounts {
    /// Every open request (offered, assigned, answered).
    Open,
    /// Offered or assigned requests the operator has not answered yet.
    Unanswered,
    /// Answered requests that are not closed yet (plus pending offers, which reserve).
    Answered,
}

/// What happens to a request nobody took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissedAction {
    Voicemail,
    Forward(String),
    /// Overflow into another queue by name, keeping the waiting time.
    Queue(String),
    Hangup,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueueSetup {
    pub name: String,
    pub channels: Vec<Channel>,
    /// Operator names, in order.
    pub operators: Vec<String>,
    pub mode: Mode,
    /// How long an offer on this channel waits for an answer.
    pub offer_timeout_ms: PerChannel<u64>,
    pub check_availability: bool,
    /// Maximum simultaneous requests of this queue per operator; `None`: no limit.
    pub max_per_operator: Option<u32>,
    pub limit_counts: LimitCounts,
    /// Offer a known customer to their responsible operator first.
    pub responsible_first: bool,
    /// How long a known customer waits for the responsible before the queue takes over.
    pub responsible_wait_ms: u64,
    pub transfer_changes_responsible: bool,
    pub pickup_allowed: bool,
    pub wrap_up_ms: u64,
    /// Waiting longer than this runs the missed action; `None`: wait forever.
    pub max_wait_ms: Option<u64>,
    /// More waiting requests than this: the newcomer gets the missed action.
    pub max_length: Option<u32>,
    /// Pause between two rounds over the list once every operator was tried.
    pub retry_ms: u64,
    pub missed: MissedAction,
    /// Service-level target: answered within this long. Not a routing rule;
    /// carried here so metrics follow reloads.
    pub service_level_ms: u64,
    /// Pause an operator who let this many offers in a row ring out.
    pub auto_pause_after: Option<u32>,
}

impl QueueSetup {
    /// A queue with plain defaults, handy for tests.
    pub fn new(name: &str, channels: &[Channel], operators: &[&str], mode: Mode) -> QueueSetup {
        QueueSetup {
            name: name.to_string(),
            channels: channels.to_vec(),
            operators: operators.iter().map(|o| o.to_string()).collect(),
            mode,
            offer_timeout_ms: PerChannel([15_000, 30_000, 30_000, 30_000]),
            check_availability: true,
            max_per_operator: None,
            limit_counts: LimitCounts::Open,
            responsible_first: true,
            responsible_wait_ms: 20_000,
            transfer_changes_responsible: false,
            pickup_allowed: false,
            wrap_up_ms: 0,
            max_wait_ms: Some(300_000),
            max_length: None,
            retry_ms: 5_000,
            missed: MissedAction::Hangup,
            service_level_ms: 20_000,
            auto_pause_after: None,
        }
    }
}
