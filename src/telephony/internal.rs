//! Calls operators make from their phones. To a colleague's extension: it
//! rings every registered phone of the colleague (one leg beside the
//! caller, as a call through the gateway: `Purpose::Internal`). To a number
//! outside (`outside.rs`): through the outbound gateway (`Purpose::Outside`).
//! The answer bridges the two; a refusal or no answer within the gateway's
//! ring time (`sip.outbound_ring_seconds`) is the calling phone's answer; a
//! BYE from either side ends both. Such a call is no request and joins no
//! queue; the engine only hears that the phones are in use
//! (`Event::PhoneInUse`, the caller's from the start, a colleague's from
//! the answer, both freed when the call ends), so neither is offered a call
//! meanwhile. A routed number queues the operator like any caller. Any
//! other number an operator dials (not a pickup or workday code, see
//! `pickup.rs`, `workday_codes.rs`) gets 404; their own extension 486.

use std::time::Duration;

use super::Telephony;
use super::call::{Phase, Purpose};
use crate::engine::Event;
use crate::sip::{CallCommand, DialTarget, IncomingCall};

/// Whom an operator's call goes to.
enum Callee {
    /// A colleague, by operator id.
    Colleague(String),
    /// A number outside, through the gateway.
    Outside(String),
}

impl Telephony {
    /// An operator dialled a routed number: they wait in its queue like any
    /// caller, shown by their extension, their phone busy for the engine
    /// from the start (so the queue never offers them their own call).
    async fn operator_queues(&mut self, call: IncomingCall, operator: &str) {
        let name = operator.to_string();
        let id = self.ctx.engine.query(move |e| e.operator_id(&name)).await.flatten();
        if let Some(id) = id {
            self.ctx.engine.send(Event::PhoneInUse {
                operator: id,
                in_use: true,
            });
        }
        let extension = self
            .ctx
            .config
            .load()
            .operators
            .iter()
            .find(|o| o.id.get_ref() == operator)
            .and_then(|o| o.extension.as_ref().map(|e| e.get_ref().clone()))
            .unwrap_or_default();
        tracing::info!(call_id = %call.call_id, %operator, number = %call.number, "operator's call to a queue");
        metrics::counter!("acdd_operator_calls_total", "kind" => "queue").increment(1);
        let call_id = call.call_id.clone();
        let taken = self.queue_call(call, extension);
        match (id, self.calls.get_mut(&call_id)) {
            (Some(id), Some(kept)) if taken => kept.phones_in_use.push(id),
            (Some(id), _) => {
                self.ctx.engine.send(Event::PhoneInUse {
                    operator: id,
                    in_use: false,
                });
            }
            (None, _) => {}
        }
    }

    pub(super) async fn operator_call(&mut self, call: IncomingCall, operator: &str) {
        if super::supervision::supervision_code(&call.number).is_some() {
            self.supervise(call, operator).await;
            return;
        }
        if self.routed(&call.number) {
            self.operator_queues(call, operator).await;
            return;
        }
        let colleague = self.operator_with_extension(&call.number);
        let ring = Duration::from_secs((*self.ctx.config.load().sip.outbound_ring_seconds.get_ref()).into());
        let callee = match colleague {
            Some(colleague) if colleague != operator => Callee::Colleague(colleague),
            None if self.reaches_outside(&call.number) => Callee::Outside(call.number.clone()),
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
        let colleague = match &callee {
            Callee::Colleague(colleague) => Some(colleague.clone()),
            Callee::Outside(_) => None,
        };
        let ids = self.operator_ids(operator.to_string(), colleague).await;
        if !self.take_call(&call, Phase::Forwarding) {
            return;
        }
        // The caller's phone is busy from now on, a colleague's once they answer.
        if let (Some(caller), Some(kept)) = (ids.0, self.calls.get_mut(&call.call_id)) {
            kept.phones_in_use.push(caller);
            self.ctx.engine.send(Event::PhoneInUse {
                operator: caller,
                in_use: true,
            });
        }
        // A colleague's phone shows the caller's extension and name; a number
        // outside, the company's number if one is configured.
        let (extension, caller_id) = {
            let config = self.ctx.config.load();
            let extension = config
                .operators
                .iter()
                .find(|o| o.id.get_ref() == operator)
                .and_then(|o| o.extension.as_ref().map(|e| e.get_ref().clone()));
            let caller_id = config.sip.outbound_caller_id.as_ref().map(|c| c.get_ref().clone());
            (extension, caller_id)
        };
        let (shown, name, target, purpose) = match callee {
            Callee::Colleague(colleague) => {
                tracing::info!(call_id = %call.call_id, %operator, callee = %colleague, "internal call");
                metrics::counter!("acdd_operator_calls_total", "kind" => "colleague").increment(1);
                (
                    extension,
                    Some(operator.to_string()),
                    Ok(DialTarget::Operator(colleague)),
                    Purpose::Internal { callee: ids.1 },
                )
            }
            Callee::Outside(number) => {
                tracing::info!(call_id = %call.call_id, %operator, %number, "operator's call outside");
                metrics::counter!("acdd_operator_calls_total", "kind" => "outside").increment(1);
                (
                    caller_id.or(extension),
                    None,
                    self.outside_target(&number),
                    Purpose::Outside {
                        operator: operator.to_string(),
                        number,
                    },
                )
            }
        };
        if let Some(kept) = self.calls.get_mut(&call.call_id) {
            if let Some(shown) = shown {
                kept.from = shown;
            }
            kept.caller_name = name;
        }
        let _ = self.control.send(CallCommand::Respond {
            call_id: call.call_id.clone(),
            status: 180,
            sdp: None,
        });
        let dialled = target.and_then(|target| self.dial_out(&call.call_id, target, ring, purpose, None));
        if let Err(status) = dialled {
            let _ = self.control.send(CallCommand::Respond {
                call_id: call.call_id.clone(),
                status,
                sdp: None,
            });
            self.remove_call(&call.call_id);
        }
    }
}
