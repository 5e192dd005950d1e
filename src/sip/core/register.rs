//! REGISTER: the To AOR must be SIP, the sender must authenticate as the
//! operator owning that AOR, then the registrar applies the contacts.

use super::authenticate::Identity;
use super::{SipCore, unix_now};
use crate::sip::auth::verifier::Principal;
use crate::sip::registrar::register::{RegisterOutcome, apply};
use crate::sip::transaction::key::TransactionKey;
use crate::sip::transport::Path;
use crate::sip::wire::uri::Uri;
use crate::sip::wire::{Request, ResponseBuilder};

impl SipCore {
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
                self.stats.registered(self.bindings.count());
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
}
