//! Bridging: on the engine's `Assign` of a call, the operator leg that
//! answered gets its SDP answer, the caller and the operator hear each
//! other through the media session, and the caller gets a 200 OK with
//! acdd's SDP (if not answered yet). A BYE from the operator ends the call:
//! the caller gets BYE, the engine `Closed`, the media session stops.

use super::Telephony;
use super::call::{Phase, Transferor};
use crate::engine::{Event, OfferId, OperatorId, RequestId};
use crate::sip::CallCommand;

impl Telephony {
    pub(super) fn assign(&mut self, request: RequestId, operator: OperatorId) {
        let Some(call_id) = self.calls.call_id_of(request).map(str::to_string) else {
            return;
        };
        if self.pickups.waiting(operator) {
            self.picked_up(&call_id, request, operator);
            return;
        }
        let Some(call) = self.calls.get_mut(&call_id) else {
            return;
        };
        let Some((&offer, leg)) = call
            .legs
            .iter()
            .find(|(_, leg)| leg.operator == operator && leg.answer.is_some())
        else {
            tracing::warn!(%call_id, "assigned, but no answered leg of that operator");
            return;
        };
        let (media, answer) = (leg.media, leg.answer.clone().unwrap_or_default());
        let bridged = call
            .media
            .set_remote(media, &answer)
            .and_then(|()| call.media.local_sdp(call.caller))
            .and_then(|sdp| call.media.bridge(call.caller, media).map(|()| sdp));
        match bridged {
            Ok(sdp) => {
                call.phase = Phase::Bridged(offer);
                tracing::debug!(%call_id, %offer, request = request.0, "call bridged");
                if !call.answered {
                    call.answered = true;
                    let _ = self.control.send(CallCommand::Respond {
                        call_id,
                        status: 200,
                        sdp: Some(sdp),
                    });
                }
            }
            Err(error) => {
                tracing::warn!(%call_id, %error, "cannot bridge: ending the call");
                let _ = self.control.send(CallCommand::DropLeg {
                    leg: super::call::leg_name(offer),
                });
                let _ = self.control.send(CallCommand::Hangup {
                    call_id: call_id.clone(),
                });
                self.remove_call(&call_id);
                self.ctx.engine.send(Event::Closed { request });
            }
        }
    }

    /// The operator sent BYE on an answered leg.
    pub(super) fn operator_hung_up(&mut self, offer: OfferId) {
        let Some((call_id, call)) = self.calls.by_offer(offer) else {
            return;
        };
        if call.phase != Phase::Bridged(offer) {
            super::ring::release(&call_id, call, offer);
            return;
        }
        let transferor = Transferor::Operator(offer);
        if self.left_during_transfer(&call_id, &transferor) || self.left_before_transfer(&call_id, &transferor) {
            return;
        }
        let _ = self.control.send(CallCommand::Hangup {
            call_id: call_id.clone(),
        });
        if let Some(Some(request)) = self.remove_call(&call_id) {
            tracing::debug!(%call_id, request = request.0, "operator hung up");
            self.ctx.engine.send(Event::Closed { request });
        }
    }
}
