//! RTP port allocation from the configured range (`listen.rtp_ports`).
//!
//! Owns which port pairs are taken: an even RTP port with RTCP on the odd port
//! above it. A pair is bound before it is handed out (a port held by another
//! program is skipped) and returns to the pool when its [`PortLease`] drops.
//! Running out is an error ([`MediaError::PortsExhausted`]), never a panic.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex, MutexGuard};

use super::MediaError;

/// The pool of RTP/RTCP port pairs. Cheap to clone; clones share the pool.
#[derive(Clone, Debug)]
pub struct PortPool {
    ip: IpAddr,
    first_even: u16,
    last: u16,
    state: Arc<Mutex<PoolState>>,
}

#[derive(Debug)]
struct PoolState {
    used: Vec<bool>,
    in_use: usize,
    next: usize,
}

/// Two bound, non-blocking sockets and the lease that keeps their ports taken.
#[derive(Debug)]
pub struct PortPair {
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
    pub lease: PortLease,
}

/// Holds one pair of the pool; dropping it frees the pair. Drop it after the
/// sockets (struct field order does that in [`PortPair`]).
#[derive(Debug)]
pub struct PortLease {
    state: Arc<Mutex<PoolState>>,
    index: usize,
    rtp_port: u16,
}

impl PortLease {
    pub fn rtp_port(&self) -> u16 {
        self.rtp_port
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        let mut state = lock(&self.state);
        if state.used[self.index] {
            state.used[self.index] = false;
            state.in_use -= 1;
        }
    }
}

fn lock(state: &Mutex<PoolState>) -> MutexGuard<'_, PoolState> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl PortPool {
    /// A pool over `[first, last]` (inclusive) binding on `ip`.
    pub fn new(ip: IpAddr, [first, last]: [u16; 2]) -> Result<PortPool, MediaError> {
        let first_even = first.saturating_add(first % 2);
        let pairs = if first == 0 || last <= first_even {
            0
        } else {
            usize::from((last - first_even - 1) / 2 + 1)
        };
        if pairs == 0 {
            return Err(MediaError::BadPortRange { first, last });
        }
        Ok(PortPool {
            ip,
            first_even,
            last,
            state: Arc::new(Mutex::new(PoolState {
                used: vec![false; pairs],
                in_use: 0,
                next: 0,
            })),
        })
    }

    /// How many pairs the range holds.
    pub fn capacity(&self) -> usize {
        lock(&self.state).used.len()
    }

    /// How many pairs are leased now.
    pub fn in_use(&self) -> usize {
        lock(&self.state).in_use
    }

    /// Takes the next free pair (round robin, so a just-freed port is not
    /// reused at once) and binds both sockets.
    pub fn allocate(&self) -> Result<PortPair, MediaError> {
        let mut state = lock(&self.state);
        let pairs = state.used.len();
        for step in 0..pairs {
            let index = (state.next + step) % pairs;
            if state.used[index] {
                continue;
            }
            let rtp_port = self.first_even + 2 * index as u16;
            let Some((rtp, rtcp)) = self.bind_pair(rtp_port) else {
                continue;
            };
            state.used[index] = true;
            state.in_use += 1;
            state.next = (index + 1) % pairs;
            return Ok(PortPair {
                rtp,
                rtcp,
                lease: PortLease {
                    state: self.state.clone(),
                    index,
                    rtp_port,
                },
            });
        }
        Err(MediaError::PortsExhausted {
            first: self.first_even,
            last: self.last,
        })
    }

    fn bind_pair(&self, rtp_port: u16) -> Option<(UdpSocket, UdpSocket)> {
        let rtp = UdpSocket::bind(SocketAddr::new(self.ip, rtp_port)).ok()?;
        let rtcp = UdpSocket::bind(SocketAddr::new(self.ip, rtp_port + 1)).ok()?;
        rtp.set_nonblocking(true).ok()?;
        rtcp.set_nonblocking(true).ok()?;
        Some((rtp, rtcp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn pairs_are_even_with_rtcp_above_and_exhaustion_is_an_error() {
        let pool = PortPool::new(LOOPBACK, [41001, 41008]).unwrap();
        // 41002/3, 41004/5, 41006/7; 41008 has no odd neighbour in range.
        assert_eq!(pool.capacity(), 3);
        let mut held = Vec::new();
        for _ in 0..3 {
            let pair = pool.allocate().unwrap();
            let rtp = pair.rtp.local_addr().unwrap().port();
            assert_eq!(rtp % 2, 0);
            assert_eq!(pair.rtcp.local_addr().unwrap().port(), rtp + 1);
            assert_eq!(pair.lease.rtp_port(), rtp);
            held.push(pair);
        }
        assert_eq!(pool.in_use(), 3);
        let err = pool.allocate().unwrap_err();
        assert!(matches!(err, MediaError::PortsExhausted { .. }), "{err}");
        assert_eq!(err.sip_status(), 503);
        held.pop();
        assert_eq!(pool.in_use(), 2);
        let again = pool.allocate().unwrap();
        assert_eq!(pool.in_use(), 3);
        drop(again);
        drop(held);
        assert_eq!(pool.in_use(), 0);
    }

    #[test]
    fn a_port_taken_by_another_socket_is_skipped() {
        let squatter = UdpSocket::bind((LOOPBACK, 41020)).unwrap();
        let pool = PortPool::new(LOOPBACK, [41020, 41023]).unwrap();
        let pair = pool.allocate().unwrap();
        assert_eq!(pair.lease.rtp_port(), 41022);
        assert!(pool.allocate().is_err());
        drop(squatter);
        assert_eq!(pool.allocate().unwrap().lease.rtp_port(), 41020);
    }

    #[test]
    fn ranges_without_a_pair_are_refused() {
        assert!(matches!(
            PortPool::new(LOOPBACK, [41031, 41032]),
            Err(MediaError::BadPortRange { .. })
        ));
        assert!(PortPool::new(LOOPBACK, [0, 10]).is_err());
        assert!(PortPool::new(LOOPBACK, [41030, 41031]).is_ok());
    }
}
