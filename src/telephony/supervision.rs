//! Supervisors on operators' calls, as PBX supervisors monitor agents:
//! a supervisor of the call's queue (`supervisors`) dials `*81` + the
//! extension of the operator talking (who answered it or picked it up) to listen, `*82` + extension to whisper (the
//! operator hears them, the caller does not) or `*83` + extension to join
//! (everybody hears everybody). Their phone gets a leg in the call's media
//! session; what each leg hears becomes a mix (`MediaSession::mix`). The
//! supervisor hanging up puts caller and operator back on a plain bridge;
//! the call ending, or moving to another operator, hangs the supervisor
//! up. Their phone is in use for the engine meanwhile. Refusals: 404 (no
//! such extension, or the operator is in no bridged call), 403 (not a
//! supervisor of the call's queue), 486 (somebody supervises it already).

use std::collections::HashMap;

use super::Telephony;
use super::call::{Call, Mode, SupervisorLeg};
use crate::engine::{Event, OperatorId};
use crate::media::{LegId, MediaError};
use crate::sip::{CallCommand, IncomingCall};

/// The mode and extension a supervision code asks for, if `number` is one.
pub(crate) fn supervision_code(number: &str) -> Option<(Mode, &str)> {
    let (mode, extension) = if let Some(extension) = number.strip_prefix("*81") {
        (Mode::Listen, extension)
    } else if let Some(extension) = number.strip_prefix("*82") {
        (Mode::Whisper, extension)
    } else {
        (Mode::Join, number.strip_prefix("*83")?)
    };
    (!extension.is_empty()).then_some((mode, extension))
}

/// Sets what each leg of a supervised call hears: the supervisor hears
/// caller and operator; whispering, the operator hears caller and
/// supervisor; joined, the caller hears operator and supervisor too. Again
/// after the operator resumed from hold (which bridged the two plainly).
pub(crate) fn mix(call: &mut Call, supervisor_leg: SupervisorLeg) -> Result<(), MediaError> {
    let caller = call.caller;
    call.media
        .mix(supervisor_leg.leg, &[caller, supervisor_leg.operator_leg])?;
    if supervisor_leg.mode != Mode::Listen {
        call.media
            .mix(supervisor_leg.operator_leg, &[caller, supervisor_leg.leg])?;
    }
    if supervisor_leg.mode == Mode::Join {
        call.media
            .mix(caller, &[supervisor_leg.operator_leg, supervisor_leg.leg])?;
    }
    Ok(())
}

/// A supervisor's leg in a call.
pub(crate) struct Supervision {
    /// The supervised call's Call-ID.
    call_id: String,
    supervisor: OperatorId,
    supervisor_leg: SupervisorLeg,
}

#[derive(Default)]
pub(crate) struct Supervisions {
    /// By the supervisor's Call-ID.
    by_supervisor: HashMap<String, Supervision>,
}

impl Supervisions {
    /// Who supervises the call `call_id`, and how.
    pub fn of_call(&self, call_id: &str) -> Option<(OperatorId, Mode)> {
        self.by_supervisor
            .values()
            .find(|s| s.call_id == call_id)
            .map(|s| (s.supervisor, s.supervisor_leg.mode))
    }

    /// The supervisor's leg, if `call_id` is a supervisor's call.
    pub fn leg_of(&self, call_id: &str) -> Option<(String, LegId)> {
        let supervision = self.by_supervisor.get(call_id)?;
        Some((supervision.call_id.clone(), supervision.supervisor_leg.leg))
    }
}

impl Telephony {
    /// `supervisor` dialled a supervision code.
    pub(super) async fn supervise(&mut self, call: IncomingCall, supervisor: &str) {
        let Some((mode, extension)) = supervision_code(&call.number) else {
            return;
        };
        let operator = self.operator_with_extension(extension);
        let status = match self.operator_ids(supervisor.to_string(), operator).await {
            (Some(supervisor_id), Some(operator_id)) => {
                match self.join_as_supervisor(&call, supervisor, supervisor_id, operator_id, mode) {
                    Ok(()) => return,
                    Err(status) => status,
                }
            }
            _ => 404,
        };
        tracing::info!(%supervisor, number = %call.number, status, "supervision refused");
        let _ = self.control.send(CallCommand::Respond {
            call_id: call.call_id,
            status,
            sdp: None,
        });
    }

