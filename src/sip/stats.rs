//! SIP figures for Prometheus: transactions by direction, method and how
//! they ended (final response class, or timeout), failed authentications,
//! and the contacts registered now. Counter handles are resolved once per
//! label set, so counting costs an atomic add, not a registry lookup.

use std::collections::HashMap;

use metrics::{Counter, Gauge, counter, gauge};

/// Methods kept as a label value; anything else counts as `other`, so a
/// peer cannot grow the label set.
const METHODS: [&str; 13] = [
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "REGISTER",
    "OPTIONS",
    "REFER",
    "NOTIFY",
    "INFO",
    "UPDATE",
    "PRACK",
    "SUBSCRIBE",
    "MESSAGE",
];

/// Which side started the transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A request acdd received and answered.
    In,
    /// A request acdd sent.
    Out,
}

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ending {
    Final(u16),
    Timeout,
}

pub struct SipStats {
    transactions: HashMap<(Direction, &'static str, &'static str), Counter>,
    auth_failures: HashMap<&'static str, Counter>,
    registered: Gauge,
}

impl Default for SipStats {
    fn default() -> SipStats {
        SipStats {
            transactions: HashMap::new(),
            auth_failures: HashMap::new(),
            registered: gauge!("acdd_sip_registered_contacts"),
        }
    }
}

/// The label value for a method.
pub fn method_label(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|known| known.eq_ignore_ascii_case(method))
        .copied()
        .unwrap_or("other")
}

fn ending_label(ending: Ending) -> &'static str {
    match ending {
        Ending::Final(100..=199) => "1xx",
        Ending::Final(200..=299) => "2xx",
        Ending::Final(300..=399) => "3xx",
        Ending::Final(400..=499) => "4xx",
        Ending::Final(500..=599) => "5xx",
        Ending::Final(600..=699) => "6xx",
        Ending::Final(_) => "other",
        Ending::Timeout => "timeout",
    }
}

impl SipStats {
    /// A transaction ended: its final response went out or came in, or
    /// nothing came in time.
    pub fn transaction(&mut self, direction: Direction, method: &str, ending: Ending) {
        let key = (direction, method_label(method), ending_label(ending));
        self.transactions
            .entry(key)
            .or_insert_with(|| {
                let (direction, method, ending) = key;
                let direction = match direction {
                    Direction::In => "in",
                    Direction::Out => "out",
                };
                counter!("acdd_sip_transactions_total", "direction" => direction, "method" => method, "class" => ending)
            })
            .increment(1);
    }

    /// Credentials were given and were wrong (a challenge is not a failure).
    pub fn auth_failed(&mut self, method: &str) {
        let method = method_label(method);
        self.auth_failures
            .entry(method)
            .or_insert_with(|| counter!("acdd_sip_auth_failures_total", "method" => method))
            .increment(1);
    }

    /// How many contacts are registered now, over all operators.
    pub fn registered(&self, contacts: usize) {
        self.registered.set(contacts as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_and_odd_codes_share_one_label() {
        assert_eq!(method_label("invite"), "INVITE");
        assert_eq!(method_label("PUBLISH-ME-NOW"), "other");
        assert_eq!(ending_label(Ending::Final(486)), "4xx");
        assert_eq!(ending_label(Ending::Final(700)), "other");
        assert_eq!(ending_label(Ending::Timeout), "timeout");
    }
}
