//! Call pickup: an operator's INVITE to `*8` (a call ringing in their
//! groups) or `**EXT` (the call ringing for that extension) becomes
//! `Event::Pickup`; the engine answers with `Assign` (via pickup, after
//! withdrawing the ringing offers) or `Note::PickupRefused` (404). On the
//! assignment the picker's INVITE gets a leg in the call's media session,
//! both sides get 200 with acdd's SDP and are bridged; a BYE from either
//! side ends both (`Closed`).

use std::collections::HashMap;

use super::Telephony;
use super::call::{Phase, Transferor};
use crate::engine::{Event, OperatorId, PickupTarget, RequestId};
use crate::media::LegId;
use crate::sip::{CallCommand, IncomingCall};

/// The group pickup code.
pub const GROUP_PICKUP: &str = "*8";
/// The prefix of a directed pickup (`**101`).
pub const DIRECTED_PICKUP: &str = "**";

pub(crate) fn is_pickup(number: &str) -> bool {
    number == GROUP_PICKUP || number.strip_prefix(DIRECTED_PICKUP).is_some_and(|ext| !ext.is_empty())
}

#[derive(Default)]
pub(crate) struct Pickups {
    /// Pickup INVITEs waiting for the engine, by picker.
    waiting: HashMap<OperatorId, IncomingCall>,
    /// Answered pickup legs: picker's Call-ID → caller's Call-ID, the
    /// picker's media leg in the caller's session, and the picker.
    bridged: HashMap<String, (String, LegId, OperatorId)>,
}

impl Pickups {
    pub fn waiting(&self, operator: OperatorId) -> bool {
        self.waiting.contains_key(&operator)
    }

    /// The picker's Call-ID of a picked-up call.
    pub fn picker_of(&self, caller: &str) -> Option<String> {
        Some(
            self.bridged
                .iter()
                .find(|(_, (c, _, _))| c.as_str() == caller)?
                .0
                .clone(),
        )
    }

    /// The caller's Call-ID of the call `picker` picked up.
    pub fn picked_by(&self, picker: &str) -> Option<String> {
        self.bridged.get(picker).map(|(caller, _, _)| caller.clone())
    }

    /// The picker's media leg in the picked-up call's session.
    pub fn picker_leg(&self, picker: &str) -> Option<LegId> {
        self.bridged.get(picker).map(|(_, leg, _)| *leg)
    }

    /// Who picked up the call of `caller` (a Call-ID).
    pub fn picker_operator(&self, caller: &str) -> Option<OperatorId> {
        self.bridged
            .values()
            .find(|(c, _, _)| c.as_str() == caller)
            .map(|(_, _, operator)| *operator)
    }

    /// The call `operator` picked up (the caller's Call-ID) and their leg in it.
    pub fn picked_by_operator(&self, operator: OperatorId) -> Option<(String, LegId)> {
        self.bridged
            .values()
            .find(|(_, _, picker)| *picker == operator)
            .map(|(caller, leg, _)| (caller.clone(), *leg))
    }

    /// The picker's call leaves the picked-up call; whether it was in one.
    pub fn end(&mut self, picker: &str) -> bool {
        self.bridged.remove(picker).is_some()
    }
}

impl Telephony {
    pub(super) async fn pickup(&mut self, call: IncomingCall, operator: String) {
        let extension = call.number.strip_prefix(DIRECTED_PICKUP).map(str::to_string);
        let target_name = extension.as_deref().and_then(|ext| self.operator_with_extension(ext));
        let ids = self.operator_ids(operator, target_name).await;
        let (picker, target) = match (ids, extension) {
            ((Some(picker), _), None) => (picker, PickupTarget::Group),
            ((Some(picker), Some(target)), Some(_)) => (picker, PickupTarget::Operator(target)),
            _ => {
                let _ = self.control.send(CallCommand::Respond {
                    call_id: call.call_id,
                    status: 404,
                    sdp: None,
                });
                return;
            }
        };
        if let Some(previous) = self.pickups.waiting.insert(picker, call) {
            let _ = self.control.send(CallCommand::Respond {
                call_id: previous.call_id,
                status: 486,
                sdp: None,
            });
        }
        self.ctx.engine.send(Event::Pickup {
            operator: picker,
            target,
        });
    }

    pub(super) fn pickup_refused(&mut self, operator: OperatorId) {
        if let Some(call) = self.pickups.waiting.remove(&operator) {
            tracing::info!(call_id = %call.call_id, "pickup refused: nothing to pick up");
            let _ = self.control.send(CallCommand::Respond {
                call_id: call.call_id,
                status: 404,
                sdp: None,
            });
        }
    }

    /// The engine assigned the call to the picker.
    pub(super) fn picked_up(&mut self, call_id: &str, request: RequestId, operator: OperatorId) {
        let Some(picker) = self.pickups.waiting.remove(&operator) else {
            return;
        };
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let answered = call.answered;
        let joined = call.media.add_leg().and_then(|leg| {
            call.media.set_remote(leg, &picker.body)?;
            let picker_sdp = call.media.local_sdp(leg)?;
            let caller_sdp = call.media.local_sdp(call.caller)?;
            call.media.bridge(call.caller, leg)?;
            Ok((picker_sdp, caller_sdp, leg))
        });
        match joined {
            Ok((picker_sdp, caller_sdp, leg)) => {
                call.phase = Phase::PickedUp;
                call.answered = true;
                tracing::info!(%call_id, request = request.0, picker = %picker.call_id, "call picked up");
                let _ = self.control.send(CallCommand::Respond {
                    call_id: picker.call_id.clone(),
                    status: 200,
                    sdp: Some(picker_sdp),
                });
                if !answered {
                    let _ = self.control.send(CallCommand::Respond {
                        call_id: call_id.to_string(),
                        status: 200,
                        sdp: Some(caller_sdp),
                    });
                }
                self.pickups
                    .bridged
                    .insert(picker.call_id, (call_id.to_string(), leg, operator));
            }
            Err(error) => {
                tracing::warn!(%call_id, %error, "pickup cannot be bridged: ending the call");
                let _ = self.control.send(CallCommand::Respond {
                    call_id: picker.call_id,
                    status: error.sip_status(),
                    sdp: None,
                });
                let _ = self.control.send(CallCommand::Hangup {
                    call_id: call_id.to_string(),
                });
                self.remove_call(call_id);
                self.ctx.engine.send(Event::Closed { request });
            }
        }
    }

    /// BYE or CANCEL from a picker; true if `call_id` is a pickup leg.
    pub(super) fn picker_left(&mut self, call_id: &str) -> bool {
        if let Some(operator) = self
            .pickups
            .waiting
            .iter()
            .find(|(_, c)| c.call_id == call_id)
            .map(|(o, _)| *o)
        {
            self.pickups.waiting.remove(&operator);
            return true;
        }
        let Some((caller, _, _)) = self.pickups.bridged.remove(call_id) else {
            return false;
        };
        let transferor = Transferor::Picker(call_id.to_string());
        if self.left_during_transfer(&caller, &transferor) || self.left_before_transfer(&caller, &transferor) {
            return true;
        }
        let _ = self.control.send(CallCommand::Hangup {
            call_id: caller.clone(),
        });
        if let Some(Some(request)) = self.remove_call(&caller) {
            tracing::info!(call_id = %caller, request = request.0, "picker hung up");
            self.ctx.engine.send(Event::Closed { request });
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::is_pickup;

    #[test]
    fn pickup_codes() {
        assert!(is_pickup("*8"));
        assert!(is_pickup("**101"));
        assert!(!is_pickup("**"));
        assert!(!is_pickup("+4930111111"));
    }
}
