//! Sockets: UDP datagrams and TCP streams in, bytes out. TCP connection
//! tasks only move bytes; every decision is made by the core task, which
//! reads UDP itself and owns the `Outbound` table of sockets and connections.

pub mod tcp;
pub mod tls;
pub mod udp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

pub type ConnectionId = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }
}

/// Where a message came from, and so where its answer goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    Udp {
        socket: usize,
        peer: SocketAddr,
    },
    /// A TCP connection, TLS-wrapped when `tls`.
    Tcp {
        connection: ConnectionId,
        peer: SocketAddr,
        tls: bool,
    },
}

impl Path {
    pub fn peer(&self) -> SocketAddr {
        match self {
            Path::Udp { peer, .. } | Path::Tcp { peer, .. } => *peer,
        }
    }

    pub fn transport(&self) -> Transport {
        match self {
            Path::Udp { .. } => Transport::Udp,
            Path::Tcp { tls: false, .. } => Transport::Tcp,
            Path::Tcp { tls: true, .. } => Transport::Tls,
        }
    }
}

/// What a connection task is told to do.
pub enum Write {
    Bytes(Vec<u8>),
    Close,
}

/// What transport tasks hand the core.
pub enum Inbound {
    Message {
        bytes: Vec<u8>,
        path: Path,
    },
    /// The headers of a stream message that cannot be framed (bad or repeated
    /// Content-Length, or larger than allowed): answer if possible, then close.
    Unframable {
        head: Vec<u8>,
        path: Path,
        too_large: bool,
    },
    Connected {
        connection: ConnectionId,
        writer: mpsc::UnboundedSender<Write>,
    },
    Closed {
        connection: ConnectionId,
    },
}

/// The core's handles for sending.
#[derive(Default)]
pub struct Outbound {
    pub udp: Vec<(Arc<UdpSocket>, SocketAddr)>,
    pub tcp: HashMap<ConnectionId, mpsc::UnboundedSender<Write>>,
    pub tcp_local: Option<SocketAddr>,
    pub tls_local: Option<SocketAddr>,
}

impl Outbound {
    /// Sends without waiting; a full UDP buffer or a gone connection loses
    /// the message, as UDP would (transactions retransmit).
    pub fn send(&self, path: Path, bytes: Vec<u8>) -> bool {
        match path {
            Path::Udp { socket, peer } => match self.udp.get(socket) {
                Some((socket, _)) => socket.try_send_to(&bytes, peer).is_ok(),
                None => false,
            },
            Path::Tcp { connection, .. } => match self.tcp.get(&connection) {
                Some(writer) => writer.send(Write::Bytes(bytes)).is_ok(),
                None => false,
            },
        }
    }

    pub fn close(&mut self, connection: ConnectionId) {
        if let Some(writer) = self.tcp.remove(&connection) {
            let _ = writer.send(Write::Close);
        }
    }

    /// The UDP socket that can reach `peer`: same address family, or a dual-stack `[::]`.
    pub fn udp_for(&self, peer: SocketAddr) -> Option<usize> {
        self.udp
            .iter()
            .position(|(_, local)| local.is_ipv4() == peer.is_ipv4() || local.ip() == std::net::Ipv6Addr::UNSPECIFIED)
    }

    /// Our address as seen on `path`, for a Via header.
    pub fn local_for(&self, path: Path) -> Option<SocketAddr> {
        match path {
            Path::Udp { socket, .. } => self.udp.get(socket).map(|(_, local)| *local),
            Path::Tcp { tls: false, .. } => self.tcp_local,
            Path::Tcp { tls: true, .. } => self.tls_local,
        }
    }

    /// acdd's Contact for a dialog on `path` (its 2xx to an INVITE).
    pub fn contact_for(&self, path: Path) -> Option<String> {
        let local = self.local_for(path)?;
        let scheme = if path.transport() == Transport::Tls {
            "sips"
        } else {
            "sip"
        };
        let transport = path.transport().name().to_ascii_lowercase();
        Some(format!("<{scheme}:acdd@{local};transport={transport}>"))
    }
}
