//! UDP: one socket per configured address, with large kernel buffers; a task
//! per socket hands every datagram to the core.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::{Inbound, Path};

const BUFFER_BYTES: usize = 4 << 20;

pub fn bind(address: SocketAddr) -> anyhow::Result<Arc<UdpSocket>> {
    let socket =
        Socket::new(Domain::for_address(address), Type::DGRAM, Some(Protocol::UDP)).context("creating a UDP socket")?;
    if address.is_ipv6() {
        socket.set_only_v6(true).ok();
    }
    socket.set_recv_buffer_size(BUFFER_BYTES).ok();
    socket.set_send_buffer_size(BUFFER_BYTES).ok();
    socket
        .bind(&address.into())
        .with_context(|| format!("binding SIP UDP to {address}"))?;
    socket.set_nonblocking(true)?;
    let socket = UdpSocket::from_std(socket.into()).context("registering the UDP socket")?;
    Ok(Arc::new(socket))
}

/// Reads datagrams until the core goes away.
pub fn spawn_receiver(socket: Arc<UdpSocket>, index: usize, core: mpsc::Sender<Inbound>) {
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 65536];
        loop {
            let (length, peer) = match socket.recv_from(&mut buffer).await {
                Ok(received) => received,
                Err(error) => {
                    tracing::debug!(%error, "UDP receive error");
                    continue;
                }
            };
            let message = Inbound::Message {
                bytes: buffer[..length].to_vec(),
                path: Path::Udp { socket: index, peer },
                close_after: false,
            };
            match core.try_send(message) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => tracing::debug!("SIP core busy; datagram dropped"),
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
        }
    });
}
