//! The table of calls the telephony task holds: each inbound call by its
//! Call-ID, with the engine's request once stored, its media session, the
//! caller's and each ringing operator's legs, the leg through the outbound
//! gateway (forward, transfer outside), and where it stands.

use std::collections::HashMap;

use crate::engine::{OfferId, OperatorId, RequestId};
use crate::media::{LegId, MediaSession};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Being stored and announced; no request id yet.
    Storing,
    /// The engine holds it; the caller hears ringback.
    Queued,
    /// The caller left while it was being stored: abandon it once known.
    LeftWhileStoring,
    /// Bridged with this offer's operator.
    Bridged(OfferId),
    /// An operator picked it up with their own INVITE (bridged with it).
    PickedUp,
    /// Nobody took it (the request has ended): the caller hears a greeting or
    /// an announcement, or is recorded.
    Voicemail,
    /// The caller waits for the outbound gateway's leg to answer (missed-call
    /// `forward`, or a transfer outside whose operator already left); the
    /// engine's request has ended.
    Forwarding,
    /// Bridged with the outbound gateway's leg; the request has ended.
    Forwarded,
    /// An internal call whose calling operator left in an attended
    /// transfer: the colleague's leg waits for the customer's call to
    /// replace it (`attended.rs`).
    HandingOver,
    /// A workday code (`workday_codes.rs`) or a caller's callback request
    /// (`callback_key.rs`): the phone hears a confirmation tone, then BYE.
    Confirming,
}

/// Why acdd dials out through the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// The caller's only leg: its failure hangs the caller up.
    Forward,
    /// An operator's call to a colleague (`internal.rs`): the colleague's
    /// leg; its failure status is the calling phone's answer. `callee` is
    /// the colleague, whose phone is in use once they answer.
    Internal { callee: Option<OperatorId> },
    /// An operator's own call to `number` outside (`outside.rs`): failure is
    /// the calling phone's answer; an answer completes the customer's
    /// callback tasks.
    Outside { operator: String, number: String },
    /// A transfer outside by an operator still talking with the caller:
    /// failure keeps them talking (and NOTIFYs the operator).
    Transfer { from: Transferor },
}

/// The operator who moves a call on (REFER or the API).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Transferor {
    /// The operator on this offer's leg, which acdd dialled.
    Operator(OfferId),
    /// An operator who picked the call up: their own call's Call-ID.
    Picker(String),
}

/// The call's leg through the outbound gateway.
pub(crate) struct GatewayLeg {
    /// The leg's name in SIP commands (`acdd-g<n>`).
    pub name: String,
    pub media: LegId,
    pub purpose: Purpose,
    pub answered: bool,
}

/// How a supervisor takes part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Hears caller and operator; nobody hears them.
    Listen,
    /// Hears both; the operator hears them too.
    Whisper,
    /// A three-way call.
    Join,
}

impl Mode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Listen => "listen",
            Mode::Whisper => "whisper",
            Mode::Join => "join",
        }
    }
}

/// A supervisor in the call (`supervision.rs`): their media leg, the
/// operator's, and how they take part.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SupervisorLeg {
    pub leg: LegId,
    pub operator_leg: LegId,
    pub mode: Mode,
}

/// One operator being rung (or talking) for a call.
pub(crate) struct OperatorLeg {
    pub operator: OperatorId,
    pub media: LegId,
    /// The operator's SDP answer, once they picked up.
    pub answer: Option<Vec<u8>>,
}

pub(crate) struct Call {
    pub request: Option<RequestId>,
    pub phase: Phase,
    pub media: MediaSession,
    pub caller: LegId,
    /// The caller as the trunk sent it (for the operator's display).
    pub from: String,
    /// The caller's name in the CRM, once the call is stored (the display
    /// name of the INVITEs acdd sends for it).
    pub caller_name: Option<String>,
    /// The dialled number.
    pub number: String,
    /// The caller got a 2xx.
    pub answered: bool,
    /// Operator legs, added through `Calls::add_leg`.
    pub legs: HashMap<OfferId, OperatorLeg>,
    /// Every offer that rang on this call (the `Calls::by_offer` entries to
    /// drop with it).
    pub offers_rung: Vec<OfferId>,
    /// The leg through the outbound gateway, if one is dialled.
    pub gateway: Option<GatewayLeg>,
    /// Referred-By of the transfer that moved this call (for the next
    /// operator's INVITE, RFC 3892).
    pub referred_by: Option<String>,
    /// Operators whose phone this call keeps busy outside the engine's
    /// requests (an internal call: `Event::PhoneInUse`), freed with it.
    pub phones_in_use: Vec<OperatorId>,
    /// The leg of the caller's counterpart while it holds the call
    /// (`reoffer.rs`): the caller hears the queue's music until it resumes.
    pub on_hold: Option<LegId>,
    /// A recording of the call was started (`recording.rs`).
    pub recorded: bool,
    /// The recording keeps silence for now (the operator paused it).
    pub recording_paused: bool,
    /// The operator's keys so far towards `*1` (`recording.rs`).
    pub pause_keys: super::pause_keys::PauseKeys,
    /// The queue of the call's latest assignment.
    pub queue: Option<std::sync::Arc<str>>,
    /// A supervisor's leg in the call (`supervision.rs`).
    pub supervisor: Option<SupervisorLeg>,
    /// When the call came in (milliseconds since the epoch).
    pub started_at: crate::crm::Millis,
}

