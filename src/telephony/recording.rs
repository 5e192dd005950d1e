//! Recording of conversations: a call answered by an operator of a queue
//! with `record_calls` is recorded from then until it ends, as its caller
//! has it (`MediaSession::record_call`: left what the caller says, right
//! what they hear, transfers and hold music included), to
//! `<[storage] recordings_dir>/r<request>.wav` (named `….wav.part` until
//! the call ends, so nobody serves half a file). The finished file is
//! linked to the customer's history (`Store::attach_recording`) and served
//! by `GET /api/v1/recordings/{request}`. A recording the daemon could not
//! finish (it was stopped or killed mid-call) is repaired, renamed and
//! linked when it starts again (`recover`). The operator pauses and resumes
//! it from the API or by pressing `*1` on the phone (RFC 4733 keys, watched
//! on the leg of whoever is assigned the call; as Asterisk's sample
//! `automon` code); the keys still reach the caller as they are.

use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use super::pause_keys::PauseKeys;
use super::{Input, Telephony};
use crate::crm::{Store, now_millis};
use crate::engine::{OperatorId, QueueId, RequestId};
use crate::media::LegId;

/// The longest recording of one call; a call going on longer is not
/// recorded past this.
const MAX_LENGTH: Duration = Duration::from_secs(8 * 3600);

/// Pauses or resumes `call`'s recording; false if the media session could not.
fn set_paused(call_id: &str, call: &mut super::call::Call, paused: bool, from: &'static str) -> bool {
    match call.media.pause_call_recording(call.caller, paused) {
        Ok(()) => {
            call.recording_paused = paused;
            tracing::info!(%call_id, paused, from, "call recording paused or resumed");
            true
        }
        Err(error) => {
            tracing::warn!(%call_id, %error, "call recording not paused or resumed");
            false
        }
    }
}

/// Finishes what recordings a previous run left as `r<request>.wav.part`:
/// sizes repaired to what the file holds (`media::repair_wav`), renamed,
/// linked in the customer's history. Returns how many.
pub async fn recover(directory: &Path, store: &dyn Store) -> usize {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return 0;
    };
    let mut recovered = 0;
    for entry in entries.flatten() {
        let part = entry.path();
        let Some(request) = part
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix('r')?.strip_suffix(".wav.part")?.parse::<i64>().ok())
        else {
            continue;
        };
        let path = directory.join(format!("r{request}.wav"));
        let repaired = crate::media::repair_wav(&part)
            .map_err(|e| e.to_string())
            .and_then(|length| {
                std::fs::rename(&part, &path)
                    .map(|()| length)
                    .map_err(|e| e.to_string())
            });
        match repaired {
            Ok(length) => {
                let link = format!("file://{}", path.display());
                let stored = store.attach_recording(request, link, now_millis()).await;
                tracing::info!(
                    request,
                    seconds = length.as_secs_f64(),
                    stored = stored.is_ok(),
                    "unfinished call recording recovered"
                );
                recovered += 1;
            }
            Err(error) => tracing::warn!(file = %part.display(), %error, "unfinished call recording left as it is"),
        }
    }
    recovered
}

impl Telephony {
    /// Pauses or resumes the recording of the call `operator` is talking in
    /// (answered or picked up); false if they are in no recorded call.
    pub(super) async fn pause_recording(&mut self, operator: String, paused: bool) -> bool {
        let Some(id) = self.operator_ids(operator.clone(), None).await.0 else {
            return false;
        };
        let Some((call_id, _)) = self.call_of_operator(id) else {
            return false;
        };
        let Some(call) = self.calls.get_mut(&call_id).filter(|c| c.recorded) else {
            return false;
        };
        set_paused(&call_id, call, paused, "api")
    }

