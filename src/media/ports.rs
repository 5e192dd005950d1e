//! RTP port allocation from the configured range (`listen.rtp_ports`).
//!
//! Owns which port pairs are taken: an even RTP port with RTCP on the odd port
//! above it. A pair is bound before it is handed out (a port held by another
//! program is skipped) and returns to the pool when its [`PortLease`] drops.
//! Running out is an error ([`MediaError::PortsExhausted`]), never a panic.
//!
//! A pair handed back with [`PortPair::give_back`] keeps its sockets open
//! (bound and registered with the runtime) for its next lease: a call then
//! costs no socket, bind or close. Pairs are still leased round robin, so a
//! port comes back only after the whole range, and whatever an earlier
//! call's peer sent meanwhile is read and dropped before the new lease. The
//! range bounds the open descriptors: two per pair once the range has been
//! gone through (the systemd unit allows 65,536), or fewer when the daemon
//! says so ([`PortPool::keep_open_at_most`], from its open-files limit):
//! past that, pairs given back are closed.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::UdpSocket;

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
    /// Open sockets of pairs not leased now, by pair index.
    idle: Vec<Option<(UdpSocket, UdpSocket)>>,
    idle_count: usize,
    /// At most this many pairs open, leased and idle together.
    keep_open: usize,
    in_use: usize,
    next: usize,
}

/// Two bound, non-blocking sockets (registered with the runtime) and the
/// lease that keeps their ports taken.
#[derive(Debug)]
pub struct PortPair {
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
    pub lease: PortLease,
}

impl PortPair {
    /// Frees the pair and keeps its sockets open for its next lease.
    /// (Dropping the pair instead closes them.)
    pub fn give_back(self) {
        let PortPair { rtp, rtcp, lease } = self;
        let mut state = lock(&lease.state);
        // This pair still counts in `in_use` until its lease drops.
        if state.in_use + state.idle_count <= state.keep_open {
            state.idle[lease.index] = Some((rtp, rtcp));
            state.idle_count += 1;
        }
    }
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
                idle: std::iter::repeat_with(|| None).take(pairs).collect(),
                idle_count: 0,
                keep_open: usize::MAX,
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

    /// How many pairs are open now, leased or kept for their next lease.
    pub fn open(&self) -> usize {
        let state = lock(&self.state);
        state.in_use + state.idle_count
    }

    /// Keeps at most `pairs` pairs open (leased and idle together; leases
    /// are never refused for it): pairs given back beyond it are closed.
    pub fn keep_open_at_most(&self, pairs: usize) {
        let mut state = lock(&self.state);
        state.keep_open = pairs;
        while state.in_use + state.idle_count > pairs && evict_idle(&mut state, 0) {}
    }

    /// Takes the next free pair (round robin, so a just-freed port is not
    /// reused at once), with the sockets it kept open or newly bound ones.
    /// Must run inside the runtime the sockets are registered with.
    pub fn allocate(&self) -> Result<PortPair, MediaError> {
        let mut state = lock(&self.state);
        let pairs = state.used.len();
        for step in 0..pairs {
            let index = (state.next + step) % pairs;
            if state.used[index] {
                continue;
            }
            let rtp_port = self.first_even + 2 * index as u16;
            let sockets = match state.idle[index].take() {
                Some((rtp, rtcp)) => {
                    state.idle_count -= 1;
                    drain(&rtp);
                    drain(&rtcp);
                    Some((rtp, rtcp))
                }
                None => {
                    // Room for two more descriptors: close the idle pair
                    // whose turn comes last.
                    if state.in_use + state.idle_count >= state.keep_open {
                        evict_idle(&mut state, index);
                    }
                    self.bind_pair(rtp_port)
                }
            };
            let Some((rtp, rtcp)) = sockets else {
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
        let bind = |port| -> std::io::Result<UdpSocket> {
            let socket = std::net::UdpSocket::bind(SocketAddr::new(self.ip, port))?;
            socket.set_nonblocking(true)?;
            UdpSocket::from_std(socket)
        };
        match (bind(rtp_port), bind(rtp_port + 1)) {
            (Ok(rtp), Ok(rtcp)) => Some((rtp, rtcp)),
            (Err(error), _) | (_, Err(error)) => {
                tracing::debug!(rtp_port, %error, "RTP port pair not available: skipped");
                None
            }
        }
    }
}

/// Closes the idle pair whose round-robin turn comes last as seen from
/// `index` (the one just before it); false if none is idle.
fn evict_idle(state: &mut PoolState, index: usize) -> bool {
    let pairs = state.idle.len();
    for back in 1..=pairs {
        let candidate = (index + pairs - back) % pairs;
        if state.idle[candidate].take().is_some() {
            state.idle_count -= 1;
            return true;
        }
    }
    false
}

/// Reads and drops what reached a kept socket while its pair was free. Costs
/// no system call when nothing came (the runtime knows the socket is not
/// readable).
fn drain(socket: &UdpSocket) {
    let mut sink = [0u8; 1500];
    while socket.try_recv_from(&mut sink).is_ok() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn pairs_are_even_with_rtcp_above_and_exhaustion_is_an_error() {
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

    #[tokio::test]
    async fn a_port_taken_by_another_socket_is_skipped() {
        let squatter = std::net::UdpSocket::bind((LOOPBACK, 41020)).unwrap();
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

    #[tokio::test]
    async fn a_pair_given_back_keeps_its_sockets_and_drops_what_came_meanwhile() {
        let pool = PortPool::new(LOOPBACK, [41040, 41043]).unwrap();
        let first = pool.allocate().unwrap();
        let second = pool.allocate().unwrap();
        let kept = first.rtp.local_addr().unwrap();
        second.give_back();
        first.give_back();
        assert_eq!(pool.in_use(), 0);
        // A late packet from the first call's peer reaches the free pair.
        let peer = std::net::UdpSocket::bind((LOOPBACK, 0)).unwrap();
        peer.send_to(b"stale", kept).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Round robin: the first pair comes back first, with the same socket.
        let again = pool.allocate().unwrap();
        assert_eq!(again.rtp.local_addr().unwrap(), kept);
        assert_eq!(pool.in_use(), 1);
        let mut buf = [0u8; 16];
        assert!(again.rtp.try_recv_from(&mut buf).is_err(), "the stale packet is gone");
        peer.send_to(b"fresh", kept).unwrap();
        let (len, from) = tokio::time::timeout(Duration::from_secs(2), again.rtp.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((&buf[..len], from), (&b"fresh"[..], peer.local_addr().unwrap()));
        // Dropped, not given back: the sockets close and the port is free
        // for anybody.
        drop(again);
        std::net::UdpSocket::bind(kept).unwrap();
    }

    #[tokio::test]
    async fn no_more_pairs_stay_open_than_allowed() {
        let pool = PortPool::new(LOOPBACK, [41060, 41069]).unwrap();
        pool.keep_open_at_most(2);
        let pairs: Vec<PortPair> = (0..4).map(|_| pool.allocate().unwrap()).collect();
        assert_eq!(pool.open(), 4, "leases are never refused for the limit");
        for pair in pairs {
            pair.give_back();
        }
        assert_eq!((pool.in_use(), pool.open()), (0, 2));
        // A new lease binds afresh and closes an idle pair to stay within.
        let held = pool.allocate().unwrap();
        assert_eq!(pool.open(), 2);
        pool.keep_open_at_most(0);
        assert_eq!(pool.open(), 1, "the idle pair is closed at once");
        held.give_back();
        assert_eq!(pool.open(), 0);
    }
}
