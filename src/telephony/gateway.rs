//! Calls out through the outbound gateway (`[sip] outbound_gateway`), for
//! the missed-call `forward`, transfers to numbers acdd does not route and
//! operators' own calls outside (`outside.rs`):
//! a media leg in the call's session, an INVITE with acdd's SDP to the
//! number or SIP URI (`CallCommand::Dial` with `DialTarget::Gateway`), a
//! ring timer (`outbound_ring_seconds`), and what its answer means:
//! 2xx bridges it with the caller; a failure or the timer hangs a forwarded
//! caller up (480 before an answer, else BYE) or leaves a transferring
//! operator talking (the REFER's NOTIFY says why); BYE from either side
//! ends both.

use std::net::SocketAddr;
use std::time::Duration;

use super::call::{GatewayLeg, Phase, Purpose};
use super::{Input, Telephony};
use crate::engine::Event;
use crate::sip::{CallCommand, DialTarget, LegEvent};

/// The Request-URI for `to` through the gateway: a SIP URI as given, a
/// number at the gateway's address.
pub(crate) fn gateway_uri(to: &str, gateway: SocketAddr) -> String {
    let to = to.trim();
    if to.starts_with("sip:") || to.starts_with("sips:") {
        to.to_string()
    } else {
        let number: String = to.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        format!("sip:{number}@{gateway}")
    }
}

impl Telephony {
    /// The gateway and how long its calls ring, from the live configuration.
    pub(super) fn gateway(&self) -> Option<(SocketAddr, Duration)> {
        let config = self.ctx.config.load();
        let address = config.sip.outbound_gateway.as_ref()?.get_ref().parse().ok()?;
        let ring = Duration::from_secs((*config.sip.outbound_ring_seconds.get_ref()).into());
        Some((address, ring))
    }

    /// Dials `to` through the gateway for the call; `Err` is a SIP status
    /// for why not (no gateway, no media port).
    pub(super) fn dial_gateway(
        &mut self,
        call_id: &str,
        to: &str,
        purpose: Purpose,
        referred_by: Option<String>,
    ) -> Result<(), u16> {
        let (address, ring) = self.gateway().ok_or(503u16)?;
        let target = DialTarget::Gateway {
            address,
            uri: gateway_uri(to, address),
        };
        self.dial_out(call_id, target, ring, purpose, referred_by)
    }

    /// Dials `target` as the call's one leg beside the caller (the gateway,
    /// or a colleague's phones for an internal call), ringing at most `ring`.
    pub(super) fn dial_out(
        &mut self,
        call_id: &str,
        target: DialTarget,
        ring: Duration,
        purpose: Purpose,
        referred_by: Option<String>,
    ) -> Result<(), u16> {
        self.gateway_serial += 1;
        let name = format!("acdd-g{}", self.gateway_serial);
        let call = self.calls.get_mut(call_id).ok_or(481u16)?;
        let (media, sdp) = call
            .media
            .add_leg()
            .and_then(|leg| Ok((leg, call.media.local_sdp(leg)?)))
            .map_err(|e| e.sip_status())?;
        call.gateway = Some(GatewayLeg {
            name: name.clone(),
            media,
            purpose,
            answered: false,
        });
        let _ = self.control.send(CallCommand::Dial {
            leg: name.clone(),
            target,
            caller: call.from.clone(),
            caller_name: call.caller_name.clone(),
            sdp,
            referred_by,
        });
        let loopback = self.loopback.clone();
        tokio::spawn(async move {
            tokio::time::sleep(ring).await;
            let _ = loopback.send(Input::GatewayTimeout(name));
        });
        Ok(())
    }

    pub(super) fn gateway_event(&mut self, leg: &str, event: LegEvent) {
        let Some((call_id, call)) = self.calls.by_gateway(leg) else {
            if matches!(event, LegEvent::Answered { .. }) {
                // The call is gone: the core hangs the late answer up.
                let _ = self.control.send(CallCommand::DropLeg { leg: leg.to_string() });
            }
            return;
        };
        match event {
            LegEvent::Answered { sdp } => self.gateway_answered(&call_id, &sdp),
            LegEvent::Failed { status } => self.gateway_failed(&call_id, if status == 0 { 480 } else { status }),
            LegEvent::Ended => {
                call.gateway = None;
                tracing::info!(%call_id, "the forwarded party hung up");
                let _ = self.control.send(CallCommand::Hangup {
                    call_id: call_id.clone(),
                });
                self.remove_call(&call_id);
            }
            LegEvent::Reoffered { sdp } => self.leg_reoffered(leg, &sdp),
            // Transfers are taken from operators only.
            LegEvent::Referred { .. } => {
                let _ = self.control.send(CallCommand::Notify {
                    leg: leg.to_string(),
                    status: 603,
                });
            }
        }
    }

