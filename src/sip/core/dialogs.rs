//! Inbound calls that telephony took (`CallVerdict::Pending`): the INVITE's
//! server transaction stays open until telephony answers through
//! `CallCommand`s; the caller's CANCEL, the ACK of our 2xx and BYE from the
//! caller are reported back through `IncomingCalls::update`; a hang-up from
//! our side is a 480 before the answer and a BYE after it.

use std::time::{Duration, Instant};

use super::SipCore;
use crate::sip::calls::{CallCommand, CallUpdate};
use crate::sip::transaction::key::TransactionKey;
use crate::sip::transport::Path;
use crate::sip::wire::name_addr::parse_name_addr;
use crate::sip::wire::route::route_lines;
use crate::sip::wire::{Request, ResponseBuilder, reason_phrase};

/// How long a BYE we send may go unanswered.
const BYE_TIMEOUT: Duration = Duration::from_secs(32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No final response yet.
    Early,
    /// 2xx sent; the dialog lives until a BYE.
    Answered,
}

pub(in crate::sip) struct InboundLeg {
    invite: Request,
    key: TransactionKey,
    path: Path,
    to_tag: String,
    state: State,
    /// The CSeq of our last request in this dialog (NOTIFY, BYE).
    cseq: u32,
}

impl InboundLeg {
    /// Whether an in-dialog request from the caller names this answered
    /// dialog: its From tag is the INVITE's, its To tag ours.
    pub(super) fn in_this_dialog(&self, request: &Request) -> bool {
        self.state == State::Answered
            && request.to.tag() == Some(self.to_tag.as_str())
            && request.from.tag() == self.invite.from.tag()
    }

    /// Our next request in this dialog, without a body (`Content-Length: 0`
    /// ends it): to the caller's Contact, our To as From, a fresh CSeq, the
    /// INVITE's Record-Route as the route set (in order: we are the UAS).
    fn in_dialog(&mut self, method: &str, branch: &str, local: std::net::SocketAddr) -> String {
        let headers = &self.invite.headers;
        let target = headers
            .get("contact")
            .and_then(|c| parse_name_addr(c).ok())
            .map(|c| c.uri_text)
            .unwrap_or_else(|| self.invite.from.uri_text.clone());
        let ours = headers.get("to").unwrap_or_default();
        let theirs = headers.get("from").unwrap_or_default();
        self.cseq += 1;
        format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/{} {local};branch={branch};rport\r\nMax-Forwards: 70\r\n\
             {}From: {ours};tag={}\r\nTo: {theirs}\r\nCall-ID: {}\r\nCSeq: {} {method}\r\nUser-Agent: acdd\r\n\
             Content-Length: 0\r\n\r\n",
            self.path.transport().name(),
            route_lines(headers.elements("record-route")),
            self.to_tag,
            self.invite.call_id,
            self.cseq
        )
    }
}

impl SipCore {
    /// Keeps a `Pending` INVITE and tells the caller we are working on it.
    pub(super) fn hold_invite(&mut self, request: &Request, key: &TransactionKey, path: Path) {
        let to_tag = self.new_tag();
        let trying = ResponseBuilder::new(&request.headers, 100, "Trying", &to_tag).build();
        self.reply(key, path, 100, trying);
        self.inbound_legs.insert(
            request.call_id.clone(),
            InboundLeg {
                invite: request.clone(),
                key: key.clone(),
                path,
                to_tag,
                state: State::Early,
                cseq: 0,
            },
        );
    }

    pub(super) fn call_command(&mut self, command: CallCommand) {
        match command {
            CallCommand::Respond { call_id, status, sdp } => self.respond_call(&call_id, status, sdp),
            CallCommand::Hangup { call_id } => match self.inbound_legs.get(&call_id).map(|l| l.state) {
                Some(State::Early) => self.respond_call(&call_id, 480, None),
                Some(State::Answered) => self.send_bye(&call_id),
                None => {}
            },
            CallCommand::Dial {
                leg,
                target,
                caller,
                caller_name,
                sdp,
                referred_by,
            } => self.dial(
                leg,
                &target,
                (&caller, caller_name.as_deref()),
                sdp,
                referred_by.as_deref(),
            ),
            CallCommand::DropLeg { leg } => self.drop_leg(&leg),
            CallCommand::Notify { leg, status } => self.notify_refer(&leg, status),
            CallCommand::NotifyCaller { call_id, status } => self.notify_caller_refer(&call_id, status),
            CallCommand::AnswerReoffer { dialog, status, sdp } => self.answer_reoffer(&dialog, status, sdp),
        }
    }

