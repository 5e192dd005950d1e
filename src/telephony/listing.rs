//! What `GET /api/v1/calls` shows a supervisor's wallboard: every call the
//! telephony task holds, with its caller, number, queue, where it stands,
//! the operator talking in it, since when, and whether it is recorded or
//! supervised. Built on request (`Input::ListCalls`), nothing kept for it.

use serde::Serialize;

use super::Telephony;
use super::call::{Call, Phase};
use crate::crm::Millis;

/// One call as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct CallView {
    pub call_id: String,
    pub request: Option<u64>,
    /// The caller's number (or an operator's extension).
    pub caller: String,
    pub caller_name: Option<String>,
    /// The number dialled.
    pub number: String,
    pub queue: Option<String>,
    /// `storing`, `queued`, `bridged`, `picked_up`, `voicemail`,
    /// `forwarding`, `forwarded`, `handing_over`, `confirming`.
    pub phase: &'static str,
    /// The operator talking with the caller.
    pub operator: Option<String>,
    pub on_hold: bool,
    pub recorded: bool,
    /// The operator paused the recording.
    pub recording_paused: bool,
    pub supervisor: Option<String>,
    /// `listen`, `whisper` or `join`.
    pub supervision: Option<&'static str>,
    pub started_at: Millis,
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Storing | Phase::LeftWhileStoring => "storing",
        Phase::Queued => "queued",
        Phase::Bridged(_) => "bridged",
        Phase::PickedUp => "picked_up",
        Phase::Voicemail => "voicemail",
        Phase::Forwarding => "forwarding",
        Phase::Forwarded => "forwarded",
        Phase::HandingOver => "handing_over",
        Phase::Confirming => "confirming",
    }
}

impl Telephony {
    /// Every call now, oldest first.
    pub(super) fn list_calls(&self) -> Vec<CallView> {
        let name = |id| self.ctx.engine.operator_name(id).map(|n| n.to_string());
        let mut views: Vec<CallView> = self
            .calls
            .iter()
            .map(|(call_id, call): (&str, &Call)| {
                let operator = match call.phase {
                    Phase::Bridged(offer) => call.legs.get(&offer).map(|leg| leg.operator),
                    Phase::PickedUp => self.pickups.picker_operator(call_id),
                    _ => None,
                };
                let supervision = self.supervisions.of_call(call_id);
                CallView {
                    call_id: call_id.to_string(),
                    request: call.request.map(|r| r.0),
                    caller: call.from.clone(),
                    caller_name: call.caller_name.clone(),
                    number: call.number.clone(),
                    queue: call.queue.as_deref().map(str::to_string),
                    phase: phase_name(call.phase),
                    operator: operator.and_then(name),
                    on_hold: call.on_hold.is_some(),
                    recorded: call.recorded,
                    recording_paused: call.recording_paused,
                    supervisor: supervision.and_then(|(supervisor, _)| name(supervisor)),
                    supervision: supervision.map(|(_, mode)| mode.name()),
                    started_at: call.started_at,
                }
            })
            .collect();
        views.sort_by(|a, b| a.started_at.cmp(&b.started_at).then_with(|| a.call_id.cmp(&b.call_id)));
        views
    }
}
