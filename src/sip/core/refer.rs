//! REFER on a leg acdd dialled (RFC 3515 blind transfer, RFC 3892
//! Referred-By): the operator's REFER is answered 202 and a first NOTIFY
//! (`message/sipfrag` `SIP/2.0 100 Trying`) goes out at once; telephony
//! hears `LegEvent::Referred` and decides nothing here. Its
//! `CallCommand::Notify` sends the final NOTIFY, which ends the implicit
//! subscription. REFER elsewhere: 481 outside a dialog acdd knows (Call-ID
//! and both tags), 403 on an inbound leg (transfers are taken from the
//! legs acdd dialled only).

use std::time::{Duration, Instant};

use super::SipCore;
use crate::sip::calls::LegEvent;
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
        let Some((leg, index)) = fork.filter(|_| answered) else {
            let code = if self.inbound_legs.contains_key(&request.call_id) {
                403
            } else {
                481
            };
            self.simple(request, key, path, code);
            return;
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
        tracing::info!(%leg, %refer_to, referred_by = referred_by.as_deref().unwrap_or(""), "REFER accepted");
        self.send_notify(&leg, index, 100);
        self.calls.leg(&leg, LegEvent::Referred { refer_to, referred_by });
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
        let state = if status < 200 {
            "active;expires=60"
        } else {
            "terminated;reason=noresource"
        };
        let body = sipfrag(status);
        let head = head.replace(
            "Content-Length: 0\r\n\r\n",
            &format!(
                "Contact: <sip:acdd@{}>\r\nEvent: refer\r\nSubscription-State: {state}\r\n\
                 Content-Type: message/sipfrag;version=2.0\r\nContent-Length: {}\r\n\r\n",
                fork.local,
                body.len()
            ),
        );
        let bytes = format!("{head}{body}").into_bytes();
        let (path, call_id) = (fork.path, fork.call_id.clone());
        self.outbound.send(path, bytes.clone());
        self.byes
            .start(branch, bytes, path, NOTIFY_TIMEOUT, call_id, Instant::now());
    }
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
