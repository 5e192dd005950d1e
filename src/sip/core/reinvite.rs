//! Re-INVITE in an answered dialog (RFC 3261 §14): a phone putting the
//! other side on hold or back, a session-timer refresh (RFC 4028), a new
//! media address. The core answers 100 and keeps the transaction; telephony,
//! which owns the media, hears `CallUpdate::Reoffered` or
//! `LegEvent::Reoffered` and answers with `CallCommand::AnswerReoffer` (the
//! media's SDP answer, or 488). A second re-INVITE while one is open gets 491;
//! the ACK of the 2xx stops its retransmissions. Re-INVITEs outside a dialog
//! acdd knows get 481, as before.

use std::time::{Duration, Instant};

use super::SipCore;
use crate::sip::calls::{CallUpdate, LegEvent, ReofferDialog};
use crate::sip::transaction::key::TransactionKey;
use crate::sip::transport::Path;
use crate::sip::wire::{Request, ResponseBuilder, reason_phrase};

/// How long an answered re-INVITE waits for its ACK before it is forgotten
/// (the 2xx is retransmitted for as long, 64·T1).
const ACK_WAIT: Duration = Duration::from_secs(32);

/// A re-INVITE the core received, by the dialog's Call-ID.
pub(in crate::sip) struct Reoffer {
    request: Request,
    key: TransactionKey,
    path: Path,
    /// When the final answer went out; `None` while telephony decides.
    answered: Option<Instant>,
}

impl SipCore {
    pub(super) fn reinvite(&mut self, request: &Request, key: &TransactionKey, path: Path) {
        let call_id = &request.call_id;
        let dialog = if self
            .inbound_legs
            .get(call_id)
            .is_some_and(|l| l.in_this_dialog(request))
        {
            Some(ReofferDialog::Caller(call_id.clone()))
        } else {
            self.forks.get(call_id).cloned().and_then(|(leg, index)| {
                let fork = self.outbound_legs.get(&leg)?.forks.get(index)?;
                fork.in_this_dialog(request.from.tag(), request.to.tag())
                    .then_some(ReofferDialog::Leg(leg))
            })
        };
        let Some(dialog) = dialog else {
            self.simple(request, key, path, 481);
            return;
        };
        if self.reoffers.get(call_id).is_some_and(|r| r.answered.is_none()) {
            self.simple(request, key, path, 491);
            return;
        }
        let trying = ResponseBuilder::new(&request.headers, 100, "Trying", "").build();
        self.reply(key, path, 100, trying);
        self.reoffers.insert(
            call_id.clone(),
            Reoffer {
                request: request.clone(),
                key: key.clone(),
                path,
                answered: None,
            },
        );
        let sdp = request.body.clone();
        tracing::debug!(%call_id, ?dialog, offer = !sdp.is_empty(), "re-INVITE");
        match dialog {
            ReofferDialog::Caller(call_id) => self.calls.update(&call_id, CallUpdate::Reoffered { sdp }),
            ReofferDialog::Leg(leg) => self.calls.leg(&leg, LegEvent::Reoffered { sdp }),
        }
    }

    /// Telephony's answer to a re-INVITE: 2xx with `sdp`, or a failure.
    pub(super) fn answer_reoffer(&mut self, dialog: &ReofferDialog, status: u16, sdp: Option<Vec<u8>>) {
        let call_id = match dialog {
            ReofferDialog::Caller(call_id) => Some(call_id.clone()),
            ReofferDialog::Leg(leg) => self
                .outbound_legs
                .get(leg)
                .and_then(|o| o.forks.iter().find(|f| f.answered()))
                .map(|f| f.call_id.clone()),
        };
        let Some(reoffer) = call_id.and_then(|c| self.reoffers.get_mut(&c)) else {
            return;
        };
        if reoffer.answered.is_some() || !(200..700).contains(&status) {
            return;
        }
        let mut response = ResponseBuilder::new(&reoffer.request.headers, status, reason_phrase(status), "");
        if status < 300 {
            if let Some(contact) = self.outbound.contact_for(reoffer.path) {
                response = response.header("Contact", &contact);
            }
            response = response.header("Allow", super::dispatch::ALLOW);
            if let Some(sdp) = sdp {
                response = response.body("application/sdp", sdp);
            }
        }
        reoffer.answered = Some(Instant::now());
        let (key, path) = (reoffer.key.clone(), reoffer.path);
        self.reply(&key, path, status, response.build());
    }

    /// The ACK of an answered re-INVITE in `request`'s dialog, if it is one.
    pub(super) fn reoffer_ack(&mut self, request: &Request, path: Path) -> bool {
        let ours = self
            .reoffers
            .get(&request.call_id)
            .is_some_and(|r| r.answered.is_some() && r.request.cseq == request.cseq);
        if ours && let Some(reoffer) = self.reoffers.remove(&request.call_id) {
            self.servers.arrive(&reoffer.key, "ACK", path, Instant::now());
        }
        ours
    }

    /// Forgets re-INVITEs answered long ago (no ACK came) or whose dialog ended.
    pub(super) fn prune_reoffers(&mut self, now: Instant) {
        let (inbound, forks) = (&self.inbound_legs, &self.forks);
        self.reoffers.retain(|call_id, r| {
            let alive = inbound.contains_key(call_id) || forks.contains_key(call_id);
            alive && r.answered.is_none_or(|at| now.duration_since(at) < ACK_WAIT)
        });
    }
}
