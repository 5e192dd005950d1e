//! Transaction identity (RFC 3261 §17.2.3): branch + sent-by + method for
//! RFC 3261 requests; for RFC 2543 requests (no magic cookie) the
//! Request-URI, From tag, Call-ID, CSeq and top Via. ACK matches its INVITE.

use crate::sip::wire::Request;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionKey(String);

impl TransactionKey {
    pub fn of(request: &Request) -> TransactionKey {
        let method = if request.method == "ACK" {
            "INVITE"
        } else {
            request.method.as_str()
        };
        match request.via.rfc3261_branch() {
            Some(branch) => TransactionKey(format!(
                "{branch}|{}|{method}",
                request.via.sent_by.to_ascii_lowercase()
            )),
            None => TransactionKey(format!(
                "2543|{}|{}|{}|{}|{}|{method}",
                request.uri_text,
                request.from.tag().unwrap_or(""),
                request.call_id,
                request.cseq,
                request.via.sent_by
            )),
        }
    }

    /// The INVITE transaction a CANCEL refers to.
    pub fn cancelled_invite(cancel: &Request) -> TransactionKey {
        let TransactionKey(key) = TransactionKey::of(cancel);
        TransactionKey(
            key.strip_suffix("|CANCEL")
                .map(|k| format!("{k}|INVITE"))
                .unwrap_or(key),
        )
    }
}
