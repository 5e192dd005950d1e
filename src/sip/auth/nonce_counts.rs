//! Replay protection: the highest nonce-count seen for each live nonce. A
//! request whose `nc` is not above it is a replay (RFC 7616 §3.4.5). Entries
//! leave when their nonce would be stale anyway.

use std::collections::{HashMap, VecDeque};

#[derive(Default)]
pub struct NonceCounts {
    highest: HashMap<String, u32>,
    by_expiry: VecDeque<(u64, String)>,
}

impl NonceCounts {
    /// Records `nc` for `nonce`; false if it was already used.
    pub fn accept(&mut self, nonce: &str, nc: u32, forget_at: u64) -> bool {
        match self.highest.get_mut(nonce) {
            Some(highest) if nc <= *highest => false,
            Some(highest) => {
                *highest = nc;
                true
            }
            None => {
                self.highest.insert(nonce.to_string(), nc);
                self.by_expiry.push_back((forget_at, nonce.to_string()));
                true
            }
        }
    }

    pub fn prune(&mut self, now: u64) {
        while let Some((at, _)) = self.by_expiry.front() {
            if *at > now {
                break;
            }
            if let Some((_, nonce)) = self.by_expiry.pop_front() {
                self.highest.remove(&nonce);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.highest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.highest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_must_grow_until_forgotten() {
        let mut counts = NonceCounts::default();
        assert!(counts.accept("n", 1, 100));
        assert!(!counts.accept("n", 1, 100));
        assert!(counts.accept("n", 3, 100));
        assert!(!counts.accept("n", 2, 100));
        assert!(counts.accept("m", 1, 200));
        counts.prune(150);
        assert_eq!(counts.len(), 1);
        assert!(counts.accept("n", 1, 300));
    }
}
