//! Engine actions on calls that nobody took: `RunMissed` ends the call
//! (480 before an answer, BYE after). Voicemail and forwarding are not
//! carried yet: they hang up too, and say so in the log.

use super::Telephony;
use crate::engine::{Action, MissedAction};
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
        self.calls.remove(&call_id);
        if !matches!(missed, MissedAction::Hangup) {
            tracing::warn!(%call_id, ?missed, "missed-call action not carried by telephony yet: hanging up");
        }
        tracing::info!(%call_id, request = request.0, ?reason, remaining = self.calls.len(), "missed call: hanging up");
        let _ = self.control.send(CallCommand::Hangup { call_id });
    }
}
