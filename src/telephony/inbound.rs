//! The caller's leg: a held INVITE gets a media session (the caller's SDP
//! offer, 488/503 if media refuses it), is stored and announced through
//! `channels::phone::arrive`, then the caller hears ringback while the engine
//! looks for an operator: their own phone's (180), or with `hold = "tone"`
//! a tone acdd generates as early media (183 with acdd's SDP); or, in a queue
//! with `hold = "music"`, is answered at once (200 with acdd's SDP) and hears
//! the music (now and then the queue's `waiting_announcement`, `waiting.rs`). A CANCEL or BYE from the caller abandons a
//! queued request, or ends a bridged call (`Closed`, the operator gets BYE).
//! Failures to store become final SIP answers (404, 503, 500).

use std::collections::HashMap;

use super::call::{Call, Phase, leg_name};
use super::{Input, Telephony};
use crate::channels::{ChannelContext, ChannelError, phone};
use crate::config::Config;
use crate::config::schema::{Hold, Queue, RingbackTone};
use crate::engine::{Event, RequestId};
use crate::media::{PlaySource, Prompt, Tone};
use crate::sip::{CallCommand, CallUpdate, IncomingCall};

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

/// How a caller of a queue waits for an operator.
pub(super) enum Holding {
    /// 180; the tone is for a caller already answered (a transfer's wait).
    Ringback(Tone),
    /// 183 and this tone as early media.
    Tone(Tone),
    /// 200 and this music.
    Music(Prompt),
}

/// The queue the number routes to.
pub(super) fn queue_of<'c>(config: &'c Config, number: &str) -> Option<&'c Queue> {
    let route = config.routes.phone.iter().find(|r| r.number.get_ref() == number)?;
    config.queues.iter().find(|q| q.name.get_ref() == route.queue.get_ref())
}

/// The ringback tone of the queue the number routes to (`ringback_tone`).
pub(super) fn ringback_tone(ctx: &ChannelContext, number: &str) -> Tone {
    tone_of(queue_of(&ctx.config.load(), number))
}

fn tone_of(queue: Option<&Queue>) -> Tone {
    match queue.map(|q| q.ringback_tone) {
        Some(RingbackTone::NorthAmerica) => Tone::north_america(),
        Some(RingbackTone::Europe) | None => Tone::europe(),
    }
}

/// How callers of the queue the number routes to wait (`hold`); music that
/// cannot be read falls back to ringback.
pub(super) fn holding(ctx: &ChannelContext, number: &str) -> Holding {
    let config = ctx.config.load();
    let queue = queue_of(&config, number);
    let tone = tone_of(queue);
    let Some(queue) = queue else {
        return Holding::Ringback(tone);
    };
    match (queue.hold, &queue.music_file) {
        (Hold::Ringback, _) | (Hold::Music, None) => Holding::Ringback(tone),
        (Hold::Tone, _) => Holding::Tone(tone),
        (Hold::Music, Some(file)) => match load_music(file) {
            Some(prompt) => Holding::Music(prompt),
            None => Holding::Ringback(tone),
        },
    }
}

/// What an answered caller of `number` hears while waiting again (after an
/// announcement, during a transfer): the queue's music, else its ringback
/// tone.
pub(super) fn waiting_sound(ctx: &ChannelContext, number: &str) -> PlaySource {
    match holding(ctx, number) {
        Holding::Music(prompt) => PlaySource::Music(prompt),
        Holding::Ringback(tone) | Holding::Tone(tone) => PlaySource::Ringback(tone),
    }
}

/// The `music_file` of the queue the number routes to, whatever its
/// `hold`: what a caller hears while their operator holds the call.
pub(super) fn hold_music(ctx: &ChannelContext, number: &str) -> Option<Prompt> {
    let config = ctx.config.load();
    load_music(queue_of(&config, number)?.music_file.as_ref()?)
}

