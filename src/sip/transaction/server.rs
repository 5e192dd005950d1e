//! Server transactions: one entry per received request until it lingers out.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

use super::key::TransactionKey;
use super::{LINGER_TCP, LINGER_UDP, T1, T2};
use crate::sip::transport::{Path, Transport};

#[derive(Debug, PartialEq, Eq)]
enum State {
    /// No final response yet.
    Proceeding,
    /// Final response sent (INVITE: a failure, waiting for ACK).
    Completed,
    /// INVITE failure acknowledged.
    Confirmed,
}

struct Entry {
    invite: bool,
    /// The method as a metrics label.
    method: &'static str,
    path: Path,
    state: State,
    last_response: Option<Vec<u8>>,
    /// INVITE failures over UDP: when to send again, and the current interval.
    retransmit: Option<(Instant, std::time::Duration)>,
    give_up: Instant,
    deadline: Instant,
}

/// Beyond this many remembered transactions (a flood), new requests are
/// still answered but not remembered: their retransmissions are handled as
/// new requests, which is what a stateless server would do.
const MAX_ENTRIES: usize = 1_000_000;

/// What the transaction layer made of a received request.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
    /// A new transaction: the request goes to its handler.
    New,
    /// A retransmission: send this again (if anything was sent yet).
    Retransmission(Option<Vec<u8>>),
    /// An ACK for a failure we sent: nothing more to do.
    AckAbsorbed,
    /// An ACK that matches no transaction (a 2xx ACK belongs to a dialog).
    StrayAck,
}

#[derive(Default)]
pub struct ServerTransactions {
    entries: HashMap<TransactionKey, Entry>,
    deadlines: BinaryHeap<Reverse<(Instant, TransactionKey)>>,
}

impl ServerTransactions {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn contains(&self, key: &TransactionKey) -> bool {
        self.entries.contains_key(key)
    }

    pub fn arrive(&mut self, key: &TransactionKey, method: &str, path: Path, now: Instant) -> Arrival {
        if let Some(entry) = self.entries.get_mut(key) {
            if method == "ACK" {
                if entry.invite && entry.state == State::Completed {
                    entry.state = State::Confirmed;
                    entry.retransmit = None;
                    let linger = if path.transport() == Transport::Udp {
                        T2
                    } else {
                        LINGER_TCP.min(T2)
                    };
                    entry.deadline = now + linger;
                    self.deadlines.push(Reverse((entry.deadline, key.clone())));
                }
                return Arrival::AckAbsorbed;
            }
            return Arrival::Retransmission(entry.last_response.clone());
        }
        if method == "ACK" {
            return Arrival::StrayAck;
        }
        if self.entries.len() >= MAX_ENTRIES {
            return Arrival::New;
        }
        let give_up = now + LINGER_UDP;
        self.entries.insert(
            key.clone(),
            Entry {
                invite: method == "INVITE",
                method: crate::sip::stats::method_label(method),
                path,
                state: State::Proceeding,
                last_response: None,
                retransmit: None,
                give_up,
                deadline: give_up,
            },
        );
        self.deadlines.push(Reverse((give_up, key.clone())));
        Arrival::New
    }

    /// Records a response we sent; a final one completes the transaction,
    /// and then its method (as a metrics label) is returned.
    pub fn respond(&mut self, key: &TransactionKey, code: u16, bytes: &[u8], now: Instant) -> Option<&'static str> {
        let entry = self.entries.get_mut(key)?;
        entry.last_response = Some(bytes.to_vec());
        if code < 200 || entry.state != State::Proceeding {
            return None;
        }
        entry.state = State::Completed;
        let udp = entry.path.transport() == Transport::Udp;
        entry.deadline = if entry.invite {
            if udp {
                entry.retransmit = Some((now + T1, T1));
            }
            now + LINGER_UDP
        } else if udp {
            now + LINGER_UDP
        } else {
            now + LINGER_TCP
        };
        entry.give_up = entry.deadline;
        self.deadlines.push(Reverse((entry.next_wake(), key.clone())));
        Some(entry.method)
    }

    /// Due retransmissions; forgets transactions whose time is over.
    pub fn poll(&mut self, now: Instant, mut send: impl FnMut(Path, &[u8])) {
        while let Some(Reverse((at, _))) = self.deadlines.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, key))) = self.deadlines.pop() else {
                break;
            };
            let Some(entry) = self.entries.get_mut(&key) else {
                continue;
            };
            if entry.give_up.min(entry.deadline) <= now {
                self.entries.remove(&key);
                continue;
            }
            if let Some((when, interval)) = entry.retransmit
                && when <= now
            {
                if let Some(bytes) = &entry.last_response {
                    send(entry.path, bytes);
                }
                let interval = (interval * 2).min(T2);
                entry.retransmit = Some((now + interval, interval));
            }
            let wake = entry.next_wake();
            if wake > now {
                self.deadlines.push(Reverse((wake, key)));
            }
        }
    }
}

impl Entry {
    fn next_wake(&self) -> Instant {
        let end = self.give_up.min(self.deadline);
        match self.retransmit {
            Some((when, _)) => when.min(end),
            None => end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn key(s: &str) -> TransactionKey {
        let text = format!(
            "INVITE sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK{s}\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:x@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n"
        );
        match crate::sip::wire::parse_message(text.as_bytes(), 9999) {
            Ok(crate::sip::wire::Message::Request(r)) => TransactionKey::of(&r),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn invite_failures_retransmit_until_ack() {
        let path = Path::Udp {
            socket: 0,
            peer: "127.0.0.1:9".parse().unwrap(),
        };
        let mut table = ServerTransactions::default();
        let k = key("a");
        let t0 = Instant::now();
        assert_eq!(table.arrive(&k, "INVITE", path, t0), Arrival::New);
        table.respond(&k, 480, b"480", t0);
        assert_eq!(
            table.arrive(&k, "INVITE", path, t0),
            Arrival::Retransmission(Some(b"480".to_vec()))
        );
        let mut sent = 0;
        table.poll(t0 + Duration::from_millis(600), |_, _| sent += 1);
        table.poll(t0 + Duration::from_millis(1700), |_, _| sent += 1);
        assert_eq!(sent, 2, "G fires at 0.5 s and 1.5 s");
        assert_eq!(
            table.arrive(&k, "ACK", path, t0 + Duration::from_secs(2)),
            Arrival::AckAbsorbed
        );
        table.poll(t0 + Duration::from_secs(3), |_, _| sent += 1);
        assert_eq!(sent, 2, "no retransmission after the ACK");
        table.poll(t0 + Duration::from_secs(7), |_, _| {});
        assert!(table.is_empty());
        assert_eq!(table.arrive(&k, "ACK", path, t0), Arrival::StrayAck);
    }

    #[test]
    fn non_invite_lingers_then_goes() {
        let path = Path::Udp {
            socket: 0,
            peer: "127.0.0.1:9".parse().unwrap(),
        };
        let mut table = ServerTransactions::default();
        let k = key("b");
        let t0 = Instant::now();
        table.arrive(&k, "REGISTER", path, t0);
        table.respond(&k, 200, b"200", t0);
        let mut sent = 0;
        table.poll(t0 + Duration::from_secs(10), |_, _| sent += 1);
        assert_eq!(sent, 0);
        assert_eq!(table.len(), 1);
        table.poll(t0 + Duration::from_secs(33), |_, _| {});
        assert!(table.is_empty());
    }
}
