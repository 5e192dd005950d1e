//! The seam between SIP and telephony: an authorised INVITE becomes an
//! `IncomingCall` handed to an `IncomingCalls` implementation, which answers
//! with a verdict. Until the telephony layer exists, `NoTelephony` refuses
//! every call cleanly: 404 for a number without a route, 480 otherwise.

use std::collections::HashSet;

/// Who is calling, as established by the front door.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Trunk(String),
    Operator(String),
}

#[derive(Clone, Debug)]
pub struct IncomingCall {
    pub caller: Caller,
    /// The dialled number: the Request-URI user part, unescaped.
    pub number: String,
    pub from: String,
    pub call_id: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallVerdict {
    /// Refuse the call with this final status.
    Reject { status: u16 },
}

pub trait IncomingCalls: Send {
    fn offer(&mut self, call: &IncomingCall) -> CallVerdict;
}

/// Stands in for the telephony layer: answers every call with a final
/// failure so no INVITE transaction is left open.
pub struct NoTelephony {
    routed: HashSet<String>,
}

impl NoTelephony {
    pub fn new(routed: HashSet<String>) -> NoTelephony {
        NoTelephony { routed }
    }
}

impl IncomingCalls for NoTelephony {
    fn offer(&mut self, call: &IncomingCall) -> CallVerdict {
        let status = if self.routed.contains(&call.number) { 480 } else { 404 };
        tracing::info!(caller = ?call.caller, number = %call.number, status, "incoming call refused: no telephony layer yet");
        CallVerdict::Reject { status }
    }
}