fn load_music(file: &std::path::Path) -> Option<Prompt> {
    Prompt::load(file)
        .inspect_err(|error| tracing::warn!(file = %file.display(), %error, "music on hold cannot be read"))
        .ok()
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

    /// Keeps `call` with a media session holding the caller's leg (its SDP
    /// offer), in `phase`; false when the media refused it (the caller got
    /// the error status).
    pub(super) fn take_call(&mut self, call: &IncomingCall, phase: Phase) -> bool {
        let mut media = self.media.session();
        let leg = media
            .add_leg()
            .and_then(|leg| media.set_remote(leg, &call.body).map(|()| leg));
        let caller = match leg {
            Ok(leg) => leg,
            Err(error) => {
                tracing::info!(call_id = %call.call_id, %error, "incoming call refused: media");
                self.respond(call.call_id.clone(), error.sip_status(), None);
                tokio::spawn(media.stop());
                return false;
            }
        };
        self.calls.insert(
            &call.call_id,
            Call {
                request: None,
                phase,
                media,
                caller,
                from: caller_number(&call.from),
                caller_name: None,
                number: call.number.clone(),
                answered: false,
                legs: HashMap::new(),
                offers_rung: Vec::new(),
                gateway: None,
                referred_by: None,
                phones_in_use: Vec::new(),
                on_hold: None,
                recorded: false,
                recording_paused: false,
                pause_keys: Default::default(),
                queue: None,
                supervisor: None,
                started_at: crate::crm::now_millis(),
            },
        );
        true
    }

    /// Takes `call` from `from` to a routed number: stored and announced
    /// (`Input::Stored` follows), then queued; false when media refused it.
    pub(super) fn queue_call(&mut self, call: IncomingCall, from: String) -> bool {
        if !self.take_call(&call, Phase::Storing) {
            return false;
        }
        let (ctx, loopback) = (self.ctx.clone(), self.loopback.clone());
        tokio::spawn(async move {
            let result = phone::arrive(&ctx, &from, &call.number)
                .await
                .map(|(id, open)| (id, open.customer_name));
            let _ = loopback.send(Input::Stored {
                call_id: call.call_id,
                result,
            });
        });
        true
    }

    /// Whether acdd routes `number` to a queue (compared as on arrival).
    pub(super) fn routed(&self, number: &str) -> bool {
        let wanted = phone::plain(number);
        self.ctx
            .config
            .load()
            .routes
            .phone
            .iter()
            .any(|r| phone::plain(r.number.get_ref()) == wanted)
    }

    pub(super) fn caller_input(&mut self, input: Input) {
        match input {
            Input::Incoming(call) => {
                let from = caller_number(&call.from);
                self.queue_call(call, from);
            }
            Input::Stored { call_id, result } => self.stored(call_id, result),
            Input::Update(call_id, CallUpdate::Acked) => tracing::debug!(%call_id, "caller ACKed"),
            Input::Update(call_id, CallUpdate::Cancelled | CallUpdate::Bye) => self.caller_left(&call_id),
            Input::Leg(..)
            | Input::OperatorCall { .. }
            | Input::Update(_, CallUpdate::Referred { .. } | CallUpdate::Reoffered { .. })
            | Input::VoicemailDone(_)
            | Input::Played { .. }
            | Input::Pickup { .. }
            | Input::GatewayTimeout(_)
            | Input::TransferUndecided(_)
            | Input::HandoverOver(_)
            | Input::WorkdayCode { .. }
            | Input::Confirmed(_)
            | Input::WaitingAnnouncement(_)
            | Input::Key { .. }
            | Input::OperatorKey { .. }
            | Input::PauseRecording { .. }
            | Input::ListCalls { .. } => {}
        }
    }

    fn stored(&mut self, call_id: String, result: Result<(RequestId, Option<String>), ChannelError>) {
        let Some(call) = self.calls.get_mut(&call_id) else {
            return;
        };
        let left = call.phase == Phase::LeftWhileStoring;
        match result {
            Err(error) => {
                let status = status_for(&error);
                tracing::info!(%call_id, %error, status, "incoming call refused");
                self.remove_call(&call_id);
                if !left {
                    self.respond(call_id, status, None);
                }
            }
            Ok((request, caller_name)) => {
                self.calls.set_request(&call_id, request);
                if let Some(call) = self.calls.get_mut(&call_id) {
                    call.caller_name = caller_name;
                }
                if left {
                    self.remove_call(&call_id);
                    self.ctx.engine.send(Event::Abandoned { request });
                    return;
                }
                let Some(call) = self.calls.get_mut(&call_id) else {
                    return;
                };
                call.phase = Phase::Queued;
                let (status, source) = match holding(&self.ctx, &call.number) {
                    Holding::Ringback(_) => {
                        tracing::debug!(%call_id, request = request.0, hold = "ringback", "call queued");
                        self.respond(call_id, 180, None);
                        return;
                    }
                    Holding::Tone(tone) => (183, PlaySource::Ringback(tone)),
                    Holding::Music(prompt) => (200, PlaySource::Music(prompt)),
                };
                let hold = if status == 200 { "music" } else { "tone" };
                tracing::debug!(%call_id, request = request.0, hold, "call queued");
                let answer = call.media.local_sdp(call.caller);
                let played = answer.and_then(|sdp| Ok((sdp, call.media.play(call.caller, source)?)));
                match played {
                    Ok((sdp, _end)) => {
                        // Early media (183) leaves the call unanswered: the
                        // bridge or a missed action answers it.
                        call.answered = status == 200;
                        self.respond(call_id.clone(), status, Some(sdp));
                        self.announce_while_waiting(&call_id);
                        self.watch_callback_key(&call_id);
                    }
                    Err(error) => {
                        tracing::warn!(%call_id, %error, hold, "nothing to play while queued: ringing back instead");
                        self.respond(call_id, 180, None);
                    }
                }
            }
        }
    }

    fn caller_left(&mut self, call_id: &str) {
        if self.picker_left(call_id) || self.supervisor_left(call_id) {
            return;
        }
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        if call.phase == Phase::HandingOver {
            // The consultation's caller said goodbye first; its colleague's
            // leg stays until the hand-over is over.
            return;
        }
        if let Some(gateway) = call.gateway.take() {
            let _ = self.control.send(CallCommand::DropLeg { leg: gateway.name });
        }
        match call.phase {
            Phase::Forwarding | Phase::Forwarded | Phase::HandingOver | Phase::Confirming => {
                tracing::debug!(%call_id, "caller hung up (forwarded call)");
                self.remove_call(call_id);
            }
            Phase::Storing => call.phase = Phase::LeftWhileStoring,
            Phase::LeftWhileStoring => {}
            // The request has ended; stopping the media delivers the recording.
            Phase::Voicemail => {
                self.remove_call(call_id);
            }
            Phase::Queued => {
                if let Some(Some(request)) = self.remove_call(call_id) {
                    tracing::debug!(%call_id, request = request.0, "caller left the queue");
                    // The engine withdraws the offers still ringing.
                    self.ctx.engine.send(Event::Abandoned { request });
                }
            }
            Phase::PickedUp => {
                if let Some(picker) = self.pickups.picker_of(call_id) {
                    self.pickups.end(&picker);
                    let _ = self.control.send(CallCommand::Hangup { call_id: picker });
                }
                if let Some(Some(request)) = self.remove_call(call_id) {
                    tracing::debug!(%call_id, request = request.0, "caller hung up");
                    self.ctx.engine.send(Event::Closed { request });
                }
            }
            Phase::Bridged(offer) => {
                let _ = self.control.send(CallCommand::DropLeg { leg: leg_name(offer) });
                if let Some(Some(request)) = self.remove_call(call_id) {
                    tracing::debug!(%call_id, request = request.0, "caller hung up");
                    // A transfer the engine has (ahead of this) moved the
                    // request off the operator: it waits for the new one.
                    let event = match self.transfers.forget(request) {
                        true => Event::Abandoned { request },
                        false => Event::Closed { request },
                    };
                    self.ctx.engine.send(event);
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
