//! Feature codes an operator dials to change their workday from the phone,
//! as PBX agents log in and pause with star codes: `*45` starts it (or
//! resumes it after a pause) and says the operator is online (someone
//! dialling from the phone is present: an operator with a desk phone and no
//! app becomes available this way), `*46` pauses it (reason "phone"), `*47`
//! ends it. The engine gets `Event::Presence` and `Event::Workday`, as from
//! `POST /api/v1/operators/me/status`; the phone's call is answered, hears
//! a second of tone as the confirmation, then gets BYE (`CONFIRMATION`).

use std::time::Duration;

use super::call::Phase;
use super::{Input, Telephony};
use crate::engine::{Event, Presence, Workday};
use crate::media::{PlaySource, Tone};
use crate::sip::{CallCommand, IncomingCall};

/// How long the confirmation tone sounds before acdd hangs up.
const CONFIRMATION: Duration = Duration::from_millis(1200);

/// The workday a feature code asks for, if `number` is one.
pub(crate) fn workday_code(number: &str) -> Option<Workday> {
    match number {
        "*45" => Some(Workday::Started),
        "*46" => Some(Workday::Paused { reason: "phone".into() }),
        "*47" => Some(Workday::Ended),
        _ => None,
    }
}

impl Telephony {
    /// `operator` dialled a workday code.
    pub(super) async fn workday_code(&mut self, call: IncomingCall, operator: String) {
        let Some(workday) = workday_code(&call.number) else {
            return;
        };
        let id = self.ctx.engine.query(move |e| e.operator_id(&operator)).await.flatten();
        let Some(id) = id else {
            let _ = self.control.send(CallCommand::Respond {
                call_id: call.call_id,
                status: 404,
                sdp: None,
            });
            return;
        };
        if !self.take_call(&call, Phase::Confirming) {
            return;
        }
        tracing::info!(operator = ?id, ?workday, "workday changed from the phone");
        if workday == Workday::Started {
            self.ctx.engine.send(Event::Presence {
                operator: id,
                presence: Presence::Online,
            });
        }
        self.ctx.engine.send(Event::Workday { operator: id, workday });
        let Some(kept) = self.calls.get_mut(&call.call_id) else {
            return;
        };
        let sdp = match kept.media.local_sdp(kept.caller) {
            Ok(sdp) => sdp,
            // The change stands; the phone hears why its call failed.
            Err(error) => {
                let _ = self.control.send(CallCommand::Respond {
                    call_id: call.call_id.clone(),
                    status: error.sip_status(),
                    sdp: None,
                });
                self.remove_call(&call.call_id);
                return;
            }
        };
        kept.answered = true;
        let _ = self.control.send(CallCommand::Respond {
            call_id: call.call_id.clone(),
            status: 200,
            sdp: Some(sdp),
        });
        self.confirm_then_hang_up(&call.call_id);
    }

    /// The answered call `call_id` hears a second of tone, then BYE
    /// (`confirmed`): how a workday code or a callback request is confirmed.
    pub(super) fn confirm_then_hang_up(&mut self, call_id: &str) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        call.phase = Phase::Confirming;
        if let Err(error) = call.media.play(call.caller, PlaySource::Ringback(Tone::europe())) {
            tracing::info!(%call_id, %error, "no confirmation tone");
        }
        let (loopback, call_id) = (self.loopback.clone(), call_id.to_string());
        tokio::spawn(async move {
            tokio::time::sleep(CONFIRMATION).await;
            let _ = loopback.send(Input::Confirmed(call_id));
        });
    }

    /// The confirmation of a feature code has sounded: BYE.
    pub(super) fn confirmed(&mut self, call_id: &str) {
        if self
            .calls
            .get_mut(call_id)
            .is_some_and(|call| call.phase == Phase::Confirming)
        {
            let _ = self.control.send(CallCommand::Hangup {
                call_id: call_id.to_string(),
            });
            self.remove_call(call_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_codes_change_the_workday() {
        assert_eq!(workday_code("*45"), Some(Workday::Started));
        assert!(matches!(workday_code("*46"), Some(Workday::Paused { .. })));
        assert_eq!(workday_code("*47"), Some(Workday::Ended));
        assert_eq!(workday_code("*8"), None);
        assert_eq!(workday_code("45"), None);
    }
}
