//! REFER (RFC 3515 blind transfer, RFC 3892 Referred-By) in an answered
//! dialog: on a leg acdd dialled (an operator it rang) or on an inbound
//! call (an operator who picked a call up; a trunk's REFER is refused by
//! telephony). The REFER is answered 202 and a first NOTIFY
//! (`message/sipfrag` `SIP/2.0 100 Trying`) goes out at once; telephony
//! hears `LegEvent::Referred` or `CallUpdate::Referred` and decides nothing
//! here. Its `CallCommand::Notify` / `NotifyCaller` sends the final NOTIFY,
//! which ends the implicit subscription. REFER outside a dialog acdd knows
//! (Call-ID and both tags) gets 481; on an inbound call not yet answered, 403.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::SipCore;
use crate::sip::calls::{CallUpdate, LegEvent};
use crate::sip::transaction::key::TransactionKey;
use crate::sip::transport::Path;
use crate::sip::wire::name_addr::parse_name_addr;
use crate::sip::wire::{Request, reason_phrase};

/// How long a NOTIFY may go unanswered.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(32);

/// The body of a NOTIFY for `status` (RFC 3420 sipfrag: a status line).
pub(super) fn sipfrag(status: u16) -> String {
    format!("SIP/2.0 {status} {}\r\n", reason_phrase(status))
}

impl SipCore {
    pub(super) fn refer(&mut self, request: &Request, key: &TransactionKey, path: Path) {
        let fork = self.forks.get(&request.call_id).cloned();
        let answered = fork.as_ref().is_some_and(|(leg, index)| {
            self.outbound_legs
                .get(leg)
                .and_then(|o| o.forks.get(*index))
                .is_some_and(|f| f.in_this_dialog(request.from.tag(), request.to.tag()))
        });
        let inbound = self.inbound_legs.get(&request.call_id);
        let referee = match fork.filter(|_| answered) {
            Some((leg, index)) => Referee::Dialled { leg, index },
            None if inbound.is_some_and(|l| l.in_this_dialog(request)) => Referee::Inbound,
            None => {
                self.simple(request, key, path, if inbound.is_some() { 403 } else { 481 });
                return;
            }
        };
        let targets: Vec<&str> = request.headers.all("refer-to").collect();
        let refer_to = match targets[..] {
            [one] => parse_name_addr(one).ok().map(|n| n.uri_text),
            _ => None,
        };
        let Some(refer_to) = refer_to else {
            self.simple_with_reason(request, key, path, 400, "Bad Refer-To");
            return;
        };
        let referred_by = request.headers.get("referred-by").map(str::to_string);
        self.simple(request, key, path, 202);
        match referee {
            Referee::Dialled { leg, index } => {
                tracing::info!(%leg, %refer_to, referred_by = referred_by.as_deref().unwrap_or(""), "REFER accepted");
                self.send_notify(&leg, index, 100);
                self.calls.leg(&leg, LegEvent::Referred { refer_to, referred_by });
            }
            Referee::Inbound => {
                let call_id = &request.call_id;
                tracing::info!(%call_id, %refer_to, referred_by = referred_by.as_deref().unwrap_or(""), "REFER accepted");
                self.notify_caller_refer(call_id, 100);
                self.calls
                    .update(call_id, CallUpdate::Referred { refer_to, referred_by });
            }
        }
    }

    /// A NOTIFY of a REFER in an inbound call's dialog.
    pub(super) fn notify_caller_refer(&mut self, call_id: &str, status: u16) {
        let branch = format!("z9hG4bK-n{}", self.new_tag());
        let Some((head, local, path)) = self.inbound_request(call_id, "NOTIFY", &branch) else {
            tracing::debug!(%call_id, status, "no answered call to NOTIFY");
            return;
        };
        self.send_notify_request(head, local, path, status, branch, call_id.to_string());
    }

    /// The final NOTIFY of a REFER on `leg` (its answered fork).
    pub(super) fn notify_refer(&mut self, leg: &str, status: u16) {
        let index = self
            .outbound_legs
            .get(leg)
            .and_then(|o| o.forks.iter().position(|f| f.answered()));
        match index {
            Some(index) => self.send_notify(leg, index, status),
            None => tracing::debug!(%leg, status, "no answered leg to NOTIFY"),
        }
    }

    fn send_notify(&mut self, leg: &str, index: usize, status: u16) {
        let branch = format!("z9hG4bK-n{}", self.new_tag());
        let Some(fork) = self.outbound_legs.get_mut(leg).and_then(|o| o.forks.get_mut(index)) else {
            return;
        };
        let Some(head) = fork.in_dialog("NOTIFY", &branch) else {
            return;
        };
        let (local, path, call_id) = (fork.local, fork.path, fork.call_id.clone());
        self.send_notify_request(head, local, path, status, branch, call_id);
    }

    /// Gives the bodiless in-dialog `head` the refer event's headers and a
    /// sipfrag of `status`, sends it and retransmits it until answered.
    fn send_notify_request(
        &mut self,
        head: String,
        local: SocketAddr,
        path: Path,
        status: u16,
        branch: String,
        call_id: String,
    ) {
        let state = if status < 200 {
            "active;expires=60"
        } else {
            "terminated;reason=noresource"
        };
        let body = sipfrag(status);
        let head = head.replace(
            "Content-Length: 0\r\n\r\n",
            &format!(
                "Contact: <sip:acdd@{local}>\r\nEvent: refer\r\nSubscription-State: {state}\r\n\
                 Content-Type: message/sipfrag;version=2.0\r\nContent-Length: {}\r\n\r\n",
                body.len()
            ),
        );
        let bytes = format!("{head}{body}").into_bytes();
        self.outbound.send(path, bytes.clone());
        self.byes
            .start(branch, bytes, path, NOTIFY_TIMEOUT, call_id, Instant::now());
    }
}

/// Whose dialog a REFER came in.
enum Referee {
    /// An answered fork of a leg acdd dialled.
    Dialled { leg: String, index: usize },
    /// The inbound call of the REFER's Call-ID.
    Inbound,
}

#[cfg(test)]
mod tests {
    use super::sipfrag;

    #[test]
    fn sipfrag_is_a_status_line() {
        assert_eq!(sipfrag(100), "SIP/2.0 100 Trying\r\n");
        assert_eq!(sipfrag(200), "SIP/2.0 200 OK\r\n");
        assert_eq!(sipfrag(503), "SIP/2.0 503 Service Unavailable\r\n");
    }
}
