//! Engine actions that arrive before their call is known. A call is stored
//! and announced in its own task, so the engine's first offers for it can
//! reach the telephony task before the `Stored` input that names its
//! request. Such actions wait here, in order, while any call is still being
//! stored, and run once it is; an action whose request no stored call
//! claims (a request recovered after a restart) runs as before, which fails
//! its offer.

use super::Telephony;
use super::call::Phase;
use crate::engine::{Action, RequestId};

/// The request an action is about, if it names one.
fn request_of(action: &Action) -> Option<RequestId> {
    match action {
        Action::Offer { request, .. }
        | Action::Withdraw { request, .. }
        | Action::Assign { request, .. }
        | Action::RunMissed { request, .. } => Some(*request),
        _ => None,
    }
}

impl Telephony {
    /// Keeps `action` for later when its request may belong to a call still
    /// being stored; `false` means run it now.
    pub(super) fn defer(&mut self, action: &Action) -> bool {
        let Some(request) = request_of(action) else {
            return false;
        };
        if self.calls.call_id_of(request).is_some() || !self.calls.any_in(Phase::Storing) {
            return false;
        }
        // An offer withdrawn before it rang is forgotten with its withdrawal.
        if let Action::Withdraw { offer, .. } = action {
            let before = self.deferred.len();
            self.deferred
                .retain(|kept| !matches!(kept, Action::Offer { offer: o, .. } if o == offer));
            if self.deferred.len() < before {
                return true;
            }
        }
        self.deferred.push(action.clone());
        true
    }

    /// Runs the kept actions again after a call's storing ended; those still
    /// waiting for another call go back in line.
    pub(super) fn run_deferred(&mut self) {
        for action in std::mem::take(&mut self.deferred) {
            if !self.defer(&action) {
                self.action(action);
            }
        }
    }
}
