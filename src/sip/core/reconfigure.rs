//! A reloaded configuration reaches the running core: new accounts, trunks,
//! calls seam, registrar policy, timers and limits. Nonces in flight, bans
//! and registrations of operators that still exist are kept; bindings of
//! removed operators are dropped.

use std::collections::HashMap;
use std::time::Instant;

use super::{SipCore, operators_by_username};
use crate::engine::OperatorId;
use crate::sip::calls::IncomingCalls;
use crate::sip::service::{add_accounts, trunks_of};
use crate::sip::settings::SipSettings;

pub struct Reconfiguration {
    pub settings: SipSettings,
    /// Operator ids in the engine's new configuration.
    pub ids: HashMap<String, OperatorId>,
    pub calls: Box<dyn IncomingCalls>,
}

impl SipCore {
    pub(super) fn reconfigure(&mut self, change: Reconfiguration) {
        let Reconfiguration { settings, ids, calls } = change;
        self.verifier.reconfigure(
            settings.realm.clone(),
            settings.algorithms.clone(),
            settings.nonce_lifetime,
        );
        add_accounts(&mut self.verifier, &settings);
        self.throttle
            .reconfigure(settings.auth_failures, settings.auth_window, settings.auth_ban);
        self.trunks = trunks_of(&settings);
        if settings.flood_limit != self.settings.flood_limit {
            self.flood = crate::sip::flood::FloodGuard::new(settings.flood_limit);
        }
        self.usernames = operators_by_username(&settings);
        self.calls = calls;
        self.reachability.set_ids(ids);
        if settings.qualify_interval != self.settings.qualify_interval {
            self.next_qualify = settings.qualify_interval.map(|i| Instant::now() + i);
        }
        let removed: Vec<String> = self
            .bindings
            .operators()
            .map(|(operator, _)| operator.clone())
            .filter(|operator| !settings.operators.iter().any(|o| &o.id == operator))
            .collect();
        for operator in removed {
            tracing::info!(operator = %operator, "registrations dropped: the operator is no longer configured");
            self.bindings.clear(&operator);
            self.bindings_dirty = true;
            self.reachability.report(&operator, false);
        }
        self.settings = settings;
        tracing::info!("SIP configuration reloaded");
    }
}
