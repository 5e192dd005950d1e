//! REGISTER: the To AOR must be SIP, the sender must authenticate as the
//! operator owning that AOR, then the registrar applies the contacts.

use std::time::Instant;

use super::{SipCore, unix_now};
use crate::sip::auth::verifier::{Principal, Verdict};
use crate::sip::registrar::register::{RegisterOutcome, apply};
use crate::sip::transaction::key::TransactionKey;
use crate::sip::transport::Path;
use crate::sip::wire::uri::Uri;
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
                self.simple(request, key, path, 403);
                Identity::Answered
            }
        }
    }

    pub(super) fn register(&mut self, request: &Request, key: &TransactionKey, path: Path) {
        let Uri::Sip(to) = &request.to.uri else {
            self.simple_with_reason(request, key, path, 400, "To is not a SIP or SIPS URI");
            return;
        };
        let aor_user = to.user_unescaped().unwrap_or_default().to_lowercase();
        let principal = match self.authenticate(request, key, path) {
            Identity::Known(principal) => principal,
            Identity::Answered => return,
        };
        let operator = match principal {
            Principal::Operator(id) if self.usernames.get(&aor_user) == Some(&id) => id,
            other => {
                tracing::warn!(principal = ?other, aor = %aor_user, "REGISTER for an address of record that is not the sender's");
                self.simple_with_reason(request, key, path, 403, "Forbidden (not your address of record)");
                return;
            }
        };
        let now = unix_now();
        let outcome = apply(&mut self.bindings, &operator, request, path, now, self.settings.policy);
        let tag = self.new_tag();
        match outcome {
            RegisterOutcome::Done { contacts, changed } => {
                self.bindings_dirty = true;
                if changed {
                    tracing::info!(operator = %operator, contacts = contacts.len(), "registration changed");
                }
                let reachable = self.bindings.reachable(&operator);
                self.reachability.report(&operator, reachable);
                let mut response = ResponseBuilder::new(&request.headers, 200, "OK", &tag);
                for contact in &contacts {
                    response = response.header("Contact", contact);
                }
                self.reply(key, path, 200, response.build());
            }
            RegisterOutcome::TooBrief { min } => {
                let bytes = ResponseBuilder::new(&request.headers, 423, "Interval Too Brief", &tag)
                    .header("Min-Expires", &min.to_string())
                    .build();
                self.reply(key, path, 423, bytes);
            }
            RegisterOutcome::Bad(why) => self.simple_with_reason(request, key, path, 400, why),
            RegisterOutcome::OutOfOrder => self.simple_with_reason(request, key, path, 500, "Out of order CSeq"),
            RegisterOutcome::TooMany => {
                self.simple_with_reason(request, key, path, 403, "Forbidden (too many contacts)")
            }
        }
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
