//! The caller's leg: a held INVITE gets a media session (the caller's SDP
//! offer, 488/503 if media refuses it), is stored and announced through
//! `channels::phone::arrive`, then the caller hears ringback (180) while the
//! engine looks for an operator. A CANCEL or BYE from the caller abandons a
//! queued request, or ends a bridged call (`Closed`, the operator gets BYE).
//! Failures to store become final SIP answers (404, 503, 500).

use std::collections::HashMap;

use super::call::{Call, Phase, leg_name};
use super::{Input, Telephony};
use crate::channels::{ChannelError, phone};
use crate::engine::Event;
use crate::sip::{CallCommand, CallUpdate};

/// The user part of a From URI (`sip:+4930123@host;x` → `+4930123`).
pub(crate) fn caller_number(from: &str) -> String {
    let rest = from
        .strip_prefix("sips:")
        .or_else(|| from.strip_prefix("sip:"))
        .or_else(|| from.strip_prefix("tel:"))
        .unwrap_or(from);
    let user = rest.split('@').next().unwrap_or("");
    user.split(';').next().unwrap_or("").to_string()
}

fn status_for(error: &ChannelError) -> u16 {
    match error {
        ChannelError::UnknownRoute { .. } => 404,
        ChannelError::Draining | ChannelError::EngineStopped => 503,
        _ => 500,
    }
}

impl Telephony {
    fn respond(&self, call_id: String, status: u16, sdp: Option<Vec<u8>>) {
        let _ = self.control.send(CallCommand::Respond { call_id, status, sdp });
    }

    pub(super) fn caller_input(&mut self, input: Input) {
        match input {
            Input::Incoming(call) => {
                let mut media = self.media.session();
                let leg = media
                    .add_leg()
                    .and_then(|leg| media.set_remote(leg, &call.body).map(|()| leg));
                let caller = match leg {
                    Ok(leg) => leg,
                    Err(error) => {
                        tracing::info!(call_id = %call.call_id, %error, "incoming call refused: media");
                        self.respond(call.call_id, error.sip_status(), None);
                        tokio::spawn(media.stop());
                        return;
                    }
                };
                let from = caller_number(&call.from);
                self.calls.insert(
                    &call.call_id,
                    Call {
                        request: None,
                        phase: Phase::Storing,
                        media,
                        caller,
                        from: from.clone(),
                        answered: false,
                        legs: HashMap::new(),
                    },
                );
                let (ctx, loopback) = (self.ctx.clone(), self.loopback.clone());
                tokio::spawn(async move {
                    let result = phone::arrive(&ctx, &from, &call.number).await.map(|(id, _)| id);
                    let _ = loopback.send(Input::Stored {
                        call_id: call.call_id,
                        result,
                    });
                });
            }
            Input::Stored { call_id, result } => self.stored(call_id, result),
            Input::Update(call_id, CallUpdate::Acked) => tracing::debug!(%call_id, "caller ACKed"),
            Input::Update(call_id, CallUpdate::Cancelled | CallUpdate::Bye) => self.caller_left(&call_id),
            Input::Leg(..) => {}
        }
    }

    fn stored(&mut self, call_id: String, result: Result<crate::engine::RequestId, ChannelError>) {
        let Some(call) = self.calls.get_mut(&call_id) else {
            return;
        };
        let left = call.phase == Phase::LeftWhileStoring;
        match result {
            Err(error) => {
                let status = status_for(&error);
                tracing::info!(%call_id, %error, status, "incoming call refused");
                self.calls.remove(&call_id);
                if !left {
                    self.respond(call_id, status, None);
                }
            }
            Ok(request) => {
                self.calls.set_request(&call_id, request);
                if left {
                    self.calls.remove(&call_id);
                    self.ctx.engine.send(Event::Abandoned { request });
                    return;
                }
                if let Some(call) = self.calls.get_mut(&call_id) {
                    call.phase = Phase::Queued;
                }
                tracing::info!(%call_id, request = request.0, "call queued");
                self.respond(call_id, 180, None);
            }
        }
    }

    fn caller_left(&mut self, call_id: &str) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        match call.phase {
            Phase::Storing => call.phase = Phase::LeftWhileStoring,
            Phase::LeftWhileStoring => {}
            Phase::Queued => {
                if let Some(Some(request)) = self.calls.remove(call_id) {
                    tracing::info!(%call_id, request = request.0, "caller left the queue");
                    // The engine withdraws the offers still ringing.
                    self.ctx.engine.send(Event::Abandoned { request });
                }
            }
            Phase::Bridged(offer) => {
                let _ = self.control.send(CallCommand::DropLeg { leg: leg_name(offer) });
                if let Some(Some(request)) = self.calls.remove(call_id) {
                    tracing::info!(%call_id, request = request.0, "caller hung up");
                    self.ctx.engine.send(Event::Closed { request });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::caller_number;

    #[test]
    fn the_caller_is_the_user_part() {
        assert_eq!(caller_number("sip:+4930123@10.0.0.1;user=phone"), "+4930123");
        assert_eq!(caller_number("tel:+4930123;phone-context=x"), "+4930123");
        assert_eq!(caller_number("sip:host.example"), "host.example");
    }
}