    /// Watches the keys of `operator`'s leg in the request's call if it is
    /// recorded, for `*1`.
    pub(super) fn watch_pause_keys(&mut self, request: RequestId, operator: OperatorId) {
        let Some(call_id) = self.calls.call_id_of(request).map(str::to_string) else {
            return;
        };
        let Some((_, leg)) = self.call_of_operator(operator).filter(|(id, _)| *id == call_id) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&call_id).filter(|c| c.recorded) else {
            return;
        };
        call.pause_keys = PauseKeys::default();
        tracing::debug!(%call_id, ?leg, "watching the operator's keys");
        let mut keys = match call.media.watch_keys(leg) {
            Ok(keys) => keys,
            Err(error) => {
                tracing::warn!(%call_id, %error, "the operator's keys cannot be watched");
                return;
            }
        };
        let loopback = self.loopback.clone();
        tokio::spawn(async move {
            while let Some(key) = keys.recv().await {
                let call_id = call_id.clone();
                if loopback.send(Input::OperatorKey { call_id, leg, key }).is_err() {
                    return;
                }
            }
        });
    }

    /// The operator on `leg` pressed `key`: `*1` pauses or resumes the
    /// recording. Keys of a leg no longer the operator's are ignored.
    pub(super) fn operator_key_pressed(&mut self, call_id: &str, leg: LegId, key: char) {
        if self.talking_leg(call_id) != Some(leg) {
            return;
        }
        let Some(call) = self.calls.get_mut(call_id).filter(|c| c.recorded) else {
            return;
        };
        if call.pause_keys.press(key, Instant::now()) {
            let paused = !call.recording_paused;
            set_paused(call_id, call, paused, "phone");
        }
    }

    /// Starts recording the request's call if `queue` records calls and the
    /// call is not recorded yet (a transfer keeps the first recording).
    pub(super) fn record_if_wanted(&mut self, request: RequestId, queue: QueueId) {
        let Some(queue) = self.ctx.engine.queue_name(queue) else {
            return;
        };
        let directory = {
            let config = self.ctx.config.load();
            let records = config
                .queues
                .iter()
                .any(|q| q.name.get_ref().as_str() == &*queue && q.record_calls);
            if !records {
                return;
            }
            config.storage.recordings_dir()
        };
        let Some(call_id) = self.calls.call_id_of(request).map(str::to_string) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&call_id) else {
            return;
        };
        if call.recorded {
            return;
        }
        call.recorded = true;
        let path = directory.join(format!("r{}.wav", request.0));
        let part = directory.join(format!("r{}.wav.part", request.0));
        let started = std::fs::create_dir_all(&directory)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                call.media
                    .record_call(call.caller, &part, MAX_LENGTH)
                    .map_err(|e| e.to_string())
            });
        let done = match started {
            Ok(done) => done,
            Err(error) => {
                tracing::warn!(%call_id, %error, file = %path.display(), "cannot record the call");
                metrics::counter!("acdd_call_recordings_total", "queue" => queue.to_string(), "result" => "failed")
                    .increment(1);
                return;
            }
        };
        tracing::info!(%call_id, request = request.0, file = %path.display(), "recording the call");
        let store = self.ctx.store.clone();
        tokio::spawn(async move {
            let result = match done.await {
                Ok(Ok(recording)) => match std::fs::rename(&recording.path, &path) {
                    Ok(()) => {
                        let link = format!("file://{}", path.display());
                        let stored = store.attach_recording(request.0 as i64, link, now_millis()).await;
                        tracing::info!(%call_id, request = request.0, seconds = recording.duration.as_secs_f64(), stored = stored.is_ok(), "call recorded");
                        "recorded"
                    }
                    Err(error) => {
                        tracing::warn!(%call_id, %error, file = %path.display(), "call recording not renamed");
                        "failed"
                    }
                },
                Ok(Err(error)) => {
                    tracing::warn!(%call_id, %error, "call recording failed");
                    "failed"
                }
                Err(_) => {
                    tracing::warn!(%call_id, "call recording lost");
                    "failed"
                }
            };
            metrics::counter!("acdd_call_recordings_total", "queue" => queue.to_string(), "result" => result)
                .increment(1);
        });
    }
}
