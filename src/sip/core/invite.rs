//! INVITE: content the telephony layer can use (SDP), a caller that is a
//! trunk (by source or credentials) or an authenticated operator, then the
//! call goes through the `IncomingCalls` seam: a final answer at once, or
//! `Pending` (kept in `dialogs.rs` until telephony answers).

use super::SipCore;
use super::authenticate::Identity;
use crate::sip::auth::verifier::Principal;
use crate::sip::calls::{CallVerdict, Caller, IncomingCall};
use crate::sip::transaction::key::TransactionKey;
use crate::sip::transport::Path;
use crate::sip::wire::uri::Uri;
use crate::sip::wire::{Request, ResponseBuilder};

fn media_type(value: &str) -> String {
    value.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

impl SipCore {
    pub(super) fn invite(&mut self, request: &Request, key: &TransactionKey, path: Path) {
        if request.to.tag().is_some() {
            self.simple(request, key, path, 481);
            return;
        }
        let content_type = request.headers.get("content-type").map(media_type);
        if !request.body.is_empty()
            && !matches!(
                content_type.as_deref(),
                Some("application/sdp") | Some("multipart/mixed")
            )
        {
            let tag = self.new_tag();
            let bytes = ResponseBuilder::new(&request.headers, 415, "Unsupported Media Type", &tag)
                .header("Accept", "application/sdp")
                .build();
            self.reply(key, path, 415, bytes);
            return;
        }
        let accepts: Vec<String> = request.headers.elements("accept").map(media_type).collect();
        if !accepts.is_empty()
            && !accepts
                .iter()
                .any(|a| matches!(a.as_str(), "application/sdp" | "application/*" | "*/*"))
        {
            let tag = self.new_tag();
            let bytes = ResponseBuilder::new(&request.headers, 406, "Not Acceptable", &tag)
                .header("Accept", "application/sdp")
                .header("Warning", "399 acdd \"answers carry application/sdp only\"")
                .build();
            self.reply(key, path, 406, bytes);
            return;
        }
        let caller = match self.trunks.by_source(path.peer().ip()) {
            Some(trunk) => Caller::Trunk(trunk.to_string()),
            None => match self.authenticate(request, key, path) {
                Identity::Known(Principal::Operator(id)) => Caller::Operator(id),
                Identity::Known(Principal::Trunk(name)) => Caller::Trunk(name),
                Identity::Answered => return,
            },
        };
        let number = match &request.uri {
            Uri::Sip(uri) => uri.user_unescaped().unwrap_or_default(),
            Uri::Other { .. } => String::new(),
        };
        let call = IncomingCall {
            caller,
            number,
            from: request.from.uri_text.clone(),
            call_id: request.call_id.clone(),
            content_type,
            body: request.body.clone(),
        };
        match self.calls.offer(&call) {
            CallVerdict::Reject { status } => self.simple(request, key, path, status),
            CallVerdict::Pending => self.hold_invite(request, key, path),
        }
    }
}
