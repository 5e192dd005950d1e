//! Identifiers the engine hands out or receives, and the channel enum.
//!
//! Operator and queue ids are stable for the life of the engine: a reload keeps
//! the id of every name it already knew, so adapters may hold them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An operator, interned from the configured id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OperatorId(pub u32);

/// A queue, interned from the configured name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QueueId(pub u32);

/// A request; chosen by the adapter (usually the storage row id) before the
/// engine hears of it, so that it can be stored before it is acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId(pub u64);

/// One offer of one request to one operator; handed out by the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OfferId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

impl fmt::Display for OfferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "o{}", self.0)
    }
}

/// How a request reached us.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Chat,
    Mail,
    Form,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Phone, Channel::Chat, Channel::Mail, Channel::Form];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Chat => "chat",
            Channel::Mail => "mail",
            Channel::Form => "form",
        }
    }

    /// Live channels are offered and must be accepted within a deadline;
    /// mail and forms are assigned at once by rotation.
    pub fn is_live(self) -> bool {
        matches!(self, Channel::Phone | Channel::Chat)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value per channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerChannel<T>(pub [T; 4]);

impl<T> PerChannel<T> {
    pub fn get(&self, channel: Channel) -> &T {
        &self.0[channel.index()]
    }

    pub fn get_mut(&mut self, channel: Channel) -> &mut T {
        &mut self.0[channel.index()]
    }
}
