//! Blind transfers an operator asks for with REFER (`LegEvent::Referred`
//! from `sip/core/refer.rs`). Telephony only translates: the Refer-To's
//! user part names an operator's extension (`Event::Transfer` to that
//! operator), a routed number (`Event::Transfer` to its queue) or, for any
//! other number, a call outside through the gateway (`gateway.rs`). The
//! engine decides: its `Note::Transferred` completes the transfer (final
//! NOTIFY `200 OK`, BYE to the transferring operator, the caller hears
//! music or ringback until the engine's next `Assign` bridges the new
//! operator); no word from it within `DECISION_WAIT` means it refused, and
//! the operator gets NOTIFY `503` and keeps the call. Whether the new
//! operator becomes the customer's responsible is the engine's
//! `ChangeResponsible` (the source queue's `transfer_changes_responsible`).
//! An operator who picked the call up (`pickup.rs`) transfers it the same
//! way with a REFER in their own call's dialog (`CallUpdate::Referred`); the
//! NOTIFYs and the BYE then go to their call. A transfer asked through the
//! API ends the same way, without the NOTIFY. A REFER from a caller (a
//! trunk) gets NOTIFY `403`: only operators move calls. A Refer-To with
//! `Replaces` is an attended transfer: `attended.rs` hands the call to the
//! colleague the operator consulted.

use std::collections::HashMap;
use std::time::Duration;

use super::attended::replaced_call_id;
use super::call::{Call, Phase, Purpose, Transferor, leg_name};
use super::inbound::{caller_number, ringback_tone, waiting_sound};
use super::{Input, Telephony};
use crate::channels::ChannelContext;
use crate::engine::{Event, OfferId, RequestId, TransferTarget};
use crate::media::PlaySource;
use crate::sip::CallCommand;

/// How long the engine may take to take up a transfer before it counts as
/// refused (its answer normally comes within milliseconds).
const DECISION_WAIT: Duration = Duration::from_secs(5);

/// Transfers sent to the engine and not yet taken up: request → the
/// operator who asked with REFER.
#[derive(Default)]
pub(crate) struct Transfers {
    pending: HashMap<RequestId, Transferor>,
}

impl Transfers {
    /// Drops a pending transfer of `request`; whether there was one.
    pub fn forget(&mut self, request: RequestId) -> bool {
        self.pending.remove(&request).is_some()
    }
}

/// Where a Refer-To points, as configured.
#[derive(Debug, PartialEq, Eq)]
enum Destination {
    /// An operator's extension: the operator's id.
    Operator(String),
    /// A routed number: its queue's name.
    Queue(String),
    /// A number acdd does not route: outside, through the gateway.
    Outside(String),
    Unknown,
}

/// A dialable number: digits with an optional leading `+`, `*` or `#`.
fn is_number(user: &str) -> bool {
    let digits = user.strip_prefix('+').unwrap_or(user);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#')
}

fn destination(config: &crate::config::Config, user: &str) -> Destination {
    if let Some(operator) = config
        .operators
        .iter()
        .find(|o| o.extension.as_ref().is_some_and(|e| e.get_ref() == user))
    {
        return Destination::Operator(operator.id.get_ref().clone());
    }
    if let Some(route) = config.routes.phone.iter().find(|r| r.number.get_ref() == user) {
        return Destination::Queue(route.queue.get_ref().clone());
    }
    if is_number(user) {
        Destination::Outside(user.to_string())
    } else {
        Destination::Unknown
    }
}

impl Telephony {
    /// A NOTIFY of the transferor's REFER with this status.
    pub(super) fn notify(&self, transferor: &Transferor, status: u16) {
        let command = match transferor {
            Transferor::Operator(offer) => CallCommand::Notify {
                leg: leg_name(*offer),
                status,
            },
            Transferor::Picker(call_id) => CallCommand::NotifyCaller {
                call_id: call_id.clone(),
                status,
            },
        };
        let _ = self.control.send(command);
    }

    /// The transferor leaves the call: their leg or picker's call gets BYE.
    pub(super) fn release(&mut self, call_id: &str, transferor: &Transferor) {
        match transferor {
            Transferor::Operator(offer) => {
                if let Some(call) = self.calls.get_mut(call_id) {
                    call.legs.remove(offer);
                }
                let _ = self.control.send(CallCommand::DropLeg { leg: leg_name(*offer) });
            }
            Transferor::Picker(picker) => {
                self.pickups.end(picker);
                let _ = self.control.send(CallCommand::Hangup {
                    call_id: picker.clone(),
                });
            }
        }
    }

