//! The queue's `waiting_announcement` for callers who wait hearing acdd's
//! music or tone ("all our operators are busy…"): every `every_seconds`
//! while the call is still queued the announcement replaces the music or
//! tone, which comes back once it has played (`AfterPlay::ResumeWaiting`).
//! An operator's answer meanwhile simply takes the caller over (the bridge
//! replaces the play); a caller who left stops the round.

use std::path::PathBuf;
use std::time::Duration;

use super::announce::AfterPlay;
use super::call::Phase;
use super::inbound::{queue_of, waiting_sound};
use super::{Input, Telephony};
use crate::config::schema::Hold;
use crate::media::{PlayEnd, PlaySource, Prompt};

/// The announcement for callers of `number` and how often, if its queue
/// has one and lets callers hear acdd (music or tone).
fn waiting_announcement(config: &crate::config::Config, number: &str) -> Option<(PathBuf, Duration)> {
    let queue = queue_of(config, number).filter(|q| q.hold != Hold::Ringback)?;
    let announcement = queue.waiting_announcement.as_ref()?.get_ref();
    let every = u64::try_from(*announcement.every_seconds.get_ref()).ok()?;
    Some((announcement.file.clone(), Duration::from_secs(every)))
}

impl Telephony {
    /// Starts the round of announcements for a call that now waits.
    pub(super) fn announce_while_waiting(&mut self, call_id: &str) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let Some((_, every)) = waiting_announcement(&self.ctx.config.load(), &call.number) else {
            return;
        };
        let (loopback, call_id) = (self.loopback.clone(), call_id.to_string());
        tokio::spawn(async move {
            tokio::time::sleep(every).await;
            let _ = loopback.send(Input::WaitingAnnouncement(call_id));
        });
    }

    /// Time for the announcement, if the caller still waits.
    pub(super) fn waiting_announcement_due(&mut self, call_id: &str) {
        let config = self.ctx.config.load();
        let Some(call) = self.calls.get_mut(call_id).filter(|call| call.phase == Phase::Queued) else {
            return;
        };
        let Some((file, _)) = waiting_announcement(&config, &call.number) else {
            return;
        };
        let played = Prompt::load(&file).map_err(|e| e.to_string()).and_then(|prompt| {
            call.media
                .play(call.caller, PlaySource::Announcement(prompt))
                .map_err(|e| e.to_string())
        });
        match played {
            Ok(end) => {
                tracing::debug!(%call_id, file = %file.display(), "waiting announcement");
                let (loopback, call_id) = (self.loopback.clone(), call_id.to_string());
                tokio::spawn(async move {
                    let end = end.await.unwrap_or(PlayEnd::Stopped);
                    let then = AfterPlay::ResumeWaiting;
                    let _ = loopback.send(Input::Played { call_id, then, end });
                });
            }
            Err(error) => {
                tracing::warn!(%call_id, file = %file.display(), %error, "waiting announcement not played");
                self.announce_while_waiting(call_id);
            }
        }
    }

    /// The announcement has played: the music or tone again, and the next
    /// round. Anything else that took the caller over keeps them.
    pub(super) fn resume_waiting(&mut self, call_id: &str, end: PlayEnd) {
        let Some(call) = self.calls.get_mut(call_id).filter(|call| call.phase == Phase::Queued) else {
            return;
        };
        if end != PlayEnd::Finished {
            return;
        }
        if let Err(error) = call.media.play(call.caller, waiting_sound(&self.ctx, &call.number)) {
            tracing::warn!(%call_id, %error, "nothing to play after the waiting announcement");
        }
        self.announce_while_waiting(call_id);
    }
}
