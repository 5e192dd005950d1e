//! Digest authentication of a request, with throttling: a banned source gets
//! 403, missing or stale credentials a 401 challenge, wrong ones 403 (and
//! count towards a ban). Used by REGISTER and INVITE alike.

use std::time::Instant;

use super::{SipCore, unix_now};
use crate::sip::auth::verifier::{Principal, Verdict};
use crate::sip::transaction::key::TransactionKey;
use crate::sip::transport::Path;
use crate::sip::wire::{Request, ResponseBuilder};

/// How a request's sender proved who they are, or what to answer instead.
pub(super) enum Identity {
    Known(Principal),
    /// The answer was sent already (401, 403).
    Answered,
}

impl SipCore {
    /// Digest authentication with throttling; answers 401/403 itself.
    pub(super) fn authenticate(&mut self, request: &Request, key: &TransactionKey, path: Path) -> Identity {
        let source = path.peer().ip();
        let now = Instant::now();
        if self.throttle.is_banned(source, now) {
            self.simple_with_reason(request, key, path, 403, "Forbidden (too many failed authentications)");
            return Identity::Answered;
        }
        let unix = unix_now();
        match self
            .verifier
            .verify(&request.method, request.headers.get("authorization"), unix)
        {
            Verdict::Authenticated(principal) => Identity::Known(principal),
            Verdict::Challenge { stale } => {
                let challenges = self.verifier.challenges(unix, stale);
                let tag = self.new_tag();
                let mut response = ResponseBuilder::new(&request.headers, 401, "Unauthorized", &tag);
                for challenge in &challenges {
                    response = response.header("WWW-Authenticate", challenge);
                }
                self.reply(key, path, 401, response.build());
                Identity::Answered
            }
            Verdict::Failed { username, why } => {
                tracing::warn!(source = %source, username = %username, why, method = %request.method, "SIP authentication failed");
                self.throttle.failed(source, now);
                self.stats.auth_failed(&request.method);
                self.simple(request, key, path, 403);
                Identity::Answered
            }
        }
    }
}