    /// The operator of `offer` sent REFER to `refer_to`.
    pub(super) async fn referred(&mut self, offer: OfferId, refer_to: &str, referred_by: Option<String>) {
        let transferor = Transferor::Operator(offer);
        let Some((call_id, call)) = self.calls.by_offer(offer) else {
            self.notify(&transferor, 481);
            return;
        };
        match (call.phase, call.request) {
            (Phase::Bridged(bridged), Some(request)) if bridged == offer => {
                self.transfer_asked(call_id, request, transferor, refer_to, referred_by)
                    .await
            }
            _ => {
                tracing::info!(%call_id, %offer, "REFER on a leg that is not bridged: refused");
                self.notify(&transferor, 481);
            }
        }
    }

    /// REFER in the dialog of the inbound call `call_id`: a picker's call
    /// moves the call they picked up; a caller may not transfer.
    pub(super) async fn caller_referred(&mut self, call_id: &str, refer_to: &str, referred_by: Option<String>) {
        let transferor = Transferor::Picker(call_id.to_string());
        let Some(caller) = self.pickups.picked_by(call_id) else {
            tracing::info!(%call_id, %refer_to, "REFER from a caller: refused");
            self.notify(&transferor, 403);
            return;
        };
        let request = self
            .calls
            .get_mut(&caller)
            .filter(|call| call.phase == Phase::PickedUp)
            .and_then(|call| call.request);
        match request {
            Some(request) => {
                self.transfer_asked(caller, request, transferor, refer_to, referred_by)
                    .await
            }
            None => self.notify(&transferor, 481),
        }
    }

    /// The transferor of `call_id`'s `request` asked to move it to `refer_to`.
    async fn transfer_asked(
        &mut self,
        call_id: String,
        request: RequestId,
        transferor: Transferor,
        refer_to: &str,
        referred_by: Option<String>,
    ) {
        let calling_out = self.calls.get_mut(&call_id).is_some_and(|call| call.gateway.is_some());
        if calling_out || self.transfers.pending.contains_key(&request) {
            self.notify(&transferor, 491);
            return;
        }
        let colleague = match replaced_call_id(refer_to) {
            Some(consultation) => self.attended(&consultation, &call_id, request, &transferor).await,
            None => None,
        };
        let destination = match colleague {
            Some(colleague) => Destination::Operator(colleague),
            None => destination(&self.ctx.config.load(), &caller_number(refer_to)),
        };
        tracing::info!(%call_id, request = request.0, %refer_to, ?destination, ?transferor, "transfer asked");
        let target = match destination {
            Destination::Operator(name) => self
                .ctx
                .engine
                .query(move |e| e.operator_id(&name).map(TransferTarget::Operator))
                .await
                .flatten(),
            Destination::Queue(name) => self
                .ctx
                .engine
                .query(move |e| e.queue_id(&name).map(TransferTarget::Queue))
                .await
                .flatten(),
            Destination::Outside(number) => {
                let purpose = Purpose::Transfer {
                    from: transferor.clone(),
                };
                if let Err(status) = self.dial_gateway(&call_id, &number, purpose, referred_by) {
                    tracing::info!(%call_id, status, "transfer outside impossible");
                    self.notify(&transferor, if status == 503 { 404 } else { status });
                }
                return;
            }
            Destination::Unknown => None,
        };
        let Some(to) = target else {
            self.notify(&transferor, 404);
            return;
        };
        if let Some(call) = self.calls.get_mut(&call_id) {
            call.referred_by = referred_by;
        }
        self.transfers.pending.insert(request, transferor);
        self.ctx.engine.send(Event::Transfer { request, to });
        let loopback = self.loopback.clone();
        tokio::spawn(async move {
            tokio::time::sleep(DECISION_WAIT).await;
            let _ = loopback.send(Input::TransferUndecided(request));
        });
    }