#[derive(Default)]
pub(crate) struct Calls {
    by_call_id: HashMap<String, Call>,
    by_request: HashMap<RequestId, String>,
    /// The call of every offer that rang on it, until the call is removed
    /// (a leg released earlier leaves its entry until then).
    by_offer: HashMap<OfferId, String>,
}

/// The name of an operator leg in SIP commands.
pub(crate) fn leg_name(offer: OfferId) -> String {
    format!("acdd-{offer}")
}

/// The offer a leg name stands for.
pub(crate) fn offer_of(leg: &str) -> Option<OfferId> {
    leg.strip_prefix("acdd-o")?.parse().ok().map(OfferId)
}

impl Calls {
    pub fn insert(&mut self, call_id: &str, call: Call) {
        self.by_call_id.insert(call_id.to_string(), call);
        self.count_active();
    }

    fn count_active(&self) {
        metrics::gauge!("acdd_calls_active").set(self.by_call_id.len() as f64);
    }

    pub fn get(&self, call_id: &str) -> Option<&Call> {
        self.by_call_id.get(call_id)
    }

    pub fn get_mut(&mut self, call_id: &str) -> Option<&mut Call> {
        self.by_call_id.get_mut(call_id)
    }

    pub fn set_request(&mut self, call_id: &str, request: RequestId) {
        if let Some(call) = self.by_call_id.get_mut(call_id) {
            call.request = Some(request);
            self.by_request.insert(request, call_id.to_string());
        }
    }

    pub fn call_id_of(&self, request: RequestId) -> Option<&str> {
        self.by_request.get(&request).map(String::as_str)
    }

    /// An operator leg rings on the call for this offer.
    pub fn add_leg(&mut self, call_id: &str, offer: OfferId, leg: OperatorLeg) {
        if let Some(call) = self.by_call_id.get_mut(call_id) {
            call.legs.insert(offer, leg);
            call.offers_rung.push(offer);
            self.by_offer.insert(offer, call_id.to_string());
        }
    }

    /// The call ringing or talking to this offer's operator.
    pub fn by_offer(&mut self, offer: OfferId) -> Option<(String, &mut Call)> {
        let call_id = self.by_offer.get(&offer)?;
        let call = self.by_call_id.get_mut(call_id)?;
        call.legs.contains_key(&offer).then(|| (call_id.clone(), call))
    }

    /// The call whose gateway leg has this name.
    pub fn by_gateway(&mut self, name: &str) -> Option<(String, &mut Call)> {
        self.by_call_id
            .iter_mut()
            .find(|(_, call)| call.gateway.as_ref().is_some_and(|g| g.name == name))
            .map(|(id, call)| (id.clone(), call))
    }

    /// The engine is done with the call's request (missed, or closed when
    /// transferred outside): later ends of the call send it nothing.
    pub fn detach_request(&mut self, call_id: &str) -> Option<RequestId> {
        let request = self.by_call_id.get_mut(call_id)?.request.take()?;
        self.by_request.remove(&request);
        Some(request)
    }

    /// Forgets the call; its media session stops in the background.
    pub fn remove(&mut self, call_id: &str) -> Option<Option<RequestId>> {
        let call = self.by_call_id.remove(call_id)?;
        if let Some(request) = call.request {
            self.by_request.remove(&request);
        }
        for offer in &call.offers_rung {
            self.by_offer.remove(offer);
        }
        tokio::spawn(call.media.stop());
        self.count_active();
        Some(call.request)
    }

    /// Whether some call stands in this phase.
    /// Every call with its Call-ID.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Call)> {
        self.by_call_id.iter().map(|(id, call)| (id.as_str(), call))
    }

    pub fn any_in(&self, phase: Phase) -> bool {
        self.by_call_id.values().any(|call| call.phase == phase)
    }

    pub fn len(&self) -> usize {
        self.by_call_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leg_names_carry_their_offer() {
        assert_eq!(offer_of(&leg_name(OfferId(42))), Some(OfferId(42)));
        assert_eq!(offer_of("other"), None);
    }
}
