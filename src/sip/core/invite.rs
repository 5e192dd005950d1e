//! INVITE: content the telephony layer can use (SDP), then a re-INVITE in a
//! dialog goes to `reinvite.rs`; else a caller that is a
//! trunk (by source or credentials) or an authenticated operator, then the
//! call goes through the `IncomingCalls` seam: a final answer at once, or
//! `Pending` (kept in `dialogs.rs` until telephony answers). A trunk's
//! P-Asserted-Identity (RFC 3325) names the caller before its From.

use super::SipCore;
use super::authenticate::Identity;
use crate::sip::auth::verifier::Principal;
use crate::sip::calls::{CallVerdict, Caller, IncomingCall};
use crate::sip::transaction::key::TransactionKey;
use crate::sip::transport::Path;
use crate::sip::wire::name_addr::parse_name_addr;
use crate::sip::wire::uri::Uri;
use crate::sip::wire::{Headers, Request, ResponseBuilder};

/// The first URI a P-Asserted-Identity names (several may be listed,
/// comma-separated, e.g. a SIP URI and a tel URI).
fn asserted_identity(headers: &Headers) -> Option<String> {
    for line in headers.all("p-asserted-identity") {
        let (mut depth, mut quoted, mut start) = (0i32, false, 0);
        let mut parts = Vec::new();
        for (i, c) in line.char_indices() {
            match c {
                '"' => quoted = !quoted,
                '<' if !quoted => depth += 1,
                '>' if !quoted => depth -= 1,
                ',' if !quoted && depth == 0 => {
                    parts.push(&line[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&line[start..]);
        if let Some(found) = parts.iter().find_map(|part| parse_name_addr(part.trim()).ok()) {
            return Some(found.uri_text);
        }
    }
    None
}

fn media_type(value: &str) -> String {
    value.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

impl SipCore {
    pub(super) fn invite(&mut self, request: &Request, key: &TransactionKey, path: Path) {
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
        if request.to.tag().is_some() {
            self.reinvite(request, key, path);
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
        let from = match &caller {
            Caller::Trunk(_) => asserted_identity(&request.headers),
            Caller::Operator(_) => None,
        };
        let call = IncomingCall {
            caller,
            number,
            from: from.unwrap_or_else(|| request.from.uri_text.clone()),
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

#[cfg(test)]
mod tests {
    use super::asserted_identity;
    use crate::sip::wire::headers::{Header, Headers};

    fn headers(lines: &[&str]) -> Headers {
        Headers(
            lines
                .iter()
                .map(|value| Header {
                    name: "p-asserted-identity".into(),
                    value: value.to_string(),
                })
                .collect(),
        )
    }

    #[test]
    fn the_first_asserted_uri_names_the_caller() {
        let listed = headers(&["\"Smith, Ann\" <sip:+4930123@carrier.example;user=phone>, <tel:+4930123>"]);
        assert_eq!(
            asserted_identity(&listed).as_deref(),
            Some("sip:+4930123@carrier.example;user=phone")
        );
        assert_eq!(
            asserted_identity(&headers(&["<tel:+4930999>"])).as_deref(),
            Some("tel:+4930999")
        );
        assert_eq!(
            asserted_identity(&headers(&["garbage <", "<sip:+1@x>"])).as_deref(),
            Some("sip:+1@x")
        );
        assert_eq!(asserted_identity(&headers(&[])), None);
    }
}