    /// The engine took a transfer up (`Note::Transferred`): one an
    /// operator's phone asked for with REFER, or one asked through the API
    /// (`POST /api/v1/conversations/{id}/transfer`) while the operator talks
    /// with the caller (bridged, or having picked the call up). Either way
    /// the operator leaves and the caller waits for the next operator; only
    /// a REFER gets a NOTIFY.
    pub(super) fn transferred(&mut self, request: RequestId) {
        let referred = self.transfers.pending.remove(&request);
        let Some(call_id) = self.calls.call_id_of(request).map(str::to_string) else {
            return;
        };
        let by_refer = referred.is_some();
        let phase = self.calls.get_mut(&call_id).map(|call| call.phase);
        let transferor = match (referred, phase) {
            (Some(transferor), _) => transferor,
            (None, Some(Phase::Bridged(offer))) => Transferor::Operator(offer),
            (None, Some(Phase::PickedUp)) => match self.pickups.picker_of(&call_id) {
                Some(picker) => Transferor::Picker(picker),
                None => return,
            },
            (None, _) => return,
        };
        if by_refer {
            self.notify(&transferor, 200);
        }
        self.release(&call_id, &transferor);
        let Some(call) = self.calls.get_mut(&call_id) else {
            return;
        };
        wait_for_the_transfer(&self.ctx, &call_id, call);
        match transferor {
            Transferor::Operator(offer) => {
                tracing::info!(%call_id, request = request.0, %offer, by_refer, "call transferred")
            }
            Transferor::Picker(picker) => {
                tracing::info!(%call_id, request = request.0, %picker, by_refer, "picked-up call transferred")
            }
        }
    }

    /// The engine said nothing about a transfer: it refused it. The
    /// operator keeps the call, or, if they hung up meanwhile, it ends.
    pub(super) fn transfer_undecided(&mut self, request: RequestId) {
        let Some(transferor) = self.transfers.pending.remove(&request) else {
            return;
        };
        let Some(call_id) = self.calls.call_id_of(request).map(str::to_string) else {
            return;
        };
        let operator_there = match &transferor {
            Transferor::Operator(offer) => self
                .calls
                .get_mut(&call_id)
                .is_some_and(|call| call.legs.contains_key(offer)),
            Transferor::Picker(picker) => self.pickups.picked_by(picker).is_some(),
        };
        if operator_there {
            tracing::info!(
                request = request.0,
                ?transferor,
                "transfer refused by the engine: the operator keeps the call"
            );
            self.notify(&transferor, 503);
            return;
        }
        tracing::info!(%call_id, request = request.0, "transfer refused by the engine and the operator gone: ending the call");
        let _ = self.control.send(CallCommand::Hangup {
            call_id: call_id.clone(),
        });
        self.remove_call(&call_id);
        self.ctx.engine.send(Event::Closed { request });
    }

    /// The transferring operator hung up before the engine took the
    /// transfer up: the caller waits for it; `false` if no transfer is pending.
    pub(super) fn left_before_transfer(&mut self, call_id: &str, transferor: &Transferor) -> bool {
        let Some(call) = self.calls.get_mut(call_id) else {
            return false;
        };
        let pending = call
            .request
            .is_some_and(|request| self.transfers.pending.get(&request) == Some(transferor));
        if pending {
            if let Transferor::Operator(offer) = transferor {
                call.legs.remove(offer);
            }
            tracing::info!(%call_id, ?transferor, "operator left while the transfer is decided");
        }
        pending
    }

    /// The transferring operator hung up while the call outside rings: the
    /// caller waits alone (the request closes); the call outside is now a
    /// forward, whose failure hangs the caller up.
    pub(super) fn left_during_transfer(&mut self, call_id: &str, transferor: &Transferor) -> bool {
        let Some(call) = self.calls.get_mut(call_id) else {
            return false;
        };
        let Some(gateway) = call.gateway.as_mut().filter(|g| {
            g.purpose
                == Purpose::Transfer {
                    from: transferor.clone(),
                }
        }) else {
            return false;
        };
        gateway.purpose = Purpose::Forward;
        if let Transferor::Operator(offer) = transferor {
            call.legs.remove(offer);
        }
        call.phase = Phase::Forwarding;
        let tone = ringback_tone(&self.ctx, &call.number);
        let _ = call.media.play(call.caller, PlaySource::Ringback(tone));
        tracing::info!(%call_id, ?transferor, "operator left while the transfer outside rings");
        if let Some(request) = self.calls.detach_request(call_id) {
            self.ctx.engine.send(Event::Closed { request });
        }
        true
    }
}

/// The caller, already answered, waits again for the operator a transfer
/// brings: the queue's music, else its ringback tone.
fn wait_for_the_transfer(ctx: &ChannelContext, call_id: &str, call: &mut Call) {
    call.phase = Phase::Queued;
    if let Err(error) = call.media.play(call.caller, waiting_sound(ctx, &call.number)) {
        tracing::warn!(%call_id, %error, "nothing to play while the transfer rings");
    }
}

#[cfg(test)]
mod tests {
    use super::is_number;

    #[test]
    fn numbers_are_digits_with_an_optional_prefix() {
        assert!(is_number("+4930123"));
        assert!(is_number("102"));
        assert!(is_number("*8"));
        assert!(!is_number("+"));
        assert!(!is_number("alice"));
    }
}
