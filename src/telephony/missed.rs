//! Engine actions on calls that nobody took (`RunMissed`). `voicemail`:
//! answer (if not yet), play the queue's `greeting` if any (`announce.rs`),
//! record the caller to `<voicemail_dir>/r<request>.wav` up to the queue's
//! `missed.max_seconds`, attach it to the request (`Store::attach_recording`),
//! then BYE. `forward`: dial `to` through the outbound gateway (`gateway.rs`)
//! and bridge it with the caller when it answers; its failure hangs the
//! caller up. `hangup` ends the call (480 before an answer, BYE after), after
//! playing the queue's `announcement` if any (answering the caller for it).

use std::time::Duration;

use super::announce::{AfterPlay, missed_queue};
use super::call::{Phase, Purpose};
use super::{Input, Telephony};
use crate::config::schema::MissedKind;
use crate::crm::now_millis;
use crate::engine::{Action, MissedAction, RequestId};
use crate::sip::CallCommand;

impl Telephony {
    pub(super) fn missed(&mut self, action: Action) {
        let Action::RunMissed {
            request,
            action: missed,
            reason,
            ..
        } = action
        else {
            return;
        };
        let Some(call_id) = self.calls.call_id_of(request).map(str::to_string) else {
            return;
        };
        if let MissedAction::Forward(to) = &missed {
            // The engine is done with the request; the call goes on outside.
            self.calls.detach_request(&call_id);
            match self.dial_gateway(&call_id, to, Purpose::Forward, None) {
                Ok(()) => {
                    if let Some(call) = self.calls.get_mut(&call_id) {
                        call.phase = Phase::Forwarding;
                    }
                    tracing::info!(%call_id, request = request.0, %to, ?reason, "missed call: forwarding");
                    return;
                }
                Err(status) => tracing::warn!(%call_id, status, "forward impossible: hanging up"),
            }
        } else if matches!(missed, MissedAction::Voicemail) {
            match self.voicemail(&call_id, request) {
                Ok(()) => return,
                Err(error) => tracing::warn!(%call_id, %error, "voicemail failed: hanging up"),
            }
        } else if matches!(missed, MissedAction::Hangup) {
            let number = self
                .calls
                .get_mut(&call_id)
                .map(|c| c.number.clone())
                .unwrap_or_default();
            if let Some(file) = self.hangup_announcement(&number) {
                match self.play_then(&call_id, &file, AfterPlay::Hangup) {
                    Ok(()) => return,
                    Err(error) => tracing::warn!(%call_id, %error, "hang-up announcement failed"),
                }
            }
        } else {
            tracing::warn!(%call_id, ?missed, "missed-call action not carried by telephony yet: hanging up");
        }
        self.remove_call(&call_id);
        tracing::info!(%call_id, request = request.0, ?reason, remaining = self.calls.len(), "missed call: hanging up");
        let _ = self.control.send(CallCommand::Hangup { call_id });
    }

    /// Answers, then plays the greeting (and records after it) or records now.
    fn voicemail(&mut self, call_id: &str, request: RequestId) -> Result<(), String> {
        let number = self
            .calls
            .get_mut(call_id)
            .map(|c| c.number.clone())
            .unwrap_or_default();
        let greeting = {
            let config = self.ctx.config.load();
            missed_queue(&config, &number, MissedKind::Voicemail).and_then(|q| q.missed.get_ref().greeting.clone())
        };
        if let Some(file) = greeting {
            match self.play_then(call_id, &file, AfterPlay::Record(request)) {
                Ok(()) => return Ok(()),
                Err(error) => tracing::warn!(%call_id, %error, "voicemail greeting failed: recording without it"),
            }
        }
        self.record_voicemail(call_id, request)
    }

    /// Answers the caller if needed and records them.
    pub(super) fn record_voicemail(&mut self, call_id: &str, request: RequestId) -> Result<(), String> {
        let (directory, max) = {
            let config = self.ctx.config.load();
            let number = self
                .calls
                .get_mut(call_id)
                .map(|c| c.number.clone())
                .unwrap_or_default();
            let max =
                missed_queue(&config, &number, MissedKind::Voicemail).map_or(120, |q| q.missed.get_ref().max_seconds);
            (config.storage.voicemail_dir(), Duration::from_secs(max.into()))
        };
        std::fs::create_dir_all(&directory).map_err(|e| e.to_string())?;
        let path = directory.join(format!("r{}.wav", request.0));
        self.answer_caller(call_id)?;
        let call = self.calls.get_mut(call_id).ok_or("call gone")?;
        call.media.silence(call.caller).map_err(|e| e.to_string())?;
        let done = call.media.record(call.caller, &path, max).map_err(|e| e.to_string())?;
        call.phase = Phase::Voicemail;
        tracing::info!(%call_id, request = request.0, file = %path.display(), "missed call: recording voicemail");
        let (store, loopback, call_id) = (self.ctx.store.clone(), self.loopback.clone(), call_id.to_string());
        tokio::spawn(async move {
            match done.await {
                Ok(Ok(recording)) => {
                    let link = format!("file://{}", recording.path.display());
                    let stored = store.attach_recording(request.0 as i64, link, now_millis()).await;
                    tracing::info!(%call_id, seconds = recording.duration.as_secs_f64(), stored = stored.is_ok(), "voicemail recorded");
                }
                Ok(Err(error)) => tracing::warn!(%call_id, %error, "voicemail recording failed"),
                Err(_) => tracing::warn!(%call_id, "voicemail recording lost"),
            }
            let _ = loopback.send(Input::VoicemailDone(call_id));
        });
        Ok(())
    }

    /// The recording is over: hang up if the caller is still there.
    pub(super) fn voicemail_done(&mut self, call_id: &str) {
        if self.remove_call(call_id).is_some() {
            let _ = self.control.send(CallCommand::Hangup {
                call_id: call_id.to_string(),
            });
        }
    }
}
