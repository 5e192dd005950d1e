//! The caller's leg: a held INVITE is stored and announced through
//! `channels::phone::arrive`; then the caller hears ringback (180) while the
//! engine looks for an operator. A CANCEL or BYE from the caller abandons
//! the request. Failures to store become final SIP answers (404, 503, 500).

use tokio::sync::mpsc;

use super::Input;
use super::call::{Calls, Phase};
use crate::channels::{ChannelContext, ChannelError, phone};
use crate::engine::Event;
use crate::sip::{CallCommand, CallControl, CallUpdate};

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

pub(super) fn input(
    ctx: &ChannelContext,
    control: &CallControl,
    loopback: &mpsc::UnboundedSender<Input>,
    calls: &mut Calls,
    input: Input,
) {
    match input {
        Input::Incoming(call) => {
            calls.insert(&call.call_id);
            let (ctx, loopback) = (ctx.clone(), loopback.clone());
            tokio::spawn(async move {
                let caller = caller_number(&call.from);
                let result = phone::arrive(&ctx, &caller, &call.number).await.map(|(id, _)| id);
                let _ = loopback.send(Input::Stored {
                    call_id: call.call_id,
                    result,
                });
            });
        }
        Input::Stored { call_id, result } => {
            let Some(call) = calls.get_mut(&call_id) else { return };
            let left = call.phase == Phase::LeftWhileStoring;
            match result {
                Err(error) => {
                    let status = status_for(&error);
                    tracing::info!(%call_id, %error, status, "incoming call refused");
                    calls.remove(&call_id);
                    if !left {
                        let _ = control.send(CallCommand::Respond {
                            call_id,
                            status,
                            sdp: None,
                        });
                    }
                }
                Ok(request) => {
                    calls.set_request(&call_id, request);
                    if left {
                        calls.remove(&call_id);
                        ctx.engine.send(Event::Abandoned { request });
                        return;
                    }
                    if let Some(call) = calls.get_mut(&call_id) {
                        call.phase = Phase::Queued;
                    }
                    tracing::info!(%call_id, request = request.0, "call queued");
                    let _ = control.send(CallCommand::Respond {
                        call_id,
                        status: 180,
                        sdp: None,
                    });
                }
            }
        }
        Input::Update(call_id, update) => match update {
            CallUpdate::Acked => {}
            CallUpdate::Cancelled | CallUpdate::Bye => {
                let Some(call) = calls.get_mut(&call_id) else { return };
                match call.phase {
                    Phase::Storing => call.phase = Phase::LeftWhileStoring,
                    Phase::LeftWhileStoring => {}
                    Phase::Queued => {
                        let request = call.request;
                        calls.remove(&call_id);
                        if let Some(request) = request {
                            tracing::info!(%call_id, request = request.0, "caller left the queue");
                            ctx.engine.send(Event::Abandoned { request });
                        }
                    }
                }
            }
        },
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
