//! Client transactions for requests acdd originates (OPTIONS qualify):
//! retransmitted over UDP from T1 doubling to T2, finished by any final
//! response, timed out after the caller's limit.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use super::{T1, T2};
use crate::sip::transport::{Path, Transport};

struct Entry<T> {
    bytes: Vec<u8>,
    path: Path,
    retransmit: Option<(Instant, Duration)>,
    give_up: Instant,
    purpose: T,
}

pub struct ClientTransactions<T> {
    entries: HashMap<String, Entry<T>>,
    deadlines: BinaryHeap<Reverse<(Instant, String)>>,
}

impl<T> Default for ClientTransactions<T> {
    fn default() -> Self {
        ClientTransactions {
            entries: HashMap::new(),
            deadlines: BinaryHeap::new(),
        }
    }
}

impl<T> ClientTransactions<T> {
    /// Starts a transaction whose request (already sent once) is `bytes`.
    pub fn start(&mut self, branch: String, bytes: Vec<u8>, path: Path, timeout: Duration, purpose: T, now: Instant) {
        let retransmit = (path.transport() == Transport::Udp).then_some((now + T1, T1));
        let give_up = now + timeout;
        let wake = retransmit.map_or(give_up, |(at, _)| at.min(give_up));
        self.deadlines.push(Reverse((wake, branch.clone())));
        self.entries.insert(
            branch,
            Entry {
                bytes,
                path,
                retransmit,
                give_up,
                purpose,
            },
        );
    }

    /// A response arrived: a final one ends its transaction and returns its purpose.
    pub fn answer(&mut self, branch: &str, code: u16) -> Option<T> {
        if code < 200 {
            if let Some(entry) = self.entries.get_mut(branch) {
                entry.retransmit = None;
            }
            return None;
        }
        self.entries.remove(branch).map(|e| e.purpose)
    }

    /// Sends due retransmissions; returns the purposes of transactions that timed out.
    pub fn poll(&mut self, now: Instant, mut send: impl FnMut(Path, &[u8])) -> Vec<T> {
        let mut timed_out = Vec::new();
        while let Some(Reverse((at, _))) = self.deadlines.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, branch))) = self.deadlines.pop() else {
                break;
            };
            let Some(entry) = self.entries.get_mut(&branch) else {
                continue;
            };
            if entry.give_up <= now {
                if let Some(entry) = self.entries.remove(&branch) {
                    timed_out.push(entry.purpose);
                }
                continue;
            }
            if let Some((when, interval)) = entry.retransmit
                && when <= now
            {
                send(entry.path, &entry.bytes);
                let interval = (interval * 2).min(T2);
                entry.retransmit = Some((now + interval, interval));
            }
            let wake = entry.retransmit.map_or(entry.give_up, |(at, _)| at.min(entry.give_up));
            self.deadlines.push(Reverse((wake, branch)));
        }
        timed_out
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmits_then_times_out_or_ends_on_answer() {
        let path = Path::Udp {
            socket: 0,
            peer: "127.0.0.1:9".parse().unwrap(),
        };
        let mut table = ClientTransactions::default();
        let t0 = Instant::now();
        table.start("b1".into(), b"OPTIONS".to_vec(), path, Duration::from_secs(2), 1, t0);
        table.start("b2".into(), b"OPTIONS".to_vec(), path, Duration::from_secs(2), 2, t0);
        assert_eq!(table.answer("b2", 200), Some(2));
        let mut sent = 0;
        assert!(table.poll(t0 + Duration::from_millis(600), |_, _| sent += 1).is_empty());
        assert!(
            table
                .poll(t0 + Duration::from_millis(1600), |_, _| sent += 1)
                .is_empty()
        );
        assert_eq!(sent, 2);
        assert_eq!(table.poll(t0 + Duration::from_millis(2100), |_, _| {}), vec![1]);
        assert!(table.is_empty());
        assert_eq!(table.answer("b1", 200), None);
    }
}
