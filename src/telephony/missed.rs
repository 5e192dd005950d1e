//! Engine actions on calls that nobody took: `RunMissed` ends the call
//! (480 before an answer, BYE after). Voicemail and forwarding are not
//! carried yet: they hang up too, and say so in the log.

use super::call::Calls;
use crate::channels::ChannelContext;
use crate::engine::Action;
use crate::engine::MissedAction;
use crate::sip::{CallCommand, CallControl};

pub(super) fn action(_ctx: &ChannelContext, control: &CallControl, calls: &mut Calls, action: Action) {
    let Action::RunMissed {
        request,
        action: missed,
        reason,
        ..
    } = action
    else {
        return;
    };
    let Some(call_id) = calls.call_id_of(request).map(str::to_string) else {
        return;
    };
    calls.remove(&call_id);
    if !matches!(missed, MissedAction::Hangup) {
        tracing::warn!(%call_id, ?missed, "missed-call action not carried by telephony yet: hanging up");
    }
    tracing::info!(%call_id, request = request.0, ?reason, remaining = calls.len(), "missed call: hanging up");
    let _ = control.send(CallCommand::Hangup { call_id });
}
