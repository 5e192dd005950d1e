//! The CRM's data as the rest of the daemon sees it: what arrives (`NewRequest`),
//! what the store answers, and the records the admin API shows. Plain data.

use serde::Serialize;

use crate::engine::Channel;

/// Milliseconds since the Unix epoch, as stored.
pub type Millis = i64;

/// How a customer can be recognised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// `phone` (E.164), `email` (lower-case) or `chat` (`source:user`).
    pub kind: String,
    pub value: String,
}

impl Identity {
    pub fn phone(e164: String) -> Identity {
        Identity {
            kind: "phone".into(),
            value: e164,
        }
    }
    pub fn email(address: String) -> Identity {
        Identity {
            kind: "email".into(),
            value: address,
        }
    }
    pub fn chat(source: &str, user: &str) -> Identity {
        Identity {
            kind: "chat".into(),
            value: format!("{source}:{user}"),
        }
    }
}

/// How an arrival finds the conversation it belongs to.
#[derive(Clone, Debug)]
pub enum Thread {
    /// A chat user of a source: their open conversation, if any.
    Chat { source: String, user: String },
    /// A mail: the conversation of any Message-ID it refers to.
    Mail { refers_to: Vec<String> },
    /// Always a new conversation (forms).
    New,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadKind {
    Lead,
    Deal,
}

impl LeadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadKind::Lead => "lead",
            LeadKind::Deal => "deal",
        }
    }
}

/// What to create in the CRM for this arrival.
#[derive(Clone, Debug)]
pub enum LeadPlan {
    /// A lead only when the customer is new (chat, mail, calls on routes with `create_lead`).
    IfUnknown,
    /// No lead (calls on routes without `create_lead`).
    Never,
    /// Always, with these fields (forms).
    Always { kind: LeadKind, fields: serde_json::Value },
}

/// Everything one incoming request brings; stored in one transaction.
#[derive(Clone, Debug)]
pub struct NewRequest {
    pub channel: Channel,
    pub queue: String,
    /// The chat source, mailbox or form it came through.
    pub origin: String,
    /// Who the sender is, as far as they told or the tracker found.
    pub name: Option<String>,
    pub identities: Vec<Identity>,
    pub thread: Thread,
    /// The peer inside the origin: chat user, mail sender, form name.
    pub external_id: String,
    pub subject: Option<String>,
    pub author: String,
    pub body: String,
    /// The mail's own Message-ID, remembered for replies.
    pub message_id: Option<String>,
    pub lead: LeadPlan,
    pub at: Millis,
}

/// What the store made of an arrival.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// A new request, to be announced to the engine.
    Opened(OpenRequest),
    /// A message for a conversation whose request is still open.
    Appended {
        conversation: i64,
        request: i64,
        /// Who holds the request, if anybody does (per the last record).
        operator: Option<String>,
    },
}

/// A request that is not finished, as the engine must know it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenRequest {
    pub request: i64,
    pub conversation: Option<i64>,
    pub customer: i64,
    pub channel: Channel,
    pub queue: String,
    pub waiting_since: Millis,
    /// Who should get it first: the operator who held it (after a restart),
    /// the thread's operator, or the customer's responsible.
    pub responsible: Option<String>,
    /// The customer's name as the CRM knows it (an operator's phone shows it).
    pub customer_name: Option<String>,
}

/// How a request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestEnd {
    Closed,
    Abandoned,
    /// Nobody took it; a callback task is created.
    Missed {
        reason: String,
    },
}

/// One thing the recorder writes down; `Store::record` takes them in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// The request is assigned to the operator.
    Assigned { request: i64, operator: String, at: Millis },
    /// The request moved away from the operator (transfer).
    Transferred { request: i64, from: String, at: Millis },
    /// The request is finished; its conversation closes with it.
    Ended { request: i64, end: RequestEnd, at: Millis },
    /// The request's customer gets a new responsible operator.
    Responsible { request: i64, operator: String, at: Millis },
    /// The rotation pointers (queue, operator) as they are now.
    Rotation(Vec<(String, String)>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conversation {
    pub id: i64,
    pub channel: String,
    pub origin: String,
    pub external_id: String,
    pub customer: i64,
    pub subject: Option<String>,
    pub operator: Option<String>,
    pub closed_at: Option<Millis>,
    /// The request that is open for it, if any.
    pub open_request: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: i64,
    pub direction: String,
    pub author: String,
    pub body: String,
    pub at: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lead {
    pub id: i64,
    pub customer: i64,
    pub kind: String,
    pub channel: String,
    pub origin: String,
    pub request: Option<i64>,
    pub fields: serde_json::Value,
    pub created_at: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Activity {
    pub kind: String,
    pub request: Option<i64>,
    pub operator: Option<String>,
    pub detail: String,
    pub at: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallbackTask {
    pub id: i64,
    pub customer: i64,
    pub request: Option<i64>,
    pub operator: Option<String>,
    pub reason: String,
    pub recording: Option<String>,
    pub created_at: Millis,
}

/// A customer with everything the admin look-up shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomerCard {
    pub id: i64,
    pub name: Option<String>,
    pub responsible: Option<String>,
    pub identities: Vec<Identity>,
    pub leads: Vec<Lead>,
    pub activities: Vec<Activity>,
    pub callbacks: Vec<CallbackTask>,
}

/// Enough about a request for an operator's offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestSummary {
    pub request: i64,
    pub channel: String,
    pub queue: String,
    pub conversation: Option<i64>,
    pub customer: i64,
    pub customer_name: Option<String>,
    pub subject: Option<String>,
    /// The customer's latest message.
    pub preview: Option<String>,
}
