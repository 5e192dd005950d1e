//! UDP: the socket for the configured address, with large kernel buffers.
//! The core task reads it directly (see `core::receive`).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

const BUFFER_BYTES: usize = 4 << 20;

pub fn bind(address: SocketAddr) -> anyhow::Result<Arc<UdpSocket>> {
    let socket =
        Socket::new(Domain::for_address(address), Type::DGRAM, Some(Protocol::UDP)).context("creating a UDP socket")?;
    if address.is_ipv6() {
        // `[::]` serves IPv4 too (as mapped addresses); a specific IPv6 address only IPv6.
        socket.set_only_v6(!address.ip().is_unspecified()).ok();
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
