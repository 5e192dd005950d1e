//! The seam between SIP and telephony: an authorised INVITE becomes an
//! `IncomingCall` handed to an `IncomingCalls` implementation, which answers
//! with a verdict: a final refusal at once, or `Pending` (telephony answers
//! later with `CallCommand`s through the core's `CallControl`, and hears of
//! the caller's CANCEL, ACK and BYE through `IncomingCalls::update`).
//! `NoTelephony` refuses every call cleanly: 404 for a number without a
//! route, 480 otherwise.

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
    /// The telephony layer took the call and answers it later by Call-ID.
    Pending,
}

/// What the caller did to a call that went `Pending`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallUpdate {
    /// CANCEL before any final answer (the core answered 200 and 487).
    Cancelled,
    /// The ACK of our 2xx arrived.
    Acked,
    /// BYE after the call was answered (the core answered 200).
    Bye,
    /// REFER in the answered call's dialog (an operator who picked a call
    /// up transfers it): the core answered 202 and a first NOTIFY;
    /// telephony ends the subscription with `CallCommand::NotifyCaller`.
    Referred {
        refer_to: String,
        referred_by: Option<String>,
    },
    /// A re-INVITE in the answered call (hold, resume, a session refresh):
    /// its SDP offer, empty if it has none. Telephony answers with
    /// `CallCommand::AnswerReoffer` (`ReofferDialog::Caller`).
    Reoffered { sdp: Vec<u8> },
}

/// What became of an operator leg telephony dialled (`CallCommand::Dial`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegEvent {
    /// A contact answered 2xx (ACKed by the core; the other contacts are cancelled).
    Answered { sdp: Vec<u8> },
    /// Every contact refused or could not be reached: the most telling status
    /// (486/603 over the rest); 0 when the operator has no contact at all.
    Failed { status: u16 },
    /// The operator hung up an answered leg (the core answered the BYE).
    Ended,
    /// The peer of an answered leg sent REFER (blind transfer, RFC 3515):
    /// the core answered 202 and a first NOTIFY (`100 Trying`); telephony
    /// ends the subscription with `CallCommand::Notify`.
    Referred {
        /// The Refer-To URI (without its `<>`, parameters kept).
        refer_to: String,
        /// The Referred-By header as sent (RFC 3892), if any.
        referred_by: Option<String>,
    },
    /// A re-INVITE on the answered leg: its SDP offer, empty if it has none.
    /// Telephony answers with `CallCommand::AnswerReoffer` (`ReofferDialog::Leg`).
    Reoffered { sdp: Vec<u8> },
}

/// Whose dialog a re-INVITE came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReofferDialog {
    /// The inbound call of this Call-ID (a caller or a picker).
    Caller(String),
    /// The answered fork of the leg acdd dialled (an operator or the gateway).
    Leg(String),
}

/// Whom a `CallCommand::Dial` rings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialTarget {
    /// Every live registered contact of this operator (by id).
    Operator(String),
    /// One INVITE with this Request-URI, sent over UDP to the outbound gateway.
    Gateway { address: std::net::SocketAddr, uri: String },
    /// The phone on the answered fork of the leg `replacing` (a
    /// consultation call with this operator), with a `Replaces` header
    /// naming that dialog (RFC 3891): the phone swaps its call for this one
    /// without ringing. A phone without Replaces rings it as a second call;
    /// if that fork is gone, every contact of the operator rings as for
    /// `Operator`.
    Replacing { operator: String, replacing: String },
}

pub trait IncomingCalls: Send {
    fn offer(&mut self, call: &IncomingCall) -> CallVerdict;
    /// The caller's side of a `Pending` call moved on.
    fn update(&mut self, _call_id: &str, _update: CallUpdate) {}
    /// An operator leg moved on.
    fn leg(&mut self, _leg: &str, _event: LegEvent) {}
}

/// What telephony asks the SIP core to do with a `Pending` inbound call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallCommand {
    /// Send this response to the INVITE (1xx, 2xx or a final error);
    /// `sdp` becomes an `application/sdp` body.
    Respond {
        call_id: String,
        status: u16,
        sdp: Option<Vec<u8>>,
    },
    /// End the call: BYE if answered, else 480.
    Hangup { call_id: String },
    /// Ring `target` (an operator's contacts, or a number through the
    /// gateway) with an INVITE carrying `sdp`; `leg` names the leg in
    /// `LegEvent`s and later commands. The From shows `caller` (a number)
    /// and `caller_name` (the customer's name in the CRM) as its display
    /// name. `referred_by` goes into the INVITE as Referred-By (RFC 3892)
    /// for calls a transfer started.
    Dial {
        leg: String,
        target: DialTarget,
        caller: String,
        caller_name: Option<String>,
        sdp: Vec<u8>,
        referred_by: Option<String>,
    },
    /// Ends the REFER subscription on this answered leg: a NOTIFY whose
    /// `message/sipfrag` body is `SIP/2.0 {status} {reason}`.
    Notify { leg: String, status: u16 },
    /// The same for a REFER the caller of this answered inbound call sent.
    NotifyCaller { call_id: String, status: u16 },
    /// The final answer to a re-INVITE (`CallUpdate::Reoffered`,
    /// `LegEvent::Reoffered`): 2xx with the media's SDP answer, or 488.
    AnswerReoffer {
        dialog: ReofferDialog,
        status: u16,
        sdp: Option<Vec<u8>>,
    },
    /// Stop a leg: CANCEL while it rings, BYE once answered.
    DropLeg { leg: String },
}

/// Telephony's handle on the SIP core; cheap to clone.
pub type CallControl = tokio::sync::mpsc::UnboundedSender<CallCommand>;

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
