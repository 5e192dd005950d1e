//! Re-INVITEs on a call's legs (`CallUpdate::Reoffered` from a caller or a
//! picker, `LegEvent::Reoffered` from an operator or the gateway): a phone
//! putting the other side on hold or back, a session-timer refresh, a new
//! media address. The leg's media takes the offer and answers it (the
//! direction mirrored: sendonly → recvonly); a refused offer is 488 and the
//! call goes on as it was. An operator leg not bridged yet answers 491, a
//! leg telephony no longer has 481. When the caller's counterpart (the
//! operator, a picker, the party a call was forwarded to) holds the call,
//! the caller hears the queue's `music_file` if it has one (else whatever
//! the holding phone sends); when they resume, the two are bridged again.

use super::Telephony;
use super::call::{Call, Phase, offer_of};
use super::inbound::hold_music;
use crate::channels::ChannelContext;
use crate::media::{LegId, PlaySource};
use crate::sip::{CallCommand, ReofferDialog};

/// The status and SDP that answer a re-offer on `leg` of `call` (no offer:
/// the leg's current description, as an offer the ACK answers).
fn answer(call: &mut Call, leg: LegId, offer: &[u8]) -> (u16, Option<Vec<u8>>) {
    let answered = if offer.is_empty() {
        call.media.local_sdp(leg)
    } else {
        call.media
            .set_remote(leg, offer)
            .and_then(|()| call.media.local_sdp(leg))
    };
    match answered {
        Ok(sdp) => (200, Some(sdp)),
        Err(error) => {
            tracing::info!(%error, "re-INVITE refused");
            (error.sip_status(), None)
        }
    }
}

/// After the caller's counterpart on `leg` re-offered: on hold, the
/// caller hears the queue's music; back, the two hear each other again.
fn follow_hold(ctx: &ChannelContext, call: &mut Call, leg: LegId) {
    let holds = call.media.holds(leg);
    if holds == (call.on_hold == Some(leg)) {
        return;
    }
    call.on_hold = holds.then_some(leg);
    if holds {
        metrics::counter!("acdd_holds_total").increment(1);
    }
    let result = match (holds, hold_music(ctx, &call.number)) {
        (true, Some(music)) => call.media.play(call.caller, PlaySource::Music(music)).map(drop),
        (true, None) => Ok(()),
        (false, _) => call
            .media
            .bridge(call.caller, leg)
            .and_then(|()| match call.supervisor {
                // A supervisor whispering or joined is heard again.
                Some(supervisor_leg) if supervisor_leg.operator_leg == leg => {
                    super::supervision::mix(call, supervisor_leg)
                }
                _ => Ok(()),
            }),
    };
    match result {
        Ok(()) => tracing::info!(number = %call.number, holds, "the caller's counterpart holds or resumes"),
        Err(error) => tracing::warn!(number = %call.number, holds, %error, "hold or resume not followed"),
    }
}

impl Telephony {
    /// A re-INVITE from the caller of `call_id`, or from a picker's call.
    pub(super) fn caller_reoffered(&mut self, call_id: &str, offer: &[u8]) {
        if let Some((supervised, leg)) = self.supervisions.leg_of(call_id) {
            let (status, sdp) = match self.calls.get_mut(&supervised) {
                Some(call) => answer(call, leg, offer),
                None => (481, None),
            };
            let dialog = ReofferDialog::Caller(call_id.to_string());
            let _ = self.control.send(CallCommand::AnswerReoffer { dialog, status, sdp });
            return;
        }
        let picked = self.pickups.picked_by(call_id).zip(self.pickups.picker_leg(call_id));
        let (status, sdp) = match picked {
            Some((caller, leg)) => match self.calls.get_mut(&caller) {
                Some(call) => {
                    let answered = answer(call, leg, offer);
                    follow_hold(&self.ctx, call, leg);
                    answered
                }
                None => (481, None),
            },
            None => match self.calls.get_mut(call_id) {
                Some(call) => {
                    let leg = call.caller;
                    answer(call, leg, offer)
                }
                None => (481, None),
            },
        };
        tracing::debug!(%call_id, status, "caller's re-INVITE answered");
        let dialog = ReofferDialog::Caller(call_id.to_string());
        let _ = self.control.send(CallCommand::AnswerReoffer { dialog, status, sdp });
    }

    /// A re-INVITE from an operator's leg or the gateway's.
    pub(super) fn leg_reoffered(&mut self, name: &str, offer: &[u8]) {
        let (status, sdp) = match offer_of(name) {
            Some(offer_id) => match self.calls.by_offer(offer_id) {
                Some((_, call)) if call.phase != Phase::Bridged(offer_id) => (491, None),
                Some((_, call)) => match call.legs.get(&offer_id).map(|l| l.media) {
                    Some(leg) => {
                        let answered = answer(call, leg, offer);
                        follow_hold(&self.ctx, call, leg);
                        answered
                    }
                    None => (481, None),
                },
                None => (481, None),
            },
            None => match self.calls.by_gateway(name) {
                Some((_, call)) => match call.gateway.as_ref().map(|g| g.media) {
                    Some(leg) => {
                        let answered = answer(call, leg, offer);
                        follow_hold(&self.ctx, call, leg);
                        answered
                    }
                    None => (481, None),
                },
                None => (481, None),
            },
        };
        tracing::debug!(leg = %name, status, "leg's re-INVITE answered");
        let dialog = ReofferDialog::Leg(name.to_string());
        let _ = self.control.send(CallCommand::AnswerReoffer { dialog, status, sdp });
    }
}
