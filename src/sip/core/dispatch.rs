//! The front door for parsed requests: transaction matching first, then the
//! checks every request passes (Max-Forwards, URI scheme, Require, method),
//! then the method's handler. Every request that is not an ACK gets exactly
//! one final response.

use std::time::Instant;

use super::SipCore;
use crate::sip::transaction::key::TransactionKey;
use crate::sip::transaction::server::Arrival;
use crate::sip::transport::Path;
use crate::sip::wire::uri::Uri;
use crate::sip::wire::{Request, ResponseBuilder, reason_phrase};

pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, REFER";
const KNOWN_ELSEWHERE: [&str; 7] = ["SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE", "INFO", "UPDATE", "PRACK"];

/// A final answer decided before any handler runs.
struct Early {
    code: u16,
    headers: Vec<(&'static str, String)>,
}

fn screen(request: &Request) -> Option<Early> {
    let early = |code| {
        Some(Early {
            code,
            headers: Vec::new(),
        })
    };
    let method = request.method.as_str();
    let handled = matches!(
        method,
        "INVITE" | "ACK" | "CANCEL" | "BYE" | "OPTIONS" | "REGISTER" | "REFER"
    );
    if !handled {
        if KNOWN_ELSEWHERE.contains(&method) {
            return Some(Early {
                code: 405,
                headers: vec![("Allow", ALLOW.into())],
            });
        }
        return early(501);
    }
    if request.max_forwards == Some(0) && method != "OPTIONS" {
        return early(483);
    }
    if !matches!(request.uri, Uri::Sip(_)) {
        return early(416);
    }
    if method != "ACK" && method != "CANCEL" {
        // A UAS answers Require; Proxy-Require is for proxies (RFC 3261 §8.2.2.3).
        let unsupported: Vec<&str> = request
            .headers
            .elements("require")
            .filter(|option| !option.is_empty())
            .collect();
        if !unsupported.is_empty() {
            return Some(Early {
                code: 420,
                headers: vec![("Unsupported", unsupported.join(", "))],
            });
        }
    }
    None
}

impl SipCore {
    pub(super) fn request(&mut self, request: Request, path: Path) {
        let key = TransactionKey::of(&request);
        let now = Instant::now();
        match self.servers.arrive(&key, &request.method, path, now) {
            Arrival::New => {}
            Arrival::Retransmission(last) => {
                if let Some(bytes) = last {
                    self.outbound.send(path, bytes);
                }
                return;
            }
            Arrival::AckAbsorbed => return,
            Arrival::StrayAck => {
                self.dialog_ack(&request, path);
                return;
            }
        }
        if let Some(early) = screen(&request) {
            let tag = self.new_tag();
            let mut response = ResponseBuilder::new(&request.headers, early.code, reason_phrase(early.code), &tag);
            for (name, value) in &early.headers {
                response = response.header(name, value);
            }
            self.reply(&key, path, early.code, response.build());
            return;
        }
        match request.method.as_str() {
            "OPTIONS" => self.options(&request, &key, path),
            "REGISTER" => self.register(&request, &key, path),
            "INVITE" => self.invite(&request, &key, path),
            "CANCEL" => self.cancel(&request, &key, path),
            "BYE" => self.bye(&request, &key, path),
            "REFER" => self.refer(&request, &key, path),
            _ => self.simple(&request, &key, path, 481),
        }
    }

    fn options(&mut self, request: &Request, key: &TransactionKey, path: Path) {
        let tag = self.new_tag();
        let bytes = ResponseBuilder::new(&request.headers, 200, "OK", &tag)
            .header("Allow", ALLOW)
            .header("Accept", "application/sdp")
            .header("Accept-Encoding", "identity")
            .header("Accept-Language", "en")
            .build();
        self.reply(key, path, 200, bytes);
    }

    /// CANCEL: 200 if it matches an INVITE we know (already answered with a
    /// final response, so nothing more happens), else 481.
    fn cancel(&mut self, request: &Request, key: &TransactionKey, path: Path) {
        if self.cancel_call(request, key, path) {
            return;
        }
        let code = if self.servers.contains(&TransactionKey::cancelled_invite(request)) {
            200
        } else {
            481
        };
        self.simple(request, key, path, code);
    }

    pub(super) fn simple(&mut self, request: &Request, key: &TransactionKey, path: Path, code: u16) {
        let tag = self.new_tag();
        let bytes = ResponseBuilder::new(&request.headers, code, reason_phrase(code), &tag).build();
        self.reply(key, path, code, bytes);
    }

    pub(super) fn simple_with_reason(
        &mut self,
        request: &Request,
        key: &TransactionKey,
        path: Path,
        code: u16,
        reason: &str,
    ) {
        let tag = self.new_tag();
        let bytes = ResponseBuilder::new(&request.headers, code, reason, &tag).build();
        self.reply(key, path, code, bytes);
    }
}