    /// The gateway's ring timer ran out.
    pub(super) fn gateway_timeout(&mut self, leg: &str) {
        let Some((call_id, call)) = self.calls.by_gateway(leg) else {
            return;
        };
        if call.gateway.as_ref().is_some_and(|g| g.answered) {
            return;
        }
        let _ = self.control.send(CallCommand::DropLeg { leg: leg.to_string() });
        self.gateway_failed(&call_id, 408);
    }

    fn gateway_answered(&mut self, call_id: &str, sdp: &[u8]) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let Some(gateway) = call.gateway.as_mut() else {
            return;
        };
        gateway.answered = true;
        let (media, purpose, name) = (gateway.media, gateway.purpose.clone(), gateway.name.clone());
        let bridged = call
            .media
            .set_remote(media, sdp)
            .and_then(|()| call.media.local_sdp(call.caller))
            .and_then(|answer| call.media.bridge(call.caller, media).map(|()| answer));
        let answer = match bridged {
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(%call_id, %error, "cannot bridge the gateway's leg");
                let _ = self.control.send(CallCommand::DropLeg { leg: name });
                self.gateway_failed(call_id, error.sip_status());
                return;
            }
        };
        call.phase = Phase::Forwarded;
        if !call.answered {
            call.answered = true;
            let _ = self.control.send(CallCommand::Respond {
                call_id: call_id.to_string(),
                status: 200,
                sdp: Some(answer),
            });
        }
        match purpose {
            Purpose::Forward => tracing::info!(%call_id, leg = %name, "forwarded call bridged"),
            Purpose::Internal { callee } => {
                if let Some(callee) = callee {
                    call.phones_in_use.push(callee);
                    self.ctx.engine.send(Event::PhoneInUse {
                        operator: callee,
                        in_use: true,
                    });
                }
                tracing::info!(%call_id, leg = %name, "internal call bridged")
            }
            Purpose::Outside { operator, number } => {
                tracing::info!(%call_id, leg = %name, %operator, %number, "operator's call outside bridged");
                self.called_back(&operator, &number);
            }
            Purpose::Transfer { from } => {
                self.notify(&from, 200);
                self.release(call_id, &from);
                tracing::info!(%call_id, leg = %name, "call transferred outside and bridged");
                if let Some(request) = self.calls.detach_request(call_id) {
                    self.ctx.engine.send(Event::Closed { request });
                }
            }
        }
    }

    /// The gateway's leg failed with `status` (or rang out: 408).
    fn gateway_failed(&mut self, call_id: &str, status: u16) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let Some(gateway) = call.gateway.take() else {
            return;
        };
        match gateway.purpose {
            Purpose::Forward => {
                tracing::info!(%call_id, status, "forward failed: hanging up the caller");
                let _ = self.control.send(CallCommand::Hangup {
                    call_id: call_id.to_string(),
                });
                self.remove_call(call_id);
            }
            Purpose::Internal { .. } | Purpose::Outside { .. } => {
                tracing::info!(%call_id, status, "operator's call not answered");
                let _ = self.control.send(CallCommand::Respond {
                    call_id: call_id.to_string(),
                    status: if status >= 300 { status } else { 480 },
                    sdp: None,
                });
                self.remove_call(call_id);
            }
            Purpose::Transfer { from } => {
                tracing::info!(%call_id, status, "transfer outside failed: the operator keeps the call");
                self.notify(&from, status);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gateway_uri;

    #[test]
    fn numbers_go_to_the_gateway_and_uris_as_given() {
        let gateway = "192.0.2.10:5060".parse().unwrap();
        assert_eq!(
            gateway_uri("+49 30 123-456", gateway),
            "sip:+4930123456@192.0.2.10:5060"
        );
        assert_eq!(
            gateway_uri("sip:+4930@carrier.example", gateway),
            "sip:+4930@carrier.example"
        );
    }
}
