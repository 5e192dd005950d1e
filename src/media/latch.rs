//! Symmetric RTP ("latching", RFC 4961 practice for NAT): acdd sends a leg's
//! media to where that leg's packets really come from, not only to the SDP
//! address. The first valid packet latches; a different source takes over
//! only after `PROBATION` packets in sequence, so a stray or spoofed packet
//! cannot steal the stream. Pure: no sockets here.

use std::net::SocketAddr;

/// Consecutive in-sequence packets a new source needs to take over.
pub const PROBATION: u8 = 3;

#[derive(Clone, Debug, Default)]
pub struct Latch {
    current: Option<SocketAddr>,
    candidate: Option<(SocketAddr, u16, u8)>,
}

impl Latch {
    /// The latched source, if any packet came yet.
    pub fn current(&self) -> Option<SocketAddr> {
        self.current
    }

    /// A valid RTP packet (sequence `seq`) came from `source`: true when it
    /// is from the latched source (possibly just latched) and may be used.
    pub fn accept(&mut self, source: SocketAddr, seq: u16) -> bool {
        match self.current {
            None => {
                self.current = Some(source);
                true
            }
            Some(current) if current == source => {
                self.candidate = None;
                true
            }
            Some(_) => {
                let count = match self.candidate {
                    Some((addr, last, count)) if addr == source && seq == last.wrapping_add(1) => count + 1,
                    _ => 1,
                };
                if count >= PROBATION {
                    self.current = Some(source);
                    self.candidate = None;
                    true
                } else {
                    self.candidate = Some((source, seq, count));
                    false
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_source_latches_and_a_new_one_needs_probation() {
        let a: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:6000".parse().unwrap();
        let mut latch = Latch::default();
        assert!(latch.accept(a, 1));
        assert_eq!(latch.current(), Some(a));
        assert!(!latch.accept(b, 100));
        assert!(latch.accept(a, 2), "the latched source keeps working");
        // Out of sequence: probation starts over.
        assert!(!latch.accept(b, 101));
        assert!(!latch.accept(b, 103));
        assert!(!latch.accept(b, 104));
        assert_eq!(latch.current(), Some(a));
        assert!(latch.accept(b, 105));
        assert_eq!(latch.current(), Some(b));
        assert!(!latch.accept(a, 3));
    }
}
