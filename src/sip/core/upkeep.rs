//! Work on a clock: registration expiry, saving bindings, pruning nonce
//! counts and bans, and qualifying contacts with OPTIONS.

use std::time::Instant;

use super::{Probe, SipCore, unix_now};
use crate::sip::registrar::persist;
use crate::sip::transport::Path;
use crate::sip::wire::outgoing::{OptionsRequest, options};

impl SipCore {
    pub(super) fn housekeeping(&mut self, now: Instant) {
        let unix = unix_now();
        for operator in self.bindings.expire(unix) {
            tracing::info!(operator = %operator, "registration expired");
            self.bindings_dirty = true;
            let reachable = self.bindings.reachable(&operator);
            self.reachability.report(&operator, reachable);
        }
        self.stats.registered(self.bindings.count());
        self.verifier.prune(unix);
        self.throttle.prune(now);
        self.flood.prune(now);
        self.prune_reoffers(now);
        if self.bindings_dirty {
            self.save_bindings();
        }
    }

    pub(super) fn save_bindings(&mut self) {
        match persist::save(&self.settings.registrations_file, &self.bindings) {
            Ok(()) => self.bindings_dirty = false,
            Err(error) => {
                tracing::error!(%error, file = %self.settings.registrations_file.display(), "cannot save registrations")
            }
        }
    }

    /// After a restart: the engine hears about operators whose bindings came back.
    pub(super) fn announce_restored_bindings(&mut self) {
        let operators: Vec<(String, bool)> = self
            .bindings
            .operators()
            .map(|(operator, _)| (operator.clone(), self.bindings.reachable(operator)))
            .collect();
        if !operators.is_empty() {
            tracing::info!(operators = operators.len(), "registrations restored");
        }
        for (operator, reachable) in operators {
            self.reachability.report(&operator, reachable);
        }
    }

    pub(super) fn qualify_all(&mut self, now: Instant) {
        let targets: Vec<(String, String, Path)> = self
            .bindings
            .operators()
            .flat_map(|(operator, list)| list.iter().map(move |b| (operator.clone(), b.uri.clone(), b.path)))
            .collect();
        for (operator, uri, path) in targets {
            let probe = Probe { operator, uri };
            let connected = match path {
                Path::Tcp { connection, .. } => self.outbound.tcp.contains_key(&connection),
                Path::Udp { .. } => true,
            };
            let Some(local) = self.outbound.local_for(path).filter(|_| connected) else {
                self.probe_timed_out(probe);
                continue;
            };
            let branch = format!("z9hG4bK-q{}", self.new_tag());
            let call_id = format!("q{}@acdd", self.new_tag());
            let from_tag = self.new_tag();
            let Some(bytes) = options(&OptionsRequest {
                target: &probe.uri,
                transport: path.transport().name(),
                local: &local.to_string(),
                branch: &branch,
                call_id: &call_id,
                from_tag: &from_tag,
            }) else {
                tracing::warn!(uri = %probe.uri, "cannot build an OPTIONS for this contact");
                continue;
            };
            self.outbound.send(path, bytes.clone());
            self.clients
                .start(branch, bytes, path, self.settings.qualify_timeout, probe, now);
        }
    }

    pub(super) fn probe_answered(&mut self, probe: Probe, code: u16) {
        if self.bindings.set_alive(&probe.operator, &probe.uri, true) {
            tracing::info!(operator = %probe.operator, contact = %probe.uri, code, "SIP contact answers OPTIONS again");
            let reachable = self.bindings.reachable(&probe.operator);
            self.reachability.report(&probe.operator, reachable);
        }
    }

    pub(super) fn probe_timed_out(&mut self, probe: Probe) {
        if self.bindings.set_alive(&probe.operator, &probe.uri, false) {
            tracing::warn!(operator = %probe.operator, contact = %probe.uri, "SIP contact stopped answering OPTIONS");
            let reachable = self.bindings.reachable(&probe.operator);
            self.reachability.report(&probe.operator, reachable);
        }
    }
}
