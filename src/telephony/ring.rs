//! Operator legs: each engine `Offer` on a phone request rings every
//! registered contact of the operator (an INVITE with acdd's SDP from the
//! call's media session), or replaces a colleague's consultation call
//! (`attended.rs`); `Withdraw` and `RefuseAccept` drop the leg (CANCEL,
//! or ACK+BYE for a late 2xx, done by the SIP core) and free the leg's media
//! ports at once (the call keeps its session). What the operator's
//! phone says goes back to the engine: 2xx `Accepted`, 486/603 `Declined`,
//! anything else `Failed`.

use super::Telephony;
use super::call::{Call, OperatorLeg, leg_name, offer_of};
use crate::engine::{Event, FailReason, OfferId, OperatorId, RequestId};
use crate::sip::{CallCommand, DialTarget, LegEvent};

/// What an operator's final refusal means to the engine.
pub(crate) fn refusal(status: u16, offer: OfferId) -> Event {
    match status {
        486 | 600 | 603 => Event::Declined { offer },
        0 | 404 | 410 | 503 => Event::Failed {
            offer,
            reason: FailReason::Unreachable,
        },
        _ => Event::Failed {
            offer,
            reason: FailReason::NoAnswer,
        },
    }
}

/// Forgets the offer's operator leg and frees its media ports now, while
/// the call goes on (the caller and other operators keep theirs).
pub(super) fn release(call_id: &str, call: &mut Call, offer: OfferId) {
    let Some(leg) = call.legs.remove(&offer) else { return };
    match call.media.release_leg(leg.media) {
        Ok(()) => tracing::debug!(%call_id, %offer, "operator leg's media released"),
        Err(error) => tracing::debug!(%call_id, %offer, %error, "operator leg's media already gone"),
    }
}

impl Telephony {
    pub(super) fn ring(&mut self, offer: OfferId, request: RequestId, operator: OperatorId) {
        let name = self.ctx.engine.operator_name(operator).map(|name| name.to_string());
        let Some(call_id) = self.calls.call_id_of(request).map(str::to_string) else {
            // Not a call this process holds (recovered after a restart): nothing can ring.
            self.ctx.engine.send(Event::Failed {
                offer,
                reason: FailReason::Unreachable,
            });
            return;
        };
        // The colleague of an attended transfer takes the call over their consultation.
        let replacing = self.replacing(request, operator);
        let Some(call) = self.calls.get_mut(&call_id) else {
            return;
        };
        let sdp = call
            .media
            .add_leg()
            .and_then(|leg| Ok((leg, call.media.local_sdp(leg)?)));
        let (Some(name), Ok((media, sdp))) = (name, sdp) else {
            tracing::warn!(%call_id, %offer, "cannot ring the operator (unknown, or no media port)");
            self.ctx.engine.send(Event::Failed {
                offer,
                reason: FailReason::Unreachable,
            });
            return;
        };
        let target = match replacing {
            Some(replacing) => DialTarget::Replacing {
                operator: name,
                replacing,
            },
            None => DialTarget::Operator(name),
        };
        let dial = CallCommand::Dial {
            leg: leg_name(offer),
            target,
            caller: call.from.clone(),
            caller_name: call.caller_name.clone(),
            sdp,
            referred_by: call.referred_by.clone(),
        };
        self.calls.add_leg(
            &call_id,
            offer,
            OperatorLeg {
                operator,
                media,
                answer: None,
            },
        );
        let _ = self.control.send(dial);
    }

    /// The offer is off: stop ringing, or hang up a 2xx the engine refused.
    pub(super) fn withdraw(&mut self, offer: OfferId) {
        // A call already gone dropped its legs as it went (`remove_call`):
        // a second DropLeg here would CANCEL a ringing phone twice.
        let Some((call_id, call)) = self.calls.by_offer(offer) else {
            return;
        };
        release(&call_id, call, offer);
        if let Some(request) = call.request {
            self.handover_over(request);
        }
        let _ = self.control.send(CallCommand::DropLeg { leg: leg_name(offer) });
    }

    pub(super) async fn leg_event(&mut self, leg: &str, event: LegEvent) {
        let Some(offer) = offer_of(leg) else {
            self.gateway_event(leg, event);
            return;
        };
        match event {
            LegEvent::Answered { sdp } => match self.calls.by_offer(offer) {
                Some((_, call)) => {
                    if let Some(leg) = call.legs.get_mut(&offer) {
                        leg.answer = Some(sdp);
                    }
                    let request = call.request;
                    self.ctx.engine.send(Event::Accepted { offer });
                    if let Some(request) = request {
                        self.handover_over(request);
                    }
                }
                // The call is gone: the core hangs the operator up.
                None => {
                    let _ = self.control.send(CallCommand::DropLeg { leg: leg.to_string() });
                }
            },
            LegEvent::Failed { status } => {
                if let Some((call_id, call)) = self.calls.by_offer(offer) {
                    release(&call_id, call, offer);
                    let request = call.request;
                    tracing::info!(%offer, status, "operator leg failed");
                    self.ctx.engine.send(refusal(status, offer));
                    if let Some(request) = request {
                        self.handover_over(request);
                    }
                }
            }
            LegEvent::Ended => self.operator_hung_up(offer),
            LegEvent::Referred { refer_to, referred_by } => self.referred(offer, &refer_to, referred_by).await,
            LegEvent::Reoffered { sdp } => self.leg_reoffered(leg, &sdp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_decline_are_declines_the_rest_failures() {
        let offer = OfferId(1);
        assert!(matches!(refusal(486, offer), Event::Declined { .. }));
        assert!(matches!(refusal(603, offer), Event::Declined { .. }));
        assert!(matches!(
            refusal(480, offer),
            Event::Failed {
                reason: FailReason::NoAnswer,
                ..
            }
        ));
        assert!(matches!(
            refusal(503, offer),
            Event::Failed {
                reason: FailReason::Unreachable,
                ..
            }
        ));
    }
}
