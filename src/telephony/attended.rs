//! Attended transfers: an operator consults a colleague on an internal call
//! (`internal.rs`), then sends REFER on the customer's call with a Refer-To
//! whose `Replaces` (RFC 3891) names that consultation. When the colleague
//! has answered it, they take the customer's call over: the transferring
//! operator's side of the consultation ends (BYE), the colleague's phone is
//! free again for the engine, and the transfer goes to the colleague
//! (whatever user the Refer-To names). The engine's offer to them is
//! dialled with `Replaces` naming their side of the consultation
//! (`DialTarget::Replacing`), so their phone swaps calls without ringing
//! (one without Replaces rings it as a second call). Once that leg answers,
//! fails or is withdrawn, or after `HANDOVER_WAIT`, the consultation's last
//! leg is dropped. Only the transferring operator's own consultation is
//! handed over. A consultation not answered yet ends (BYE to both) and the
//! transfer goes on blindly to the Refer-To.

use std::collections::HashMap;
use std::time::Duration;

use super::call::{Phase, Purpose, Transferor};
use super::{Input, Telephony};
use crate::engine::{Event, OperatorId, RequestId};
use crate::sip::CallCommand;
use crate::sip::wire::uri::unescape;

/// How long a colleague's consultation leg waits for the customer's call
/// to replace it (the engine's decision and offer take milliseconds; a
/// phone without Replaces rings meanwhile).
const HANDOVER_WAIT: Duration = Duration::from_secs(30);

/// A consultation whose colleague is to take over a transferred request.
struct Handover {
    /// The consultation's Call-ID (the transferring operator's call).
    consultation: String,
    /// The colleague's leg in it, which the customer's call replaces.
    leg: String,
    colleague: OperatorId,
}

/// Hand-overs under way, by the request being transferred.
#[derive(Default)]
pub(crate) struct Handovers {
    by_request: HashMap<RequestId, Handover>,
}

/// The Call-ID a Refer-To's `Replaces` header names (RFC 3891), if any.
pub(super) fn replaced_call_id(refer_to: &str) -> Option<String> {
    let (_, headers) = refer_to.split_once('?')?;
    let replaces = headers.split('&').find_map(|header| {
        let (name, value) = header.split_once('=')?;
        name.eq_ignore_ascii_case("replaces").then(|| unescape(value))
    })?;
    let call_id = replaces.split(';').next()?.trim();
    (!call_id.is_empty()).then(|| call_id.to_string())
}

impl Telephony {
    /// The operator moving `request` (on the call `call_id`).
    async fn transferring_operator(
        &mut self,
        call_id: &str,
        request: RequestId,
        transferor: &Transferor,
    ) -> Option<OperatorId> {
        if let Transferor::Operator(offer) = transferor {
            return Some(self.calls.get_mut(call_id)?.legs.get(offer)?.operator);
        }
        self.ctx
            .engine
            .query(move |e| {
                let name = e.request_view(request)?.operator?;
                e.operator_id(&name)
            })
            .await
            .flatten()
    }

    /// The transfer of `request` on the call `customer` names the
    /// consultation `call_id`: the colleague who answered it (their
    /// operator name) takes the call over; `None` when there is nobody to
    /// hand over to (the consultation, if any, has ended and the Refer-To
    /// decides). Only the transferring operator's own consultation counts.
    pub(super) async fn attended(
        &mut self,
        call_id: &str,
        customer: &str,
        request: RequestId,
        transferor: &Transferor,
    ) -> Option<String> {
        let transferring = self.transferring_operator(customer, request, transferor).await;
        let Some(call) = self
            .calls
            .get_mut(call_id)
            .filter(|call| transferring.is_some_and(|operator| call.phones_in_use.contains(&operator)))
        else {
            tracing::info!(%call_id, "attended transfer: no consultation call of this operator, transferring blindly");
            return None;
        };
        let colleague = match &call.gateway {
            Some(gateway) if gateway.answered && call.phase == Phase::Forwarded => match gateway.purpose {
                Purpose::Internal { callee } => callee,
                _ => None,
            },
            _ => None,
        };
        let (Some(colleague), Some(gateway)) = (colleague, call.gateway.as_ref()) else {
            self.end_consultation(call_id);
            return None;
        };
        let name = self.ctx.engine.operator_name(colleague)?.to_string();
        let leg = gateway.name.clone();
        call.phase = Phase::HandingOver;
        call.phones_in_use.retain(|operator| *operator != colleague);
        if let Err(error) = call.media.release_leg(call.caller) {
            tracing::debug!(%call_id, %error, "consultation's caller media already gone");
        }
        self.ctx.engine.send(Event::PhoneInUse {
            operator: colleague,
            in_use: false,
        });
        let _ = self.control.send(CallCommand::Hangup {
            call_id: call_id.to_string(),
        });
        self.handovers.by_request.insert(
            request,
            Handover {
                consultation: call_id.to_string(),
                leg: leg.clone(),
                colleague,
            },
        );
        let loopback = self.loopback.clone();
        tokio::spawn(async move {
            tokio::time::sleep(HANDOVER_WAIT).await;
            let _ = loopback.send(Input::HandoverOver(request));
        });
        tracing::info!(%call_id, %leg, colleague = %name, request = request.0, "attended transfer: handing the call over");
        Some(name)
    }

    /// The colleague's consultation leg the offer of `request` to
    /// `operator` replaces, if it is a hand-over's.
    pub(super) fn replacing(&self, request: RequestId, operator: OperatorId) -> Option<String> {
        self.handovers
            .by_request
            .get(&request)
            .filter(|handover| handover.colleague == operator)
            .map(|handover| handover.leg.clone())
    }

    /// The hand-over of `request` is over (the replacing leg answered,
    /// failed or was withdrawn, or it waited long enough): the
    /// consultation's last leg goes.
    pub(super) fn handover_over(&mut self, request: RequestId) {
        let Some(handover) = self.handovers.by_request.remove(&request) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&handover.consultation) else {
            return;
        };
        if call.phase != Phase::HandingOver {
            return;
        }
        if call.gateway.take().is_some() {
            let _ = self.control.send(CallCommand::DropLeg {
                leg: handover.leg.clone(),
            });
        }
        self.remove_call(&handover.consultation);
        tracing::info!(consultation = %handover.consultation, leg = %handover.leg, request = request.0, "attended transfer: consultation call over");
    }

    /// Ends the internal call `call_id` (both sides get BYE) if it is one:
    /// a consultation whose colleague has not answered.
    fn end_consultation(&mut self, call_id: &str) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let Some(gateway) = call.gateway.take_if(|g| matches!(g.purpose, Purpose::Internal { .. })) else {
            return;
        };
        let _ = self.control.send(CallCommand::DropLeg { leg: gateway.name });
        let _ = self.control.send(CallCommand::Hangup {
            call_id: call_id.to_string(),
        });
        self.remove_call(call_id);
        tracing::info!(%call_id, "attended transfer: consultation call ended");
    }
}

#[cfg(test)]
mod tests {
    use super::replaced_call_id;

    #[test]
    fn replaces_names_the_consultation_call() {
        assert_eq!(
            replaced_call_id("sip:105@acdd.example?Replaces=c1%40phone%3Bto-tag%3Dx%3Bfrom-tag%3Dy").as_deref(),
            Some("c1@phone")
        );
        assert_eq!(
            replaced_call_id("sip:105@acdd.example?X-Other=1&replaces=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(replaced_call_id("sip:105@acdd.example"), None);
        assert_eq!(replaced_call_id("sip:105@acdd.example?Replaces="), None);
    }
}
