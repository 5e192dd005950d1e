//! Calls between operators: an operator's INVITE to a colleague's extension
//! rings every registered phone of the colleague (one leg beside the
//! caller, as a call through the gateway: `Purpose::Internal`). The answer
//! bridges the two; a refusal or no answer within the gateway's ring time
//! (`sip.outbound_ring_seconds`) is the calling phone's answer; a BYE from
//! either side ends both. An internal call is no request and joins no
//! queue; the engine only hears that both phones are in use
//! (`Event::PhoneInUse`, the caller's from the start, the colleague's from
//! the answer, both freed when the call ends), so neither is offered a call
//! meanwhile. Any other number an operator dials (not a
//! pickup code, see `pickup.rs`) gets 404; their own extension 486.

use std::time::Duration;

use super::Telephony;
use super::call::{Phase, Purpose};
use crate::engine::Event;
use crate::sip::{CallCommand, DialTarget, IncomingCall};

impl Telephony {
    pub(super) async fn operator_call(&mut self, call: IncomingCall, operator: &str) {
        let (callee, ring) = {
            let config = self.ctx.config.load();
            let callee = config
                .operators
                .iter()
                .find(|o| o.extension.as_ref().is_some_and(|e| *e.get_ref() == call.number))
                .map(|o| o.id.get_ref().clone());
            (
                callee,
                Duration::from_secs((*config.sip.outbound_ring_seconds.get_ref()).into()),
            )
        };
        let callee = match callee {
            Some(callee) if callee != operator => callee,
            other => {
                let status = if other.is_some() { 486 } else { 404 };
                tracing::info!(%operator, number = %call.number, status, "operator's call refused");
                let _ = self.control.send(CallCommand::Respond {
                    call_id: call.call_id,
                    status,
                    sdp: None,
                });
                return;
            }
        };
        let names = (operator.to_string(), callee.clone());
        let ids = self
            .ctx
            .engine
            .query(move |e| (e.operator_id(&names.0), e.operator_id(&names.1)))
            .await
            .unwrap_or_default();
        if !self.take_call(&call, Phase::Forwarding) {
            return;
        }
        // The caller's phone is busy from now on, the colleague's once they answer.
        if let (Some(caller), Some(kept)) = (ids.0, self.calls.get_mut(&call.call_id)) {
            kept.phones_in_use.push(caller);
            self.ctx.engine.send(Event::PhoneInUse {
                operator: caller,
                in_use: true,
            });
        }
        tracing::info!(call_id = %call.call_id, %operator, %callee, "internal call");
        // The colleague's phone shows the caller's extension.
        let extension = self
            .ctx
            .config
            .load()
            .operators
            .iter()
            .find(|o| o.id.get_ref() == operator)
            .and_then(|o| o.extension.as_ref().map(|e| e.get_ref().clone()));
        if let (Some(extension), Some(call)) = (extension, self.calls.get_mut(&call.call_id)) {
            call.from = extension;
        }
        let _ = self.control.send(CallCommand::Respond {
            call_id: call.call_id.clone(),
            status: 180,
            sdp: None,
        });
        if let Err(status) = self.dial_out(
            &call.call_id,
            DialTarget::Operator(callee),
            ring,
            Purpose::Internal { callee: ids.1 },
            None,
        ) {
            let _ = self.control.send(CallCommand::Respond {
                call_id: call.call_id.clone(),
                status,
                sdp: None,
            });
            self.remove_call(&call.call_id);
        }
    }
}
