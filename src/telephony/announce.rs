//! What a missed caller hears from acdd before the end: the queue's
//! voicemail `greeting` (then the recording starts) and the hang-up
//! `announcement` (then BYE). The caller is answered first (200 with acdd's
//! SDP) if nobody has yet; the play's end comes back as `Input::Played` and
//! runs the next step, unless the caller has left meanwhile.

use std::path::{Path, PathBuf};

use super::call::Phase;
use super::{Input, Telephony};
use crate::config::Config;
use crate::config::schema::{MissedKind, Queue};
use crate::engine::RequestId;
use crate::media::{PlayEnd, PlaySource, Prompt};
use crate::sip::CallCommand;

/// What follows a greeting or an announcement.
#[derive(Debug)]
pub enum AfterPlay {
    /// Record the voicemail.
    Record(RequestId),
    /// Hang up (BYE).
    Hangup,
    /// Back to the music or tone of a waiting caller (`waiting.rs`).
    ResumeWaiting,
}

/// The missed-call settings that apply to a call to `number`: those of the
/// routed queue or, along its overflow chain (`action = "queue"`), of the
/// first queue whose missed action is `kind`.
pub(super) fn missed_queue<'a>(config: &'a Config, number: &str, kind: MissedKind) -> Option<&'a Queue> {
    let route = config.routes.phone.iter().find(|r| r.number.get_ref() == number)?;
    let mut name = route.queue.get_ref();
    for _ in 0..=config.queues.len() {
        let queue = config.queues.iter().find(|q| q.name.get_ref() == name)?;
        let missed = queue.missed.get_ref();
        if missed.action == kind {
            return Some(queue);
        }
        name = missed
            .queue
            .as_ref()
            .filter(|_| missed.action == MissedKind::Queue)?
            .get_ref();
    }
    None
}

impl Telephony {
    /// Answers the caller (200 with acdd's SDP) unless already answered.
    pub(super) fn answer_caller(&mut self, call_id: &str) -> Result<(), String> {
        let call = self.calls.get_mut(call_id).ok_or("call gone")?;
        if call.answered {
            return Ok(());
        }
        let sdp = call.media.local_sdp(call.caller).map_err(|e| e.to_string())?;
        call.answered = true;
        let _ = self.control.send(CallCommand::Respond {
            call_id: call_id.to_string(),
            status: 200,
            sdp: Some(sdp),
        });
        Ok(())
    }

    /// Answers the caller if needed and plays `file` to them once; `then`
    /// runs when it has played. An error means nothing is playing.
    pub(super) fn play_then(&mut self, call_id: &str, file: &Path, then: AfterPlay) -> Result<(), String> {
        let prompt = Prompt::load(file).map_err(|e| e.to_string())?;
        self.answer_caller(call_id)?;
        let call = self.calls.get_mut(call_id).ok_or("call gone")?;
        let end = call
            .media
            .play(call.caller, PlaySource::Announcement(prompt))
            .map_err(|e| e.to_string())?;
        // The request has ended: a caller leaving now just ends the call.
        call.phase = Phase::Voicemail;
        tracing::info!(%call_id, file = %file.display(), next = ?then, "missed call: playing to the caller");
        let (loopback, call_id) = (self.loopback.clone(), call_id.to_string());
        tokio::spawn(async move {
            let end = end.await.unwrap_or(PlayEnd::Stopped);
            let _ = loopback.send(Input::Played { call_id, then, end });
        });
        Ok(())
    }

    /// A greeting or announcement ended: record, or hang up.
    pub(super) fn played(&mut self, call_id: &str, then: AfterPlay, end: PlayEnd) {
        if matches!(then, AfterPlay::ResumeWaiting) {
            self.resume_waiting(call_id, end);
            return;
        }
        if self.calls.get_mut(call_id).is_none() {
            tracing::info!(%call_id, ?end, "the caller left during the greeting or announcement");
            return;
        }
        match then {
            AfterPlay::Record(request) => {
                tracing::info!(%call_id, ?end, "greeting played");
                if let Err(error) = self.record_voicemail(call_id, request) {
                    tracing::warn!(%call_id, %error, "voicemail failed: hanging up");
                    self.remove_call(call_id);
                    let _ = self.control.send(CallCommand::Hangup {
                        call_id: call_id.to_string(),
                    });
                }
            }
            AfterPlay::Hangup => {
                self.remove_call(call_id);
                tracing::info!(%call_id, ?end, "missed call: announcement played, hanging up");
                let _ = self.control.send(CallCommand::Hangup {
                    call_id: call_id.to_string(),
                });
            }
            AfterPlay::ResumeWaiting => {}
        }
    }

    /// The hang-up announcement of the call's queue, if it has one.
    pub(super) fn hangup_announcement(&self, number: &str) -> Option<PathBuf> {
        let config = self.ctx.config.load();
        missed_queue(&config, number, MissedKind::Hangup)?
            .missed
            .get_ref()
            .announcement
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_settings_follow_the_overflow_chain_to_the_action() {
        let text = r#"
[listen]
sip_udp = "127.0.0.1:5060"

[[operators]]
id = "alice"

[[queues]]
name = "first"
channels = ["phone"]
operators = ["alice"]
missed = { action = "queue", queue = "second" }

[[queues]]
name = "second"
channels = ["phone"]
operators = ["alice"]
missed = { action = "voicemail", max_seconds = 30 }

[[routes.phone]]
number = "+4930111111"
queue = "first"

[[routes.phone]]
number = "+4930222222"
queue = "second"
"#;
        let config = crate::config::parse(Path::new("t.toml"), text).unwrap();
        let found = |number, kind| missed_queue(&config, number, kind).map(|q| q.name.get_ref().as_str());
        assert_eq!(found("+4930111111", MissedKind::Voicemail), Some("second"));
        assert_eq!(found("+4930222222", MissedKind::Voicemail), Some("second"));
        assert_eq!(found("+4930111111", MissedKind::Hangup), None);
        assert_eq!(found("+4930333333", MissedKind::Voicemail), None);
    }
}