    fn respond_call(&mut self, call_id: &str, status: u16, sdp: Option<Vec<u8>>) {
        let Some(leg) = self.inbound_legs.get(call_id) else {
            return;
        };
        if leg.state != State::Early || !(101..700).contains(&status) {
            return;
        }
        let contact = self.outbound.contact_for(leg.path);
        let mut response = ResponseBuilder::new(&leg.invite.headers, status, reason_phrase(status), &leg.to_tag);
        if status < 300
            && let Some(contact) = contact
        {
            response = response.header("Contact", &contact);
        }
        if status < 300 {
            // What the dialog may carry: no UPDATE, so session timers
            // refresh with re-INVITE (RFC 4028 §7.1).
            response = response.header("Allow", super::dispatch::ALLOW);
        }
        if status < 300 {
            // The dialog's route set goes back to the caller (RFC 3261 §12.1.1).
            for route in leg.invite.headers.all("record-route") {
                response = response.header("Record-Route", route);
            }
        }
        if let Some(sdp) = sdp {
            response = response.body("application/sdp", sdp);
        }
        let (key, path) = (leg.key.clone(), leg.path);
        if status >= 300 {
            self.inbound_legs.remove(call_id);
        } else if status >= 200
            && let Some(leg) = self.inbound_legs.get_mut(call_id)
        {
            leg.state = State::Answered;
        }
        self.reply(&key, path, status, response.build());
    }

    fn send_bye(&mut self, call_id: &str) {
        let Some(mut leg) = self.inbound_legs.remove(call_id) else {
            return;
        };
        let Some(local) = self.outbound.local_for(leg.path) else {
            return;
        };
        let branch = format!("z9hG4bK-b{}", self.new_tag());
        let bytes = leg.in_dialog("BYE", &branch, local).into_bytes();
        self.outbound.send(leg.path, bytes.clone());
        self.byes.start(
            branch,
            bytes,
            leg.path,
            BYE_TIMEOUT,
            call_id.to_string(),
            Instant::now(),
        );
    }

    /// Our next request (without body) in the dialog of an answered
    /// inbound call, with our address and the path it goes by; `None` when
    /// the call is not answered or gone.
    pub(super) fn inbound_request(
        &mut self,
        call_id: &str,
        method: &str,
        branch: &str,
    ) -> Option<(String, std::net::SocketAddr, Path)> {
        let leg = self.inbound_legs.get_mut(call_id)?;
        if leg.state != State::Answered {
            return None;
        }
        let local = self.outbound.local_for(leg.path)?;
        Some((leg.in_dialog(method, branch, local), local, leg.path))
    }

    /// An ACK outside any transaction: the ACK of a 2xx we sent.
    pub(super) fn dialog_ack(&mut self, request: &Request, path: Path) {
        if self.reoffer_ack(request, path) {
            return;
        }
        let Some(leg) = self.inbound_legs.get(&request.call_id) else {
            return;
        };
        if leg.state != State::Answered {
            return;
        }
        let key = leg.key.clone();
        // Stops the 2xx retransmissions of the INVITE transaction.
        self.servers.arrive(&key, "ACK", path, Instant::now());
        self.calls.update(&request.call_id, CallUpdate::Acked);
    }

    /// CANCEL of a pending INVITE: 200 to the CANCEL, 487 to the INVITE.
    pub(super) fn cancel_call(&mut self, request: &Request, key: &TransactionKey, path: Path) -> bool {
        let early = self
            .inbound_legs
            .get(&request.call_id)
            .is_some_and(|leg| leg.state == State::Early && leg.key == TransactionKey::cancelled_invite(request));
        if !early {
            return false;
        }
        self.simple(request, key, path, 200);
        self.respond_call(&request.call_id, 487, None);
        self.calls.update(&request.call_id, CallUpdate::Cancelled);
        true
    }

    /// BYE from the caller of an answered call (or from an operator's leg).
    pub(super) fn bye(&mut self, request: &Request, key: &TransactionKey, path: Path) {
        if self.operator_bye(&request.call_id) {
            self.simple(request, key, path, 200);
            return;
        }
        let answered = self
            .inbound_legs
            .get(&request.call_id)
            .is_some_and(|leg| leg.state == State::Answered && request.to.tag() == Some(leg.to_tag.as_str()));
        if !answered {
            self.simple(request, key, path, 481);
            return;
        }
        self.inbound_legs.remove(&request.call_id);
        self.simple(request, key, path, 200);
        self.calls.update(&request.call_id, CallUpdate::Bye);
    }
}