    /// Adds the supervisor's leg to the operator's bridged call; the
    /// status to refuse with otherwise.
    fn join_as_supervisor(
        &mut self,
        call: &IncomingCall,
        supervisor: &str,
        supervisor_id: OperatorId,
        operator: OperatorId,
        mode: Mode,
    ) -> Result<(), u16> {
        let (call_id, operator_leg) = self.call_of_operator(operator).ok_or(404u16)?;
        if self.supervisions.by_supervisor.values().any(|s| s.call_id == call_id) {
            return Err(486);
        }
        let allowed = {
            let config = self.ctx.config.load();
            let queue = self.calls.get_mut(&call_id).and_then(|c| c.queue.clone());
            config.queues.iter().any(|q| {
                queue.as_deref() == Some(q.name.get_ref().as_str())
                    && q.supervisors.iter().any(|s| s.get_ref() == supervisor)
            })
        };
        if !allowed {
            return Err(403);
        }
        let kept = self.calls.get_mut(&call_id).ok_or(404u16)?;
        let caller = kept.caller;
        let joined = kept.media.add_leg().and_then(|leg| {
            let supervisor_leg = SupervisorLeg {
                leg,
                operator_leg,
                mode,
            };
            let sdp = kept
                .media
                .set_remote(leg, &call.body)
                .and_then(|()| kept.media.local_sdp(leg))
                .and_then(|sdp| mix(kept, supervisor_leg).map(|()| sdp));
            match sdp {
                Ok(sdp) => {
                    kept.supervisor = Some(supervisor_leg);
                    Ok((supervisor_leg, sdp))
                }
                Err(error) => {
                    let _ = kept.media.release_leg(leg);
                    let _ = kept.media.bridge(caller, operator_leg);
                    Err(error)
                }
            }
        });
        let (supervisor_leg, sdp) = joined.map_err(|error| {
            tracing::warn!(%call_id, %error, "supervisor's leg cannot join");
            error.sip_status()
        })?;
        tracing::info!(%call_id, %supervisor, mode = mode.name(), "supervisor joined the call");
        metrics::counter!("acdd_supervisions_total", "mode" => mode.name()).increment(1);
        self.ctx.engine.send(Event::PhoneInUse {
            operator: supervisor_id,
            in_use: true,
        });
        let _ = self.control.send(CallCommand::Respond {
            call_id: call.call_id.clone(),
            status: 200,
            sdp: Some(sdp),
        });
        self.supervisions.by_supervisor.insert(
            call.call_id.clone(),
            Supervision {
                call_id,
                supervisor: supervisor_id,
                supervisor_leg,
            },
        );
        Ok(())
    }

    /// BYE or CANCEL from a supervisor's phone; true if `call_id` is one.
    /// Caller and operator hear each other plainly again.
    pub(super) fn supervisor_left(&mut self, call_id: &str) -> bool {
        let Some(supervision) = self.supervisions.by_supervisor.remove(call_id) else {
            return false;
        };
        self.ctx.engine.send(Event::PhoneInUse {
            operator: supervision.supervisor,
            in_use: false,
        });
        let still_bridged = self.talking_leg(&supervision.call_id) == Some(supervision.supervisor_leg.operator_leg);
        if let Some(call) = self.calls.get_mut(&supervision.call_id) {
            call.supervisor = None;
            let _ = call.media.release_leg(supervision.supervisor_leg.leg);
            if supervision.supervisor_leg.mode != Mode::Listen && still_bridged && call.on_hold.is_none() {
                let _ = call.media.bridge(call.caller, supervision.supervisor_leg.operator_leg);
            }
        }
        tracing::info!(call_id = %supervision.call_id, "supervisor left the call");
        true
    }

    /// The call ended or moved to another operator: its supervisor, if
    /// any, is hung up.
    pub(super) fn end_supervision_of(&mut self, call_id: &str) {
        let supervisors: Vec<String> = self
            .supervisions
            .by_supervisor
            .iter()
            .filter(|(_, s)| s.call_id == call_id)
            .map(|(supervisor, _)| supervisor.clone())
            .collect();
        for supervisor in supervisors {
            if let Some(supervision) = self.supervisions.by_supervisor.remove(&supervisor) {
                self.ctx.engine.send(Event::PhoneInUse {
                    operator: supervision.supervisor,
                    in_use: false,
                });
                if let Some(call) = self.calls.get_mut(call_id) {
                    call.supervisor = None;
                    let _ = call.media.release_leg(supervision.supervisor_leg.leg);
                }
            }
            tracing::info!(%call_id, "supervised call over: hanging up the supervisor");
            let _ = self.control.send(CallCommand::Hangup { call_id: supervisor });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervision_codes() {
        assert_eq!(supervision_code("*81101"), Some((Mode::Listen, "101")));
        assert_eq!(supervision_code("*82101"), Some((Mode::Whisper, "101")));
        assert_eq!(supervision_code("*83101"), Some((Mode::Join, "101")));
        assert_eq!(supervision_code("*81"), None);
        assert_eq!(supervision_code("*84101"), None);
        assert_eq!(supervision_code("101"), None);
    }
}
